/**
 * HTTP/2 request bodies under backpressure: a server that stops reading a large upload makes lb pause the
 * client's stream (no WINDOW_UPDATE, so the client stops sending) instead of buffering the body; when the server
 * reads again the whole body arrives.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { until } from '../helpers/lb.js'
import { startH2Lb } from '../helpers/h2.js'
import type { HttpListener } from '../../src/proxy/listeners.js'
import type { H2Stream } from '../../src/proxy/h2/stream.js'

const SIZE = 50 * 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 121)

test('a 50 MB upload to a server that does not read: the client stream is held, then all of it arrives', async () => {
  let upload: { req: IncomingMessage; res: ServerResponse } | null = null
  const up = await startUpstream('u', (req, res) => {
    req.pause()
    upload = { req, res }
  })
  const { lb, session, close } = await startH2Lb(up.port)
  try {
    const req = session.request({ ':method': 'POST', ':path': '/up', 'content-length': String(SIZE) })
    let sent = 0
    let allWritten = false
    const more = (): void => {
      while (sent < SIZE) {
        sent += CHUNK.length
        if (!req.write(CHUNK)) {
          req.once('drain', more)
          return
        }
      }
      allWritten = true
      req.end()
    }
    more()
    const listener = [...lb.worker.listeners.values()][0] as HttpListener
    const active = (): H2Stream | undefined => {
      for (const s of listener.h2?.sessions ?? []) for (const h of s.streams) return h
      return undefined
    }
    // lb holds the client's stream once the server connection takes no more.
    await until(() => upload !== null && active()?.stream?.isPaused() === true, 'the client stream held')
    assert.equal(allWritten, false)
    const h = active() as H2Stream
    assert.ok(h.ex.pendingBytes < 1024 * 1024, `${h.ex.pendingBytes} body bytes kept by lb`)
    assert.ok(
      (h.stream?.readableLength ?? 0) < 1024 * 1024,
      `${h.stream?.readableLength} bytes in the stream`,
    )
    const u = upload as unknown as { req: IncomingMessage; res: ServerResponse }
    let got = 0
    u.req.on('data', (c: Buffer) => (got += c.length))
    u.req.on('end', () => u.res.end(String(got)))
    u.req.resume()
    const answer = await new Promise<string>((resolve, reject) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => resolve(body))
      req.on('error', reject)
    })
    assert.equal(answer, String(SIZE))
  } finally {
    await close()
    await up.close()
  }
})
