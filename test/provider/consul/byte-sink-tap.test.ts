/**
 * A ByteSink with a tap (`stream`) sends a 200 answer's body to the tap as it arrives and keeps none of it (its
 * memory stays empty, the answer's bytes are empty); an error answer's body still comes into its memory, and the
 * tap does not see it.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { ByteSink, type BodyTap } from '../../../src/provider/consul/sink.js'

test('a tapped sink streams a 200 body to its tap and keeps an error body itself', async () => {
  const body = Buffer.alloc(3 * 1024 * 1024, 'x')
  const server = createServer((req, res) => {
    if (req.url === '/fail') {
      res.writeHead(500).end('no leader')
      return
    }
    res.writeHead(200, { 'X-Consul-Index': '7' })
    // Chunked, in several writes.
    for (let i = 0; i < body.length; i += 700_000) res.write(body.subarray(i, i + 700_000))
    res.end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const events: string[] = []
  let received = 0
  let largest = 0
  const tap: BodyTap = {
    begin: () => events.push('begin'),
    write: (_chunk, from, to) => {
      received += to - from
      largest = Math.max(largest, to - from)
    },
    finish: () => events.push('finish'),
  }
  const sink = new ByteSink()
  sink.stream(tap)
  const signal = new AbortController().signal
  try {
    const ok = await sink.get(address, '/state', '', 5000, signal)
    assert.equal(ok.status, 200)
    assert.equal(ok.index, '7')
    assert.equal(ok.bytes.length, 0)
    assert.deepEqual(events, ['begin', 'finish'])
    assert.equal(received, body.length)
    assert.ok(largest <= 64 * 1024, `one write per socket read, at most 64 KiB (${largest})`)
    assert.equal(sink.held, 0)

    const failed = await sink.get(address, '/fail', '', 5000, signal)
    assert.equal(failed.status, 500)
    assert.equal(failed.bytes.toString(), 'no leader')
    assert.deepEqual(events, ['begin', 'finish'])
  } finally {
    sink.close()
    server.close()
  }
})
