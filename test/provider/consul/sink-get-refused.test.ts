/**
 * ByteSink.get (sink.ts) refuses an answer it cannot read with certainty — a bad status line, a bad chunk size,
 * bytes after the answer, a head past HEAD_MAX, a connection closed mid-body — with an error, closes that
 * connection, and reads the next answer on a new one.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'node:test'
import { ByteSink, HEAD_MAX } from '../../../src/provider/consul/sink.js'

const GOOD = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]'

const bad: [string, string, RegExp][] = [
  ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n', /status line/],
  [
    'a bad chunk size',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n',
    /chunk size/,
  ],
  [
    'a chunk not ended by CRLF',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n',
    /CRLF/,
  ],
  [
    'two different lengths',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]',
    /Content-Length/,
  ],
  ['gzip', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /Transfer-Encoding/],
  [
    'both framings',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    /both Content-Length and Transfer-Encoding/,
  ],
  ['bytes after the answer', `${GOOD}HTTP/1.1 200 OK\r\n`, /after the answer/],
  ['a head too large', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(HEAD_MAX)}\r\n\r\n`, /head larger/],
  ['a body cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]', /closed before/],
]

test('a sink refuses answers it cannot read, and reads the next one on a new connection', async () => {
  let next = ''
  let closeAfter = false
  let connections = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (d) => {
      head += d.toString('latin1')
      if (!head.endsWith('\r\n\r\n')) return
      head = ''
      socket.write(next)
      if (closeAfter) socket.end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const sink = new ByteSink()
  try {
    for (const [what, answer, error] of bad) {
      next = answer
      closeAfter = what === 'a body cut short'
      await assert.rejects(sink.get(address, '/', '', 5_000, AbortSignal.timeout(5_000)), error, what)
      next = GOOD
      closeAfter = false
      const before = connections
      const ok = await sink.get(address, '/', '', 5_000, AbortSignal.timeout(5_000))
      assert.equal(ok.bytes.toString(), '[]', `${what}: the next answer is read`)
      assert.equal(connections, before + 1, `${what}: on a new connection`)
    }
  } finally {
    sink.close()
    for (const s of sockets) s.destroy()
    server.close()
  }
})
