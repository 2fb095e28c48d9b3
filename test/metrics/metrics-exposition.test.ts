/**
 * lb's own exposition writer (src/metrics/metrics.ts + src/metrics/exposition.ts) against the prom-client implementation it
 * replaced (test/helpers/metrics-reference.ts), fed the same events: a small table where every family has
 * samples, label values that need escaping, a table swap that drops a service, and (second test) a cluster scrape
 * of two workers and the primary. Both texts are parsed into families; family order, HELP and TYPE lines and the
 * sample lines (in order) must be equal.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deserialize, serialize } from 'node:v8'
import { textOf } from '../../src/metrics/exposition.js'
import { Metrics } from '../../src/metrics/metrics.js'
import type { ControlSources } from '../../src/metrics/stats.js'
import type { MetricsReply } from '../../src/metrics/cluster.js'
import { buildTable } from '../../src/route/table.js'
import type { HttpRouteSpec } from '../../src/model/snapshot.js'
import { ReferenceMetrics, referenceAggregate } from '../helpers/metrics-reference.js'
import { spec } from '../helpers/route-spec.js'

/** What a scrape reads of a server (src/proxy/upstream.ts `Upstream`). */
interface FakeServer {
  readonly service: string
  readonly name: string
  metrics: null
  health: { active: boolean; checks: number; failedChecks: number } | null
  inflight: number
  admin: 'ready' | 'drain' | 'maint'
  up: boolean
  effectiveWeight: number
}

type ServerInit = Partial<Omit<FakeServer, 'service' | 'name' | 'metrics'>> & { readonly name: string }

/** A ServiceRuntime as metrics read it; `made: false` = upstreams not made (a scrape gets fresh views). */
function runtime(name: string, servers: readonly ServerInit[], made: boolean, queued = 0) {
  const make = (): FakeServer[] =>
    servers.map((s) => ({
      service: name,
      metrics: null,
      health: null,
      inflight: 0,
      admin: 'ready',
      up: true,
      effectiveWeight: 1,
      ...s,
    }))
  const upstreams = make()
  return {
    spec: { name },
    upstreams,
    madeUpstreams: made ? upstreams : null,
    peekUpstreams: () => (made ? upstreams : make()),
    metrics: null,
    madeQueue: queued > 0 ? { length: queued } : null,
  }
}
type Runtime = ReturnType<typeof runtime>

/** Both implementations' counting side (the same methods). */
type Counting = Metrics | ReferenceMetrics

const weird = 'we"ird\\svc\nname'
const weirdServer = 'n"o\\de\n1'

const routes: HttpRouteSpec[] = [
  spec('web', 'a.example', '/'),
  spec('web', 'b.example', '/api'),
  spec(weird, 'c.example', '/p"a\\th'),
  spec('gone', 'd.example', '/'),
  spec('tcp-db', 'e.example', '/'),
]

function services(withGone: boolean, inflight: number): Runtime[] {
  const list = [
    runtime(
      'web',
      [
        { name: 's0', inflight, effectiveWeight: 3, health: { active: true, checks: 5, failedChecks: 1 } },
        { name: 's1', up: false, health: { active: true, checks: 0, failedChecks: 0 } },
        { name: 's2', admin: 'drain', health: { active: false, checks: 9, failedChecks: 9 } },
        { name: 's3', admin: 'maint', effectiveWeight: 0 },
      ],
      true,
      2,
    ),
    runtime(weird, [{ name: weirdServer, inflight: 1 }], true),
    runtime('idle', [{ name: 'i0' }, { name: 'i1', up: false }, { name: 'i2', admin: 'maint' }], false),
    runtime('tcp-db', [{ name: 'db0' }], true),
  ]
  if (withGone) list.push(runtime('gone', [{ name: 'g0' }], true))
  return list
}

function swap(m: Counting, list: Runtime[], version: number): ReturnType<typeof buildTable> {
  const table = buildTable(
    routes.filter((r) => list.some((s) => s.spec.name === r.service)),
    { pathMatch: 'prefix' },
  )
  m.sync(table, new Map(list.map((s) => [s.spec.name, s])) as never, version)
  return table
}

