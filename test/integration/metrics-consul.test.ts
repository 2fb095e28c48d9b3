/**
 * Consul watch metrics read from the real provider's watch state at scrape time: catalog and per-service watches
 * (folded into `services`) with their index, data age and errors, and the provider's problem counters.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startConsulFixture } from '../helpers/consul-lb.js'

function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n'))
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1))
  return undefined
}

test('metrics: Consul watch state of a running provider', async () => {
  const f = await startConsulFixture('web', 'urlprefix-/web/', '/web/', ['web-1'])
  try {
    const metrics = f.t.lb.worker.metrics
    metrics.control = { reloads: () => ({ ok: 0, failed: 0 }), consul: () => f.t.provider }
    const text = await metrics.text()
    for (const watch of ['catalog', 'services']) {
      assert.ok((value(text, `lb_consul_watch_last_index{watch="${watch}"}`) ?? 0) > 0, `${watch}\n${text}`)
      const age = value(text, `lb_consul_watch_data_age_seconds{watch="${watch}"}`)
      assert.ok(age !== undefined && age >= 0 && age < 60, `${watch} age ${age}`)
      assert.equal(value(text, `lb_consul_watch_errors{watch="${watch}"}`), 0)
    }
    assert.equal(value(text, 'lb_consul_problems_total{kind="dropped"}'), 0, text)

    // Without a Consul provider the families are empty, not an error.
    metrics.control = { reloads: () => ({ ok: 0, failed: 0 }), consul: () => null }
    const none = await metrics.text()
    assert.equal(value(none, 'lb_consul_watch_last_index{watch="catalog"}'), undefined)
  } finally {
    await f.close()
  }
})
