/**
 * ByteSink.get (sink.ts) reads an HTTP/1.1 answer straight from its socket into the sink's memory: every body
 * framing (chunked, Content-Length, until close), whatever way the bytes are split across socket reads.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'node:test'
import fc from 'fast-check'
import { ByteSink } from '../../../src/provider/consul/sink.js'

/**
 * A server that answers each request with `answer`, written in pieces cut at `cuts`, one write per turn, and then
 * closes the connection if `end`.
 */
async function rawServer(): Promise<{
  address: string
  next: (answer: Buffer, cuts: number[], end: boolean) => void
  close: () => Promise<void>
}> {
  let answer: Buffer = Buffer.alloc(0)
  let cuts: number[] = []
  let end = false
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let head = ''
    socket.on('data', (d) => {
      head += d.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      head = ''
      // This request's answer: the test sets the next one as soon as this one is read.
      const [body, close] = [answer, end]
      const at = [0, ...cuts.filter((c) => c > 0 && c < body.length).sort((a, b) => a - b), body.length]
      const write = (k: number): void => {
        if (socket.destroyed) return
        if (k + 1 >= at.length) {
          if (close) socket.end()
          return
        }
        socket.write(body.subarray(at[k], at[k + 1]))
        setImmediate(write, k + 1)
      }
      write(0)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    next: (a, c, e) => {
      answer = a
      cuts = c
      end = e
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

function chunked(body: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (const size of sizes) {
    if (at >= body.length) break
    const piece = body.subarray(at, at + Math.max(1, size))
    at += piece.length
    parts.push(
      Buffer.from(`${piece.length.toString(16)}${size % 3 === 0 ? ';ext=1' : ''}\r\n`),
      piece,
      Buffer.from('\r\n'),
    )
  }
  if (at < body.length)
    parts.push(Buffer.from(`${(body.length - at).toString(16)}\r\n`), body.subarray(at), Buffer.from('\r\n'))
  parts.push(Buffer.from('0\r\nX-Trailer: t\r\n\r\n'))
  return Buffer.concat(parts)
}

test('a sink reads chunked, Content-Length and until-close bodies, however the reads split them', async () => {
  const server = await rawServer()
  const sink = new ByteSink()
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 4000 }), { maxLength: 10 }),
        fc.constantFrom('chunked', 'length', 'close'),
        fc.integer({ min: 1, max: 1e9 }),
        async (raw, sizes, cuts, framing, index) => {
          const body = Buffer.from(raw)
          const head =
            framing === 'chunked'
              ? 'Transfer-Encoding: chunked\r\n'
              : framing === 'length'
                ? `Content-Length: ${body.length}\r\n`
                : 'Connection: close\r\n'
          const answer = Buffer.concat([
            Buffer.from(
              `HTTP/1.1 200 OK\r\nX-Consul-Index: ${index}\r\nContent-Type: application/json\r\n${head}\r\n`,
            ),
            framing === 'chunked' ? chunked(body, sizes) : body,
          ])
          server.next(answer, cuts, framing === 'close')
          const got = await sink.get(
            server.address,
            '/v1/health/state/any?index=1',
            '',
            5_000,
            AbortSignal.timeout(5_000),
          )
          assert.equal(got.status, 200)
          assert.equal(got.index, String(index))
          assert.deepEqual(Buffer.from(got.bytes), body)
        },
      ),
      { numRuns: 150 },
    )
  } finally {
    sink.close()
    await server.close()
  }
})

test('a sink finds the end of a head wherever the reads cut it', async () => {
  const server = await rawServer()
  const sink = new ByteSink()
  const answer = Buffer.from('HTTP/1.1 200 OK\r\nX-Consul-Index: 12\r\nContent-Length: 2\r\n\r\n[]')
  const cuts = [
    ...Array.from({ length: answer.length - 1 }, (_, k) => [k + 1]),
    Array.from(answer, (_, k) => k),
  ]
  try {
    for (const at of cuts) {
      server.next(answer, at, false)
      const got = await sink.get(server.address, '/', '', 5_000, AbortSignal.timeout(5_000))
      const what = at.length === 1 ? `cut at ${at[0]}` : 'a byte per write'
      assert.equal(got.index, '12', what)
      assert.equal(got.bytes.toString(), '[]', what)
    }
  } finally {
    sink.close()
    await server.close()
  }
})