function control(): ControlSources {
  return {
    reloads: () => ({ ok: 2, failed: 1 }),
    consul: () => ({
      watches: () => [
        { name: 'catalog', lastIndex: 42, errors: 0, totalErrors: 3, dataAge: 1_500 },
        { name: 'kv', lastIndex: 7, errors: 1, totalErrors: 1, dataAge: 250 },
        { name: 'web', lastIndex: 40, errors: 1, totalErrors: 1, dataAge: 2_000 },
        { name: 'api', lastIndex: 41, errors: 2, totalErrors: 2, dataAge: 500 },
      ],
      stats: { builds: 5, emits: 5, dropped: 4, [`k"${weird}`]: 1 },
    }),
    certificates: () => [
      { listener: 'https', name: 'example.test', file: '/etc/lb/a.crt', notAfter: 1_800_000_000 },
      { listener: `h"${weird}`, name: '*.example.test', file: '/etc/lb/b.crt', notAfter: 1_700_000_000 },
    ],
  }
}

/**
 * The same events on `m`: a first table with a service that is then removed (its series must go), traffic of
 * every kind, a second table of the same names, more traffic. `shift` varies the counts between workers.
 */
function play(m: Counting, shift: number, options: { control: boolean; inflight: number }): void {
  if (options.control) m.control = control()
  m.tcpListeners = () => [
    { name: 'db', active: 2 + shift },
    { name: 'l"q', active: 0 },
  ]
  const first = services(true, options.inflight)
  const t1 = swap(m, first, 1)
  const route = (host: string, t: ReturnType<typeof buildTable>) =>
    t.routes.find((r) => r.host === host) ?? null
  const [web, odd, , db, gone] = first as [Runtime, Runtime, Runtime, Runtime, Runtime]
  const ex = (svc: Runtime | null, server: number, status: number, t: ReturnType<typeof buildTable>) => ({
    route: route(
      svc === null ? 'zz' : svc === odd ? 'c.example' : svc === gone ? 'd.example' : 'a.example',
      t,
    ),
    service: svc,
    upstream: svc?.upstreams[server] ?? null,
    status,
    attempts: status === 503 ? 3 : 1,
    bytesIn: 10,
    bytesOut: 100 + status,
    tStart: 0,
    tConnect: status === 0 ? -1 : 2,
    tHeaders: status === 0 ? -1 : 40 + shift,
  })
  // A second worker counts a server first that the first one never counts: its series are not in the same order.
  if (shift > 0) m.observeHttp(ex(web, 3, 500, t1), 5)
  for (let i = 0; i < 3 + shift; i++) m.observeHttp(ex(web, 0, 200, t1), 120)
  m.observeHttp(ex(web, 0, 404, t1), 3)
  m.observeHttp(ex(web, 1, 503, t1), 2_000)
  m.observeHttp(ex(web, 0, 0, t1), 30_000)
  m.observeHttp(ex(odd, 0, 500, t1), 7)
  m.observeHttp(ex(gone, 0, 200, t1), 7)
  m.observeHttp(ex(null, 0, 404, t1), 1)
  m.observeHttp(ex(null, 0, 301, t1), 1)
  m.observeTunnel(ex(web, 1, 101, t1))
  m.observeTcp('db', db.upstreams[0] ?? null, 10, 20 + shift)
  m.observeTcp('db', db.upstreams[0] ?? null, 1, 2)
  m.observeTcp('l"q', null, 1, 2)
  m.connectError(web.upstreams[1] as FakeServer as never, 'refused')
  m.connectError(web.upstreams[2] as FakeServer as never, 'timeout')
  m.connectError(odd.upstreams[0] as FakeServer as never, 'other')
  m.connectError(gone.upstreams[0] as FakeServer as never, 'refused')
  m.checkDone(web.upstreams[0] as FakeServer as never, 3)
  m.checkDone(web.upstreams[0] as FakeServer as never, 700)

  // The next table: same names without `gone`; new runtime objects get the kept stats.
  const second = services(false, options.inflight)
  const t2 = swap(m, second, 2)
  const web2 = second[0] as Runtime
  m.observeHttp(ex(web2, 3, 200, t2), 50)
  m.checkDone(web2.upstreams[0] as FakeServer as never, 20)
  m.retainListeners(new Set(['db', 'l"q']))
}

interface Family {
  readonly head: string[]
  readonly samples: string[]
}

