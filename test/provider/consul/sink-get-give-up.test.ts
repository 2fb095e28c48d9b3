/**
 * ByteSink.get (sink.ts) gives up on a request when its signal aborts or when no byte came for `timeout` ms, and
 * closes that connection (a blocking query left open would hold the server's goroutine and lb's socket).
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'node:test'
import { ByteSink } from '../../../src/provider/consul/sink.js'

test('a sink gives up on an aborted request and on one without an answer in time, closing the connection', async () => {
  const sockets: Socket[] = []
  const closed: Promise<unknown>[] = []
  const server = createServer((socket) => {
    sockets.push(socket)
    closed.push(once(socket, 'close'))
    socket.on('error', () => {})
    // Read the requests (and so see the end of the connection), never answer.
    socket.resume()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const sink = new ByteSink()
  try {
    const stop = new AbortController()
    const pending = sink.get(address, '/v1/health/state/any?index=5', '', 60_000, stop.signal)
    while (sockets.length === 0) await once(server, 'connection')
    stop.abort(new Error('watch stopped'))
    await assert.rejects(pending, /watch stopped/)
    await closed[0]
    await assert.rejects(sink.get(address, '/', '', 50, AbortSignal.timeout(10_000)), /no answer in time/)
    assert.equal(sockets.length, 2)
    await closed[1]
    const aborted = AbortSignal.abort(new Error('already'))
    await assert.rejects(sink.get(address, '/', '', 1_000, aborted), /already/)
    assert.equal(sockets.length, 2, 'nothing sent once aborted')
  } finally {
    sink.close()
    for (const s of sockets) s.destroy()
    server.close()
  }
})
