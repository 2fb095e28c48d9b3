/**
 * A connection that never sends a byte is closed after `http.timeouts.http_request`, not the longer client
 * timeout: the wait for the first byte counts against it too.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import { startLb, service, route } from '../helpers/lb.js'
import { deadPort } from '../helpers/upstream.js'

test('a silent connection is closed after http_request', async () => {
  const dead = await deadPort()
  const lb = await startLb((c) => {
    c.http.timeouts.httpRequest = 300
    c.http.timeouts.client = 60_000
    c.services = [service('svc', [dead])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const socket = connect({ host: '127.0.0.1', port: lb.port })
    socket.on('error', () => undefined)
    await once(socket, 'connect')
    const started = performance.now()
    await once(socket, 'close')
    const elapsed = performance.now() - started
    assert.ok(elapsed >= 250, `closed after ${elapsed} ms, before the timeout`)
    assert.ok(elapsed < 2_000, `closed after ${elapsed} ms`)
  } finally {
    await lb.close()
  }
})
