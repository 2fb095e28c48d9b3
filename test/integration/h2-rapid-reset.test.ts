/**
 * Rapid reset (CVE-2023-44487): a client opening and at once cancelling thousands of streams gets GOAWAY
 * ENHANCE_YOUR_CALM after `http.http2.max_resets`, and the upstream sees a bounded number of requests.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { constants } from 'node:http2'
import { startUpstream } from '../helpers/upstream.js'
import { startH2Lb } from '../helpers/h2.js'

const STREAMS = 5_000
const MAX_RESETS = 100

test('opening and resetting 5,000 streams: GOAWAY ENHANCE_YOUR_CALM, few requests upstream', async (t) => {
  const up = await startUpstream('u')
  const { session, end, close } = await startH2Lb(up.port, (c) => {
    c.http.http2.maxResets = MAX_RESETS
  })
  try {
    const { goaway, closed } = end
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
    await close()
    await up.close()
  }
})
