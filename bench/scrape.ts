/**
 * The cost of one /metrics scrape with a Consul-sized table: N services × 3 servers (default 10,000), two routes
 * per service (the Consul shape of bench/consul-rebuild.ts: build.ts → merge → worker.apply), traffic counted on
 * a fraction of the services (`--traffic`, default 0.1: requests on every server and route of those services,
 * some 5xx, a connect error and a TCP session per server). Each run is a fresh process (`--expose-gc`), so the
 * first scrape is what a new lb pays (cold code, first-time allocations) and the second one the steady state.
 *
 * Modes:
 * - `single` (default): lb with `workers: 0`, what admin /metrics returns (`Primary.metrics()` without a pool):
 *   the text of the process's registry, process metrics and control families included.
 * - `cluster`: both halves of a cluster scrape in one process. Worker side: the reply a worker sends for
 *   `lb:metrics`, through v8.serialize (the IPC channel's `advanced` serialization). Primary side: deserialize
 *   `--workers` replies (default 2), aggregate them with the primary's own families and write the text. The
 *   RSS is the one process's (both halves), so only its growth means something.
 *
 * Per run it prints the time of the first and the second scrape (wall and CPU ms), the text's size and line
 * count, and VmRSS before the first scrape (after a full GC), right after each scrape, and after a full GC at the
 * end; `rss +` is the growth from before to the highest of the two after-scrape readings. VmHWM (the peak) is
 * also printed: it includes building the table, so it is only an upper bound.
 *
 *   npm run build && node dist/bench/scrape.js [--services 10000] [--runs 3] [--traffic 0.1]
 *                                              [--mode single|cluster] [--workers 2]
 *
 * `LB_CPU_PROFILE=<file>` writes a CPU profile of the first scrape (Chrome DevTools format; of the first run).
 */
import { fork } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { deserialize, serialize } from 'node:v8'
import { pino } from 'pino'
import { defaultConfig, type MutableConfig } from '../src/config/schema.js'
import { aggregate, Metrics, type ObservedExchange } from '../src/metrics.js'
import { buildSnapshot, minimalEntries, type HealthEntry } from '../src/provider/consul/build.js'
import { merge } from '../src/provider/merge.js'
import type { Route } from '../src/route/table.js'
import { Worker } from '../src/worker.js'
import { healthBody } from './consul-rebuild.js'
import { fail, isEntryPoint, statusKb, wholeNumber } from './load.js'

const USAGE =
  'usage: node dist/bench/scrape.js [--services N] [--runs N] [--traffic FRACTION] [--mode single|cluster] [--workers N]'

interface Options {
  services: number
  runs: number
  traffic: number
  mode: 'single' | 'cluster'
  workers: number
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { services: 10_000, runs: 3, traffic: 0.1, mode: 'single', workers: 2 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--services') o.services = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--runs') o.runs = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--workers') o.workers = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--traffic') {
      o.traffic = Number(argv[++i])
      if (!(o.traffic >= 0 && o.traffic <= 1)) fail(USAGE)
    } else if (arg === '--mode') {
      const m = argv[++i]
      if (m !== 'single' && m !== 'cluster') fail(USAGE)
      o.mode = m
    } else fail(USAGE)
  }
  return o
}

/** One run's numbers (the child's answer). */
interface Result {
  firstMs: number
  firstCpuMs: number
  secondMs: number
  secondCpuMs: number
  /** Cluster mode: the worker half of the first scrape (reply + serialize) and its serialized size. */
  workerMs: number
  replyBytes: number
  bytes: number
  lines: number
  rssBefore: number
  rssFirst: number
  rssSecond: number
  rssAfterGc: number
  hwm: number
  stealPercent: number
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

function rssMb(): number {
  return statusKb(process.pid, 'VmRSS') / 1024
}

/** CPU steal and total jiffies of the machine (/proc/stat `cpu` line). */
function cpuTimes(): { steal: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1)
  const n = fields.map(Number)
  return { steal: n[7] ?? 0, total: n.reduce((a, b) => a + b, 0) }
}

