/**
 * The cost of one /metrics scrape with a Consul-sized table: N services × 3 servers (default 10,000), two routes
 * per service (the Consul shape of bench/consul-rebuild.ts: build.ts → merge → worker.apply), traffic counted on
 * a fraction of the services (`--traffic`, default 0.1: requests on every server and route of those services,
 * some 5xx, a connect error and a TCP session per server). Each run is a fresh process (`--expose-gc`) that
 * scrapes `--scrapes` times in a row (default 6): the first scrape is what a new lb pays (cold code, first-time
 * allocations), the later ones the steady state.
 *
 * Modes:
 * - `single` (default): lb with `workers: 0`, what admin /metrics gets from `Primary.metrics()` without a pool:
 *   process metrics, traffic and control families.
 * - `cluster`: both halves of a cluster scrape in one process. Worker side: the reply a worker sends for
 *   `lb:metrics`, through v8.serialize (the IPC channel's `advanced` serialization). Primary side: deserialize
 *   `--workers` replies (default 2), aggregate them with the primary's own families and write the text. The
 *   RSS is the one process's (both halves), so only its growth means something.
 *
 * Each body is "sent" as the admin server does (a string is encoded into one Buffer, chunks are taken as they
 * are) and dropped before the next scrape. Per run it prints the first scrape's time and the median of the later
 * ones (wall and CPU ms), the text's size and line count, VmRSS before the first scrape (after a full GC), its
 * growth after the first scrape (`+ 1st`) and the highest growth after any scrape (`+ max`: garbage of earlier
 * scrapes waits for V8's next full GC), RSS after a full GC at the end, and VmHWM (the peak, which includes
 * building the table, so only an upper bound). `steal %` is the machine's CPU steal during the scrapes.
 *
 *   npm run build && node dist/bench/scrape.js [--services 10000] [--runs 3] [--traffic 0.1]
 *                                              [--mode single|cluster] [--workers 2] [--scrapes 6]
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
import type { MutableConfig } from '../src/config/types.js'
import { defaultConfig } from '../src/config/defaults.js'
import { Metrics } from '../src/metrics/metrics.js'
import type { ObservedExchange } from '../src/metrics/stats.js'
import type { MetricsReply } from '../src/metrics/cluster.js'
import { buildSnapshot } from '../src/provider/consul/build.js'
import { minimalEntries, type HealthEntry } from '../src/provider/consul/entries.js'
import { merge } from '../src/provider/merge.js'
import type { Route } from '../src/route/table.js'
import { Worker } from '../src/process/worker.js'
import { healthBody } from './consul-rebuild.js'
import { fail, isEntryPoint, statusKb, wholeNumber } from './load.js'
import { printRuntime } from './runtime.js'

const USAGE =
  'usage: node dist/bench/scrape.js [--services N] [--runs N] [--traffic FRACTION] [--mode single|cluster] [--workers N] [--scrapes N]'

interface Options {
  services: number
  runs: number
  traffic: number
  mode: 'single' | 'cluster'
  workers: number
  scrapes: number
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { services: 10_000, runs: 3, traffic: 0.1, mode: 'single', workers: 2, scrapes: 6 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--services') o.services = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--runs') o.runs = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--workers') o.workers = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--scrapes') o.scrapes = wholeNumber(arg, argv[++i], 2, USAGE)
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

/** One run's numbers (the child's answer); RSS in MB. */
interface Result {
  firstMs: number
  firstCpuMs: number
  /** Medians over the scrapes after the first. */
  laterMs: number
  laterCpuMs: number
  /** Cluster mode: the worker half of the first scrape (reply + serialize) and its serialized size. */
  workerMs: number
  replyBytes: number
  bytes: number
  lines: number
  rssBefore: number
  rssFirst: number
  /** The highest RSS after any scrape. */
  rssMax: number
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
  // As the single-process daemon makes it (src/process/primary.ts): process metrics on, control families set.
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

// The scrape as lb does it (src/process/primary.ts `metrics()`, src/process/worker-process.ts `lb:metrics`).

/** What the admin API gets to send: a string, or UTF-8 chunks. */
type Body = string | readonly Uint8Array[]

async function scrapeSingle(worker: Worker): Promise<Body> {
  return worker.metrics.exposition()
}

async function workerReply(worker: Worker): Promise<Buffer> {
  return serialize(await worker.metrics.reply())
}

async function primaryText(replies: readonly Buffer[], own: Worker): Promise<Body> {
  const parsed = replies.map((r) => deserialize(r) as MetricsReply)
  return own.metrics.aggregate(parsed, 0)
}

/** The admin server's `release` once the response is written (src/process/primary.ts `metrics()`). */
function release(worker: Worker, body: Body): void {
  if (typeof body !== 'string') worker.metrics.release(body)
}

/**
 * What the admin server does with the body before it is garbage (src/admin/http.ts `send`): a string is measured and
 * encoded into one Buffer for the socket (`res.end(string)`); chunks are written as they are.
 */
function send(body: Body): number {
  if (typeof body === 'string') return Buffer.from(body, 'utf8').length
  let n = 0
  for (const c of body) n += c.byteLength
  return n
}

function lineCount(body: Body): number {
  const text = typeof body === 'string' ? body : Buffer.concat(body).toString('utf8')
  let lines = 0
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++
  return lines
}

function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

async function child(o: Options): Promise<Result> {
  const worker = await setUp(o.services, o.traffic)
  gc()
  gc()
  const rssBefore = rssMb()
  const cpu0 = cpuTimes()
  let workerMs = 0
  let replyBytes = 0
  const scrape = async (): Promise<Body> => {
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
  // Each body is sent and dropped before the next scrape, as in lb: only the numbers are kept. The time is the
  // scrape's (what `actions.metrics()` takes), RSS is read after the send.
  const times: { ms: number; cpuMs: number }[] = []
  const rss: number[] = []
  let bytes = 0
  let lines = 0
  let firstWorkerMs = 0
  for (let i = 0; i < o.scrapes; i++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    let body: Body | null = await scrape()
    const ms = performance.now() - t0
    const c = process.cpuUsage(c0)
    times.push({ ms, cpuMs: (c.user + c.system) / 1000 })
    if (i === 0 && session !== null && profile !== undefined) {
      const { profile: p } = await session.post('Profiler.stop')
      writeFileSync(profile, JSON.stringify(p))
      session.disconnect()
    }
    bytes = send(body)
    rss.push(rssMb())
    if (i === 0) {
      lines = lineCount(body)
      firstWorkerMs = workerMs
    }
    release(worker, body)
    body = null
  }
  const cpu1 = cpuTimes()
  gc()
  const rssAfterGc = rssMb()
  await worker.stop(100)
  const later = times.slice(1)
  return {
    firstMs: times[0]?.ms ?? NaN,
    firstCpuMs: times[0]?.cpuMs ?? NaN,
    laterMs: median(later.map((t) => t.ms)),
    laterCpuMs: median(later.map((t) => t.cpuMs)),
    workerMs: firstWorkerMs,
    replyBytes,
    bytes,
    lines,
    rssBefore,
    rssFirst: rss[0] ?? NaN,
    rssMax: Math.max(...rss),
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
  printRuntime()
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
      'later ms': x.laterMs.toFixed(0),
      'later cpu ms': x.laterCpuMs.toFixed(0),
      ...(o.mode === 'cluster'
        ? { 'worker ms': x.workerMs.toFixed(0), 'reply MB': (x.replyBytes / 1e6).toFixed(1) }
        : {}),
      'text MB': (x.bytes / 1e6).toFixed(1),
      lines: x.lines,
      'rss before': x.rssBefore.toFixed(1),
      '+ 1st': (x.rssFirst - x.rssBefore).toFixed(1),
      '+ max': (x.rssMax - x.rssBefore).toFixed(1),
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
