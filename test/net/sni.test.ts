/** ClientHello SNI extraction from real Node TLS client hellos, and the non-TLS / partial cases. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { connect } from 'node:tls'
import { once } from 'node:events'
import { parseClientHelloSni } from '../../src/net/sni.js'

async function clientHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer()
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r))
  const got = once(server, 'connection')
  const c = connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    rejectUnauthorized: false,
    ...(servername === undefined ? {} : { servername }),
  })
  c.on('error', () => {})
  const [sock] = (await got) as [Socket]
  const [data] = (await once(sock, 'data')) as [Buffer]
  c.destroy()
  sock.destroy()
  server.close()
  return data
}

test('sni: the server name of a real ClientHello, lower-cased; partial input is incomplete', async () => {
  const hello = await clientHello('API.Example.test')
  assert.deepEqual(parseClientHelloSni(hello), { status: 'ok', serverName: 'api.example.test' })
  assert.deepEqual(parseClientHelloSni(hello.subarray(0, 3)), { status: 'incomplete' })
  assert.deepEqual(parseClientHelloSni(hello.subarray(0, 60)), { status: 'incomplete' })
})

test('sni: no server_name (IP literal target), not TLS', async () => {
  const hello = await clientHello(undefined)
  assert.equal(parseClientHelloSni(hello).status, 'none')
  assert.equal(parseClientHelloSni(Buffer.from('GET / HTTP/1.1\r\n')).status, 'none')
  assert.equal(parseClientHelloSni(Buffer.from([0x16])).status, 'incomplete')
})
