/**
 * Talking to Consul over plain HTTP does not load undici (client.ts `loadUndici`): undici is only for HTTPS. Its
 * load cost the cluster primary 280 ms before its first Consul request at 10,000 services, and a process about
 * 30 MB of RSS. node:test runs each file in a process of its own, so what this process loaded is what the
 * client loaded.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { createServer, type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { ConsulHttp } from '../../../src/provider/consul/client.js'
import { ByteSink } from '../../../src/provider/consul/sink.js'

const loadedUndici = (): string[] =>
  Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/node_modules/undici/'))

test('reads, a large read and a PUT over plain HTTP leave undici unloaded', async () => {
  const srv = createServer((socket) => {
    socket.on('data', () =>
      socket.write('HTTP/1.1 200 OK\r\nX-Consul-Index: 7\r\nContent-Length: 2\r\n\r\n[]'),
    )
    socket.on('error', () => {})
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const address = `127.0.0.1:${(srv.address() as AddressInfo).port}`
  const options = {
    addresses: [address],
    tls: { ca: '', cert: '', key: '', skipVerify: false },
    token: '',
    datacenter: '',
    consistency: 'default',
    wait: 1_000,
  } as const
  const http = new ConsulHttp({ ...options, scheme: 'http' })
  const signal = AbortSignal.timeout(10_000)
  const sink = new ByteSink()
  try {
    assert.equal((await http.get('/v1/catalog/services', {}, 0, signal)).text, '[]')
    assert.equal((await http.getBytes('/v1/health/state/any', {}, 0, signal, sink)).bytes.toString(), '[]')
    assert.equal((await http.put('/v1/agent/service/register', { Name: 'lb' }, signal)).status, 200)
    assert.deepEqual(loadedUndici(), [])
    // The check can see undici: an HTTPS client loads it (its request then fails on the plain server).
    const tls = new ConsulHttp({ ...options, scheme: 'https' })
    await assert.rejects(tls.get('/v1/catalog/services', {}, 0, signal))
    await tls.close()
    assert.notDeepEqual(loadedUndici(), [])
  } finally {
    sink.close()
    await http.close()
    srv.close()
  }
})
