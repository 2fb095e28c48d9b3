/** metrics.ts: bucket counting, and the cluster aggregate (workers' traffic + the primary's control families). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Metrics } from '../../src/metrics/metrics.js'
import { Buckets } from '../../src/metrics/stats.js'
import type { MetricsReply } from '../../src/metrics/cluster.js'
import { textOf } from '../../src/metrics/exposition.js'
import { buildTable } from '../../src/route/table.js'
import { spec } from '../helpers/route-spec.js'

test('Buckets: a value lands in the first bucket whose bound is >= it; above all bounds in +Inf', () => {
  const b = new Buckets([0.1, 1])
  for (const v of [0.05, 0.1, 0.5, 1, 3]) b.observe(v)
  assert.deepEqual([...b.counts], [2, 2, 1])
  assert.equal(b.count, 5)
  assert.ok(Math.abs(b.sum - 4.65) < 1e-9)
})

function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n'))
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1))
  return undefined
}

test('aggregate: counts summed, table version = the oldest worker, control families from the primary only', async () => {
  const table = buildTable([spec('a', 'a.example', '/')], { pathMatch: 'prefix' })
  const worker = async (version: number, served: number): Promise<MetricsReply> => {
    const m = new Metrics()
    m.sync(table, new Map(), version)
    for (let i = 0; i < served; i++) m.observeTcp('db', null, 1, 1)
    const reply = await m.reply()
    // A worker's copy of a control family (it sends none) must be dropped, not added to the primary's.
    return {
      ...reply,
      families: [
        ...reply.families,
        { name: 'lb_config_reloads_total', series: '{result="ok"}\n', values: Float64Array.of(99) },
      ],
    }
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
  const text = textOf(await primary.aggregate([await worker(3, 10), await worker(2, 5)], 0))
  assert.equal(value(text, 'lb_route_table_version'), 2)
  assert.equal(value(text, 'lb_route_table_routes'), 1)
  assert.equal(value(text, 'lb_tcp_connections_total{listener="db"}'), 15)
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
  const text = await m.text()
  assert.equal(value(text, 'lb_http_requests_total{service="<none>",code="4xx"}'), 2, text)
})

test('stats objects: created on a name’s first count, kept across a table swap, none for names that never count', async () => {
  const m = new Metrics()
  // What a scrape reads of a server and a service, besides the names.
  const server = (svc: string, name: string) => ({
    service: svc,
    name,
    metrics: null,
    health: null,
    inflight: 0,
    admin: 'ready',
    up: true,
    effectiveWeight: 1,
  })
  const runtime = (name: string, servers: string[]) => {
    const upstreams = servers.map((s) => server(name, s))
    return {
      spec: { name },
      upstreams,
      madeUpstreams: upstreams,
      peekUpstreams: () => upstreams,
      metrics: null,
      madeQueue: null,
    }
  }
  const table = buildTable([spec('a', 'a.example', '/')], {
    pathMatch: 'prefix',
  })
  const swap = (t: typeof table, services: ReturnType<typeof runtime>[]): void =>
    m.sync(t, new Map(services.map((s) => [s.spec.name, s])) as never, 1)
  const one = [runtime('a', ['s0', 's1']), runtime('idle', ['s0'])]
  swap(table, one)
  const [a, idle] = one as [ReturnType<typeof runtime>, ReturnType<typeof runtime>]
  assert.equal(a.metrics, null)
  const route = table.routes[0] ?? null
  const ex = {
    route,
    service: a,
    upstream: a.upstreams[1] ?? null,
    status: 200,
    attempts: 1,
    bytesIn: 0,
    bytesOut: 5,
    tStart: 0,
    tConnect: 1,
    tHeaders: 2,
  }
  m.observeHttp(ex, 3)
  assert.notEqual(a.metrics, null)
  assert.equal(a.upstreams[0]?.metrics, null, 'a server that served nothing has no stats')
  assert.equal(idle.metrics, null)
  // The next table: new runtime objects of the same names get the same stats objects back.
  const two = [runtime('a', ['s0', 's1']), runtime('idle', ['s0'])]
  const table2 = buildTable([spec('a', 'a.example', '/')], {
    pathMatch: 'prefix',
  })
  swap(table2, two)
  assert.equal(two[0]?.metrics, a.metrics)
  assert.equal(two[0]?.upstreams[1]?.metrics, a.upstreams[1]?.metrics)
  assert.equal(two[1]?.metrics, null)
  m.observeHttp(
    {
      ...ex,
      route: table2.routes[0] ?? null,
      service: two[0] ?? null,
      upstream: two[0]?.upstreams[1] ?? null,
    },
    3,
  )
  const text = await m.text()
  assert.equal(value(text, 'lb_http_requests_total{service="a",code="2xx"}'), 2, text)
  assert.equal(value(text, 'lb_http_server_requests_total{service="a",server="s1",code="2xx"}'), 2, text)
  assert.equal(value(text, 'lb_http_route_requests_total{route="a.example/",code="2xx"}'), 2, text)
  assert.equal(value(text, 'lb_http_request_duration_seconds_count{service="a"}'), 2, text)
  // Scrape-time gauges (state, weight, in-flight) list every server; the request families only what counted.
  assert.ok(!text.includes('lb_http_request_duration_seconds_count{service="idle"}'), text)
  assert.ok(!text.includes('lb_http_bytes_total{service="idle"'), text)
  // A request still running on a server of an older table whose service is gone is not counted.
  swap(table2, [])
  m.observeHttp(ex, 3)
  assert.ok(!(await m.text()).includes('service="a"'))
  assert.equal(a.upstreams[0]?.metrics, null)
})