/** Exposition text → families by name, in order; every non-comment line must belong to the family above it. */
function parse(text: string): Map<string, Family> {
  const out = new Map<string, Family>()
  let current: Family | null = null
  let name = ''
  for (const line of text.split('\n')) {
    if (line === '') continue
    const help = /^# HELP (\S+) /.exec(line)
    if (help !== null) {
      name = help[1] as string
      assert.ok(!out.has(name), `family ${name} twice`)
      current = { head: [line], samples: [] }
      out.set(name, current)
      continue
    }
    assert.ok(current !== null, `a line before any family: ${line}`)
    if (line.startsWith('# TYPE ')) current.head.push(line)
    else {
      assert.ok(line.startsWith(name), `${line} is not of ${name}`)
      current.samples.push(line)
    }
  }
  return out
}

function assertSameFamilies(got: string, want: string): void {
  const g = parse(got)
  const w = parse(want)
  assert.deepEqual([...g.keys()], [...w.keys()], 'families and their order')
  for (const [name, f] of w) {
    const mine = g.get(name) as Family
    assert.deepEqual(mine.head, f.head, `${name}: HELP and TYPE`)
    assert.deepEqual(mine.samples, f.samples, `${name}: samples`)
  }
}

const singleCases = [
  { desc: 'counting on', options: {}, populated: true },
  {
    desc: 'metrics.enabled: false (scrape-time families only)',
    options: { enabled: false },
    populated: false,
  },
]

for (const c of singleCases) {
  test(`exposition: the writer gives prom-client’s families, HELP, labels, escaping and values (${c.desc})`, async () => {
    const mine = new Metrics(c.options)
    const reference = new ReferenceMetrics(c.options)
    play(mine, 0, { control: true, inflight: 2 })
    play(reference, 0, { control: true, inflight: 2 })
    const want = await reference.registry.metrics()
    const got = await mine.text()
    // Every family has samples here, so none is compared empty.
    if (c.populated)
      for (const [name, f] of parse(want))
        assert.ok(f.samples.length > 0, `${name} has no samples in the scenario`)
    assert.ok(
      want.includes('service="we\\"ird\\\\svc\\nname"'),
      'the escaped service name is in the reference',
    )
    assertSameFamilies(got, want)
    // The removed service's series are gone from both.
    assert.ok(!got.includes('service="gone"'), got)
  })
}

test('exposition: cluster scrape of two workers and the primary equals prom-client’s aggregate', async () => {
  const workers = [new Metrics(), new Metrics()]
  const refWorkers = [new ReferenceMetrics(), new ReferenceMetrics()]
  for (let i = 0; i < 2; i++) {
    play(workers[i] as Metrics, i * 2, { control: false, inflight: 1 + i })
    play(refWorkers[i] as ReferenceMetrics, i * 2, { control: false, inflight: 1 + i })
  }
  // The primary: the same table, its health checks and control sources, no traffic.
  const primary = new Metrics()
  const refPrimary = new ReferenceMetrics()
  for (const m of [primary, refPrimary]) {
    m.control = control()
    const list = services(false, 0)
    swap(m, list, 2)
    m.checkDone(list[0]?.upstreams[0] as FakeServer as never, 40)
  }
  // Through the IPC channel's serialization, as the primary gets them.
  const replies = await Promise.all(
    workers.map(async (w) => deserialize(serialize(await w.reply())) as MetricsReply),
  )
  const got = textOf(await primary.aggregate(replies, 1))
  const want = await referenceAggregate(
    await Promise.all(refWorkers.map((w) => w.registry.getMetricsAsJSON())),
    1,
    await refPrimary.registry.getMetricsAsJSON(),
  ).metrics()
  assertSameFamilies(got, want)
  // The per-server families summed over the workers (in-flight 1 + 2), server state from the primary alone.
  const line = (series: string) => got.split('\n').find((l) => l.startsWith(series + ' '))
  assert.equal(
    line('lb_server_inflight{service="web",server="s0"}'),
    'lb_server_inflight{service="web",server="s0"} 3',
  )
  assert.equal(
    line('lb_http_server_requests_total{service="web",server="s0",code="2xx"}'),
    'lb_http_server_requests_total{service="web",server="s0",code="2xx"} 8',
  )
  assert.equal(
    line('lb_server_state{service="web",server="s2",state="drain"}'),
    'lb_server_state{service="web",server="s2",state="drain"} 1',
  )
  assert.equal(line('lb_metrics_workers_missing'), 'lb_metrics_workers_missing 1')
})
