/** Slowloris: request headers not complete within `http.timeouts.http_request` → 408 and close. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'

test('incomplete headers get 408 and the connection is closed', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.http.timeouts.httpRequest = 400
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const socket = connect({ host: '127.0.0.1', port: lb.port })
    await new Promise<void>((r) => socket.once('connect', () => r()))
    const started = Date.now()
    socket.write('GET / HTTP/1.1\r\nHost: a.test\r\nX-Slow: ')
    let data = ''
    socket.on('data', (c: Buffer) => (data += c.toString()))
    await new Promise<void>((r) => socket.once('close', () => r()))
    const elapsed = Date.now() - started
    assert.match(data, /^HTTP\/1\.1 408 /)
    assert.ok(elapsed >= 350, `closed after ${elapsed} ms, before the timeout`)
    assert.ok(elapsed < 3_000, `closed after ${elapsed} ms`)
    assert.equal(up.requests.length, 0)
  } finally {
    await lb.close()
    await up.close()
  }
})
