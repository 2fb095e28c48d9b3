/** 100 MiB up and 100 MiB down through lb, streamed with backpressure: lb's peak RSS stays bounded. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { startUpstream } from '../helpers/upstream.js'
import { startLbProcess } from '../helpers/process.js'

const MiB = 1024 * 1024
const TOTAL = 100 * MiB
const CHUNK = Buffer.alloc(64 * 1024, 0x61)

function source(total: number): Readable {
  let sent = 0
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null)
      sent += CHUNK.length
      this.push(CHUNK)
    },
  })
}

test('100 MiB upload and download with bounded lb memory', { timeout: 120_000 }, async () => {
  const up = await startUpstream('big', (req, res) => {
    if (req.method === 'POST') {
      let n = 0
      req.on('data', (c: Buffer) => (n += c.length))
      req.on('end', () => res.end(String(n)))
      return
    }
    res.writeHead(200, { 'content-length': String(TOTAL) })
    source(TOTAL).pipe(res)
  })
  const lb = await startLbProcess(`
listeners:
  - address: 127.0.0.1:0
services:
  - name: big
    servers:
      - address: 127.0.0.1:${up.port}
routes:
  - path: /
    service: big
log:
  level: info
  access: { enabled: false }
admin:
  address: "off"
`)
  try {
    const downloaded = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: lb.port, path: '/download' }, (res) => {
        let n = 0
        res.on('data', (c: Buffer) => (n += c.length))
        res.on('end', () => resolve(n))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(downloaded, TOTAL)

    const uploaded = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: lb.port,
          path: '/upload',
          method: 'POST',
          headers: { 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let body = ''
          res.on('data', (c: Buffer) => (body += c.toString()))
          res.on('end', () => resolve(body))
        },
      )
      req.on('error', reject)
      source(TOTAL).pipe(req)
    })
    assert.equal(uploaded, String(TOTAL))

    const peak = await lb.peakRss()
    assert.ok(peak < 160 * MiB, `lb peak RSS ${Math.round(peak / MiB)} MiB while streaming 200 MiB`)
  } finally {
    await lb.stop()
    await up.close()
  }
})
