/**
 * HTTP/2 backpressure: a client that does not read a 50 MB response makes lb pause the server connection (the
 * stream's writes are not taken) instead of buffering it; the client reading again gets all of it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { until } from '../helpers/lb.js'
import { startH2Lb } from '../helpers/h2.js'
import type { HttpListener } from '../../src/proxy/listeners.js'
import type { H2Stream } from '../../src/proxy/h2/stream.js'

const SIZE = 50 * 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 120)

test('a 50 MB response to a client that does not read: lb buffers a bounded amount, then streams it all', async () => {
  let written = 0
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    res.writeHead(200, { 'content-length': SIZE })
    const more = (): void => {
      while (written < SIZE) {
        written += CHUNK.length
        if (!res.write(CHUNK)) {
          res.once('drain', more)
          return
        }
      }
      res.end()
    }
    more()
  })
  const { lb, session, close } = await startH2Lb(up.port)
  try {
    const req = session.request({ ':path': '/big' })
    req.pause()
    const listener = [...lb.worker.listeners.values()][0] as HttpListener
    const active = (): H2Stream | undefined => {
      for (const s of listener.h2?.sessions ?? []) for (const h of s.streams) return h
      return undefined
    }
    // lb stops reading the server once the stream takes no more.
    await until(() => active()?.ex.upConn?.paused === true, 'the server connection paused')
    const h = active() as H2Stream
    const buffered = h.stream?.writableLength ?? 0
    assert.ok(buffered < 1024 * 1024, `${buffered} bytes waiting in lb's stream`)
    assert.ok(written < SIZE / 2, `${written} bytes written by the server before it was held`)
    let got = 0
    req.on('data', (chunk: Buffer) => (got += chunk.length))
    const ended = new Promise<void>((resolve) => req.on('end', () => resolve()))
    req.resume()
    await ended
    assert.equal(got, SIZE)
  } finally {
    await close()
    await up.close()
  }
})
