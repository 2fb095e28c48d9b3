/**
 * A client that never reads the response holds memory bounded by socket buffers: lb stops reading from the
 * upstream (backpressure), so an upstream streaming 256 MiB gets stuck after a few MiB instead of being
 * buffered in lb.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'

const CHUNK = Buffer.alloc(64 * 1024, 0x61)
const TOTAL = 256 * 1024 * 1024
/** Generous bound for what may sit in kernel socket buffers and the streams' high-water marks on the way. */
const BOUND = 32 * 1024 * 1024

test('a client that never reads: the upstream is held back, lb does not buffer the body', async () => {
  let written = 0
  let finished = false
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) })
    const pump = (): void => {
      while (written < TOTAL) {
        written += CHUNK.length
        if (!res.write(CHUNK)) {
          res.once('drain', pump)
          return
        }
      }
      finished = true
      res.end()
    }
    res.on('close', () => res.off('drain', pump))
    pump()
  })
  const lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  const socket = connect({ host: '127.0.0.1', port: lb.port })
  socket.on('error', () => undefined)
  try {
    await new Promise<void>((r) => socket.once('connect', () => r()))
    socket.pause()
    socket.write('GET /big HTTP/1.1\r\nHost: a.test\r\n\r\n')
    // Wait (bounded: ≤ 10 s) until the upstream has made no progress for 500 ms.
    let last = -1
    for (let i = 0; i < 100 && written !== last; i++) {
      last = written
      await sleep(500)
    }
    assert.equal(finished, false)
    assert.ok(written < BOUND, `upstream wrote ${written} bytes before being held back`)
    assert.ok(written > 0)
  } finally {
    socket.destroy()
    await lb.close()
    await up.close()
  }
})
