/**
 * metrics.ts: the process metrics (prom-client's, imported when first needed: src/metrics/prom-client.ts) are in
 * the first scrape even when it comes before PROCESS_METRICS_DELAY, in a worker's reply too; and not there
 * when they are off.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { Metrics } from '../../src/metrics/metrics.js'

test('a scrape before the delay has the process metrics; none when they are off', async () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const on = new Metrics({ processMetrics: true })
    assert.match(await on.text(), /^process_cpu_user_seconds_total /m)
    const reply = await on.reply()
    assert.ok(
      reply.process.some((m) => (m as { name?: string }).name === 'process_cpu_user_seconds_total'),
      JSON.stringify(reply.process.map((m) => (m as { name?: string }).name)),
    )
    const off = new Metrics({ processMetrics: false })
    assert.doesNotMatch(await off.text(), /^process_/m)
    assert.deepEqual((await off.reply()).process, [])
  } finally {
    mock.timers.reset()
  }
})