/** lb's state with `services` Consul services × 3 servers and traffic on a `traffic` fraction of them. */
async function setUp(services: number, traffic: number): Promise<Worker> {
  const health = new Map<string, readonly HealthEntry[]>()
  for (let s = 0; s < services; s++)
    health.set(`svc-${s}`, minimalEntries(JSON.parse(healthBody(s)) as unknown[]))
  const snapshot = merge([
    {
      provider: 'consul',
      snapshot: buildSnapshot(
        { health, kv: [] },
        {
          tagPrefix: 'urlprefix-',
          status: ['passing'],
          routeWithoutChecks: false,
          dc: 'dc1',
          defaults: defaultConfig.defaults,
        },
      ).snapshot,
    },
  ])
  health.clear()
  const config = structuredClone(defaultConfig) as MutableConfig
  config.listeners = []
  const silent = pino({ level: 'silent' })
  // As the single-process daemon makes it (src/primary.ts): process metrics on, control families set.
  const worker = new Worker({
    config,
    log: silent,
    accessLog: silent,
    metrics: new Metrics({ processMetrics: true, enabled: true }),
  })
  worker.metrics.control = {
    reloads: () => ({ ok: 3, failed: 1 }),
    consul: () => ({
      watches: () => [
        { name: 'catalog', lastIndex: 420, errors: 0, totalErrors: 2, dataAge: 1_200 },
        { name: 'kv', lastIndex: 17, errors: 0, totalErrors: 0, dataAge: 900 },
      ],
      stats: { builds: 12, emits: 12, dropped: 3, warnings: 1 },
    }),
  }
  await worker.apply(snapshot)
  countTraffic(worker, traffic)
  return worker
}

/** Requests on every server and route of every (1/traffic)-th service: 2xx, 4xx, 5xx, a connect error, TCP. */
function countTraffic(worker: Worker, traffic: number): void {
  if (traffic === 0) return
  const { table, services } = worker.state
  const routesOf = new Map<string, Route[]>()
  for (const r of table.routes) {
    const list = routesOf.get(r.service)
    if (list === undefined) routesOf.set(r.service, [r])
    else list.push(r)
  }
  const every = Math.max(1, Math.round(1 / traffic))
  const m = worker.metrics
  let i = 0
  for (const svc of services.values()) {
    if (i++ % every !== 0) continue
    const routes = routesOf.get(svc.spec.name) ?? []
    const ups = svc.upstreams
    for (let u = 0; u < ups.length; u++) {
      const up = ups[u]
      if (up === undefined) continue
      for (let n = 0; n < 10; n++) {
        const ex: ObservedExchange = {
          route: routes[n % Math.max(1, routes.length)] ?? null,
          service: svc,
          upstream: up,
          status: n === 9 ? 503 : n === 8 ? 404 : 200,
          attempts: n === 7 ? 2 : 1,
          bytesIn: 100,
          bytesOut: 2_000 + n,
          tStart: 0,
          tConnect: 1 + n,
          tHeaders: 3 + 2 * n,
        }
        m.observeHttp(ex, 5 + 3 * n)
      }
      m.connectError(up, u === 0 ? 'refused' : 'timeout')
      m.observeTcp('db', up, 300, 4_000)
    }
  }
}

// The scrape as lb does it (src/primary.ts `metrics()`, src/worker.ts `lb:metrics`).

async function scrapeSingle(worker: Worker): Promise<string> {
  return worker.metrics.registry.metrics()
}

async function workerReply(worker: Worker): Promise<Buffer> {
  return serialize(await worker.metrics.registry.getMetricsAsJSON())
}

async function primaryText(replies: readonly Buffer[], own: Worker): Promise<string> {
  const parsed = replies.map((r) => deserialize(r) as object[])
  return aggregate(parsed, 0, await own.metrics.registry.getMetricsAsJSON()).metrics()
}

function measureText(text: string): { bytes: number; lines: number } {
  let lines = 0
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++
  return { bytes: Buffer.byteLength(text), lines }
}

async function timed(f: () => Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await f()
  const ms = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { ms, cpuMs: (c.user + c.system) / 1000 }
}

