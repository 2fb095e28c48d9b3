/**
 * Rapid reset (CVE-2023-44487): a client opening and at once cancelling thousands of streams gets GOAWAY
 * ENHANCE_YOUR_CALM after `http.http2.max_resets`, and the upstream sees a bounded number of requests.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { constants } from 'node:http2'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'
import { h2Connect } from '../helpers/h2.js'

const STREAMS = 5_000
const MAX_RESETS = 100

test('opening and resetting 5,000 streams: GOAWAY ENHANCE_YOUR_CALM, few requests upstream', async (t) => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.http.http2.maxResets = MAX_RESETS
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  const session = await h2Connect(lb.port)
  try {
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)))
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()))
    const cpu = process.cpuUsage()
    for (let i = 0; i < STREAMS && !session.closed && !session.destroyed; i++) {
      const req = session.request({ ':path': `/r${i}` })
      req.on('error', () => {})
      req.close(constants.NGHTTP2_CANCEL)
    }
    assert.equal(await goaway, constants.NGHTTP2_ENHANCE_YOUR_CALM)
    await closed
    const used = process.cpuUsage(cpu)
    // lb and the client share this process: the figure is both, logged only.
    t.diagnostic(
      `cpu for ${STREAMS} streams opened and reset (client and lb): ${Math.round((used.user + used.system) / 1000)} ms`,
    )
    // Each stream may have reached the upstream before its reset; past the limit the connection is gone.
    assert.ok(up.requests.length <= MAX_RESETS + 100, `${up.requests.length} requests upstream`)
  } finally {
    session.destroy()
    await lb.close()
    await up.close()
    d.remove()
  }
})
