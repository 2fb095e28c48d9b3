/**
 * A client that stops sending its request body is cut off after `http.timeouts.client` of inactivity, and the
 * upstream request is aborted rather than left waiting.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { startRawUpstream } from '../hardening/raw.js'
import { startLb, service, route, until } from '../helpers/lb.js'

test('a stalled request body: client closed after the client timeout, upstream connection closed', async () => {
  const up = await startRawUpstream()
  const lb = await startLb((c) => {
    c.http.timeouts.client = 400
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const socket = connect({ host: '127.0.0.1', port: lb.port })
    socket.on('error', () => undefined)
    await new Promise<void>((r) => socket.once('connect', () => r()))
    socket.write('POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000\r\n\r\nfirst-bytes')
    const started = Date.now()
    await until(() => up.bytes().includes('first-bytes'), 'the body start to reach the upstream')
    await new Promise<void>((r) => socket.once('close', () => r()))
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 300, `closed after ${elapsed} ms, before the timeout`)
    assert.ok(elapsed < 5_000, `closed after ${elapsed} ms`)
    // The connection that carried the request is closed at once (undici may open a fresh idle one).
    await until(() => up.openConnections() === 0, 'lb to close the upstream connection')
  } finally {
    await lb.close()
    await up.close()
  }
})