async function child(o: Options): Promise<Result> {
  const worker = await setUp(o.services, o.traffic)
  gc()
  gc()
  const rssBefore = rssMb()
  const cpu0 = cpuTimes()
  let workerMs = 0
  let replyBytes = 0
  const scrape = async (): Promise<string> => {
    if (o.mode === 'single') return scrapeSingle(worker)
    const t0 = performance.now()
    const reply = await workerReply(worker)
    workerMs = performance.now() - t0
    replyBytes = reply.length
    const replies: Buffer[] = []
    for (let w = 0; w < o.workers; w++) replies.push(w === 0 ? reply : Buffer.from(reply))
    return primaryText(replies, worker)
  }
  const profile = process.env.LB_CPU_PROFILE
  const session = profile === undefined || profile === '' ? null : new Session()
  if (session !== null) {
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  // The text is dropped after its size is taken: in lb it is garbage once sent, so it is not held through the
  // second scrape either.
  const held = { text: '' }
  const first = await timed(async () => {
    held.text = await scrape()
  })
  if (session !== null && profile !== undefined) {
    const { profile: p } = await session.post('Profiler.stop')
    writeFileSync(profile, JSON.stringify(p))
    session.disconnect()
  }
  const rssFirst = rssMb()
  const size = measureText(held.text)
  held.text = ''
  const firstWorkerMs = workerMs
  const second = await timed(async () => {
    held.text = await scrape()
  })
  const rssSecond = rssMb()
  held.text = ''
  const cpu1 = cpuTimes()
  gc()
  const rssAfterGc = rssMb()
  await worker.stop(100)
  return {
    firstMs: first.ms,
    firstCpuMs: first.cpuMs,
    secondMs: second.ms,
    secondCpuMs: second.cpuMs,
    workerMs: firstWorkerMs,
    replyBytes,
    bytes: size.bytes,
    lines: size.lines,
    rssBefore,
    rssFirst,
    rssSecond,
    rssAfterGc,
    hwm: statusKb(process.pid, 'VmHWM') / 1024,
    stealPercent: cpu1.total > cpu0.total ? (100 * (cpu1.steal - cpu0.steal)) / (cpu1.total - cpu0.total) : 0,
  }
}

function runChild(argv: readonly string[]): Promise<Result> {
  const c = fork(fileURLToPath(import.meta.url), ['--child', ...argv], {
    execArgv: ['--expose-gc'],
    stdio: 'inherit',
  })
  return new Promise((resolve, reject) => {
    c.once('message', (m) => resolve(m as Result))
    c.once('exit', (code) => reject(new Error(`scrape child exited with ${code} before answering`)))
  })
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--child') {
    const r = await child(parseOptions(argv.slice(1)))
    process.send?.(r)
    process.disconnect?.()
    return
  }
  const o = parseOptions(argv)
  const load0 = loadavg()[0] ?? 0
  console.log(
    `scrape: ${o.services} services × 3 servers, traffic on ${o.traffic * 100} %, mode ${o.mode}` +
      (o.mode === 'cluster' ? `, ${o.workers} worker replies` : ''),
  )
  const rows = []
  for (let r = 0; r < o.runs; r++) {
    const x = await runChild(argv)
    delete process.env.LB_CPU_PROFILE
    rows.push({
      'first ms': x.firstMs.toFixed(0),
      'first cpu ms': x.firstCpuMs.toFixed(0),
      'second ms': x.secondMs.toFixed(0),
      'second cpu ms': x.secondCpuMs.toFixed(0),
      ...(o.mode === 'cluster'
        ? { 'worker ms': x.workerMs.toFixed(0), 'reply MB': (x.replyBytes / 1e6).toFixed(1) }
        : {}),
      'text MB': (x.bytes / 1e6).toFixed(1),
      lines: x.lines,
      'rss before': x.rssBefore.toFixed(1),
      'rss 1st': x.rssFirst.toFixed(1),
      'rss 2nd': x.rssSecond.toFixed(1),
      'rss +': (Math.max(x.rssFirst, x.rssSecond) - x.rssBefore).toFixed(1),
      'rss gc': x.rssAfterGc.toFixed(1),
      hwm: x.hwm.toFixed(1),
      'steal %': x.stealPercent.toFixed(1),
    })
  }
  console.table(rows)
  console.log(
    `RSS in MB; load average (1 min) before/after: ${load0.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)}`,
  )
}

if (isEntryPoint(import.meta.url)) await main(process.argv.slice(2))
