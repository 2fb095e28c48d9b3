/** metrics.ts: bucket counting, and the cluster aggregate (workers' traffic + the primary's control families). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Buckets, Metrics, aggregate, connectReason } from '../src/metrics.js'

test('Buckets: a value lands in the first bucket whose bound is >= it; above all bounds in +Inf', () => {
  const b = new Buckets([0.1, 1])
  for (const v of [0.05, 0.1, 0.5, 1, 3]) b.observe(v)
  assert.deepEqual([...b.counts], [2, 2, 1])
  assert.equal(b.count, 5)
  assert.ok(Math.abs(b.sum - 4.65) < 1e-9)
})

test('connectReason: error codes to reason labels', () => {
  const cases: [string, string][] = [
    ['ECONNREFUSED', 'refused'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
    ['ECONNRESET', 'reset'],
    ['ENOTFOUND', 'resolve'],
    ['EHOSTUNREACH', 'other'],
  ]
  for (const [code, want] of cases) assert.equal(connectReason(code), want, code)
})

function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n'))
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1))
  return undefined
}

test('aggregate: counts summed, table version = the oldest worker, control families from the primary only', async () => {
  const worker = async (version: number, served: number): Promise<object[]> => {
    const m = new Metrics()
    // A worker's copy of a control family must be dropped, not added to the primary's.
    m.control = { reloads: () => ({ ok: 99, failed: 99 }), consul: () => null }
    const json = (await m.registry.getMetricsAsJSON()) as unknown as {
      name: string
      values: { value: number; labels: object }[]
    }[]
    for (const f of json) {
      if (f.name === 'lb_route_table_version') f.values = [{ value: version, labels: {} }]
      if (f.name === 'lb_route_table_routes') f.values = [{ value: 7, labels: {} }]
      if (f.name === 'lb_tcp_connections_total') f.values = [{ value: served, labels: {} }]
    }
    return json
  }
  const primary = new Metrics()
  primary.control = {
    reloads: () => ({ ok: 2, failed: 1 }),
    consul: () => ({
      watches: () => [
        { name: 'catalog', lastIndex: 42, errors: 0, totalErrors: 3, dataAge: 1_500 },
        { name: 'web', lastIndex: 40, errors: 1, totalErrors: 1, dataAge: 2_000 },
        { name: 'api', lastIndex: 41, errors: 2, totalErrors: 2, dataAge: 500 },
      ],
      stats: { builds: 5, emits: 5, dropped: 4, warnings: 1 },
    }),
  }
  const own = await primary.registry.getMetricsAsJSON()
  const text = await aggregate([await worker(3, 10), await worker(2, 5)], 0, own).metrics()
  assert.equal(value(text, 'lb_route_table_version'), 2)
  assert.equal(value(text, 'lb_route_table_routes'), 7)
  assert.equal(value(text, 'lb_tcp_connections_total'), 15)
  assert.equal(value(text, 'lb_config_reloads_total{result="ok"}'), 2)
  assert.equal(value(text, 'lb_config_reloads_total{result="failed"}'), 1)
  assert.equal(value(text, 'lb_consul_watch_last_index{watch="catalog"}'), 42)
  assert.equal(value(text, 'lb_consul_watch_last_index{watch="services"}'), 41)
  assert.equal(value(text, 'lb_consul_watch_errors{watch="services"}'), 3)
  assert.equal(value(text, 'lb_consul_watch_data_age_seconds{watch="services"}'), 2)
  assert.equal(value(text, 'lb_consul_watch_errors_total{watch="catalog"}'), 3)
  assert.equal(value(text, 'lb_consul_problems_total{kind="dropped"}'), 4)
  assert.equal(value(text, 'lb_consul_problems_total{kind="builds"}'), undefined)
  assert.equal(value(text, 'lb_metrics_workers_missing'), 0)
})

test('observeHttp: requests without a service (no route, denied, redirect) count under service="<none>"', async () => {
  const m = new Metrics()
  const ex = {
    route: null,
    service: null,
    upstream: null,
    status: 404,
    attempts: 0,
    bytesIn: 0,
    bytesOut: 10,
    tStart: 0,
    tConnect: -1,
    tHeaders: -1,
  }
  m.observeHttp(ex, 1)
  m.observeHttp(ex, 2)
  const text = await m.registry.metrics()
  assert.equal(value(text, 'lb_http_requests_total{service="<none>",code="4xx"}'), 2, text)
})
