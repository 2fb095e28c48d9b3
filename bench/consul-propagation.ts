/**
 * Consul discovery costs (issue 3):
 * 1. propagation: a registration in Consul (test server, own process) → lb routing the new instance
 *    (the worker has applied a snapshot containing it), median and p99 over 100 changes with 1,000 services ×
 *    3 instances registered. Targets: median ≤ 50 ms, p99 ≤ 250 ms. Changes are spaced 100 ms apart (more than
 *    the 50 ms watcher throttle window, so each one is a leading edge, as isolated changes are in production);
 * 2. full snapshot rebuild (build.ts `buildSnapshot`, and + `buildTable`) for 10,000 services × 3 instances
 *    (target ≤ 100 ms);
 * 3. RSS of lb watching 10,000 routed services (30,000 instances, 20,000 routes) after the initial sync, with
 *    the default `watch: auto` (above 150 services: one blocking query on /v1/health/state/any instead of
 *    10,000 long-polls) (target ≤ 150 MB).
 *
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/consul-propagation.js
 *
 * The rss scenario also prints the peak RSS and heap during the sync: V8 keeps the old-space pages it grew to,
 * so the RSS after the sync (and a forced GC) is the sync's peak, which V8's heap growth (up to ≈ 4× the live
 * heap at the last full GC) sets more than the data lb keeps. Diagnostics (env): LB_HEAP_SNAPSHOT=<file> writes
 * a heap snapshot at the end, LB_HEAP_SPACES=1 prints V8's spaces, LB_SMAPS=1 resident memory by mapping,
 * LB_MEM_TRACE=1 heap/RSS every 100 ms during the sync.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { performance } from 'node:perf_hooks'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { pino } from 'pino'
import type { MutableConfig } from '../src/config/types.js'
import { defaultConfig } from '../src/config/defaults.js'
import { buildSnapshot, newBuildCache } from '../src/provider/consul/build.js'
import type { HealthEntry } from '../src/provider/consul/entries.js'
import { ConsulProvider } from '../src/provider/consul/consul.js'
import { Watcher } from '../src/provider/watcher.js'
import { buildTable } from '../src/route/table.js'
import { Worker } from '../src/process/worker.js'
import type { Snapshot } from '../src/model/snapshot.js'
import { printRuntime, quantile } from './runtime.js'

const silent = pino({ level: 'silent' })

async function startServer(
  services: number,
  instances: number,
): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./consul-server-child.js', import.meta.url)), [], {
    stdio: 'inherit',
  })
  const port = await new Promise<number>((resolve) => {
    child.once('message', (m: { port: number }) => resolve(m.port))
    child.send({ setup: { services, instances } })
  })
  return { child, port }
}

function send(child: ChildProcess, m: unknown): Promise<void> {
  return new Promise((resolve) => {
    child.once('message', () => resolve())
    child.send(m as object)
  })
}

interface Lb {
  readonly worker: Worker
  readonly provider: ConsulProvider
  applied(pred: (s: Snapshot) => boolean): Promise<void>
  stop(): Promise<void>
}

async function startLb(port: number, watch: 'auto' | 'service' | 'state' = 'auto'): Promise<Lb> {
  const config = structuredClone(defaultConfig) as MutableConfig
  config.listeners = []
  config.consul = { ...config.consul, enabled: true, addresses: [`127.0.0.1:${port}`], watch }
  const worker = new Worker({ config, log: silent, accessLog: silent })
  const provider = new ConsulProvider({ config: config.consul, defaults: config.defaults, log: silent })
  let last: Snapshot | null = null
  const waiters = new Set<{ pred: (s: Snapshot) => boolean; resolve: () => void }>()
  const watcher = new Watcher({
    providers: [provider],
    window: config.consul.throttle,
    consumer: async (s) => {
      await worker.apply(s)
      last = s
      for (const w of waiters)
        if (w.pred(s)) {
          waiters.delete(w)
          w.resolve()
        }
    },
  })
  const ac = new AbortController()
  watcher.start(ac.signal)
  return {
    worker,
    provider,
    applied: (pred) =>
      last !== null && pred(last)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.add({ pred, resolve })),
    stop: async () => {
      ac.abort()
      await worker.stop(100)
    },
  }
}

const hasServer = (name: string) => (s: Snapshot) =>
  s.services.some((v) => v.servers.some((x) => x.name === name))

async function propagation(watch: 'auto' | 'service'): Promise<void> {
  const services = 1_000
  const { child, port } = await startServer(services, 3)
  const lb = await startLb(port, watch)
  const t0 = performance.now()
  await lb.applied(hasServer('node-2/svc-999-2'))
  console.log(`initial sync of ${services} services × 3: ${(performance.now() - t0).toFixed(0)} ms`)
  const times: number[] = []
  for (let i = 0; i < 100; i++) {
    const s = (i * 37) % services
    const id = `svc-${s}-new-${i}`
    await new Promise((r) => setTimeout(r, 100))
    const start = performance.now()
    const seen = lb.applied(hasServer(`node-9/${id}`))
    await send(child, {
      register: {
        id,
        service: `svc-${s}`,
        node: 'node-9',
        address: '10.9.0.1',
        port: 9000 + i,
        tags: [`urlprefix-svc-${s}.example.com/`],
      },
    })
    await seen
    times.push(performance.now() - start)
  }
  console.table([
    {
      scenario: `propagation (1,000 services × 3, watch: ${watch === 'auto' ? 'auto = state' : watch})`,
      changes: times.length,
      'median ms': quantile(times, 0.5).toFixed(1),
      'p99 ms': quantile(times, 0.99).toFixed(1),
      'max ms': Math.max(...times).toFixed(1),
    },
  ])
  await lb.stop()
  child.disconnect()
}

function entries(services: number): Map<string, HealthEntry[]> {
  const health = new Map<string, HealthEntry[]>()
  for (let s = 0; s < services; s++) {
    const list: HealthEntry[] = []
    for (let i = 0; i < 3; i++) {
      const id = `svc-${s}-${i}`
      list.push({
        Node: { Node: `node-${i}`, Address: `10.0.${i}.1` },
        Service: {
          ID: id,
          Service: `svc-${s}`,
          Tags: [`urlprefix-svc-${s}.example.com/`, `urlprefix-/svc-${s}`, 'version-1'],
          Address: `10.${i}.${(s >> 8) & 255}.${s & 255}`,
          Port: 8000 + i,
          Weights: { Passing: 1, Warning: 1 },
        },
        Checks: [
          { CheckID: 'serfHealth', Status: 'passing', ServiceID: '' },
          { CheckID: `service:${id}`, Status: 'passing', ServiceID: id },
        ],
      })
    }
    health.set(`svc-${s}`, list)
  }
  return health
}

function rebuild(): void {
  const health = entries(10_000)
  const o = {
    tagPrefix: 'urlprefix-',
    status: ['passing' as const],
    routeWithoutChecks: false,
    dc: 'dc1',
    defaults: defaultConfig.defaults,
  }
  const build: number[] = []
  const both: number[] = []
  const warm: number[] = []
  const cache = newBuildCache()
  for (let i = 0; i < 15; i++) {
    // One service changed since the last build: its entries array is new, the others hit the cache.
    health.set('svc-5', [...(health.get('svc-5') ?? [])])
    const t0 = performance.now()
    buildSnapshot({ health, kv: [] }, o, cache)
    if (i >= 3) warm.push(performance.now() - t0)
  }
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now()
    const r = buildSnapshot({ health, kv: [] }, o)
    const t1 = performance.now()
    buildTable(r.snapshot.routes, { pathMatch: 'prefix' })
    const t2 = performance.now()
    if (i >= 3) {
      build.push(t1 - t0)
      both.push(t2 - t0)
    }
  }
  console.table([
    {
      scenario: 'buildSnapshot 10,000 services × 3',
      'median ms': quantile(build, 0.5).toFixed(1),
      'max ms': Math.max(...build).toFixed(1),
    },
    {
      scenario: 'buildSnapshot 10,000 services, 1 changed (provider cache)',
      'median ms': quantile(warm, 0.5).toFixed(1),
      'max ms': Math.max(...warm).toFixed(1),
    },
    {
      scenario: '+ buildTable (20,000 routes)',
      'median ms': quantile(both, 0.5).toFixed(1),
      'max ms': Math.max(...both).toFixed(1),
    },
  ])
}

async function rss(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const before = process.memoryUsage().rss
  const { child, port } = await startServer(10_000, 3)
  const lb = await startLb(port)
  const t0 = performance.now()
  // The peak during the sync: V8 keeps most of the old-space pages it grew to, so it bounds the RSS after.
  let peakRss = 0
  let peakHeap = 0
  const sampler = setInterval(() => {
    const m = process.memoryUsage()
    peakRss = Math.max(peakRss, m.rss)
    peakHeap = Math.max(peakHeap, m.heapUsed)
    if (process.env['LB_MEM_TRACE'] === '1')
      console.log(
        ((performance.now() - t0) / 1000).toFixed(1),
        (m.heapUsed / 2 ** 20).toFixed(0),
        (m.heapTotal / 2 ** 20).toFixed(0),
        (m.rss / 2 ** 20).toFixed(0),
      )
  }, 100)
  await lb.applied(hasServer('node-2/svc-9999-2'))
  const sync = performance.now() - t0
  await new Promise((r) => setTimeout(r, 500))
  clearInterval(sampler)
  gc?.()
  const after = process.memoryUsage()
  // LB_HEAP_SNAPSHOT=<file>: write the heap at this point, for finding what holds the memory.
  const snapshotFile = process.env['LB_HEAP_SNAPSHOT']
  if (snapshotFile !== undefined && snapshotFile !== '') writeHeapSnapshot(snapshotFile)
  if (process.env['LB_SMAPS'] === '1') {
    // Resident memory by mapping kind (Linux): V8 pages, malloc arenas, code, files.
    const text = readFileSync('/proc/self/smaps', 'utf8')
    const by = new Map<string, number>()
    let name = ''
    for (const line of text.split('\n')) {
      const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
      if (m !== null) name = m[1] === '' ? '[anon]' : (m[1] ?? '')
      else if (line.startsWith('Rss:')) by.set(name, (by.get(name) ?? 0) + Number(line.split(/\s+/)[1]))
    }
    for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 8))
      console.log((v / 1024).toFixed(1), 'MB', k)
  }
  if (process.env['LB_HEAP_SPACES'] === '1') {
    for (const sp of getHeapSpaceStatistics())
      console.log(
        sp.space_name,
        (sp.space_size / 2 ** 20).toFixed(1),
        (sp.space_used_size / 2 ** 20).toFixed(1),
      )
  }
  console.table([
    {
      scenario: 'RSS watching 10,000 services × 3',
      'initial sync ms': sync.toFixed(0),
      'rss MB': (after.rss / 2 ** 20).toFixed(1),
      'rss before MB': (before / 2 ** 20).toFixed(1),
      'peak rss MB': (peakRss / 2 ** 20).toFixed(0),
      'peak heap MB': (peakHeap / 2 ** 20).toFixed(0),
      'heap used MB': (after.heapUsed / 2 ** 20).toFixed(1),
      'heap total MB': (after.heapTotal / 2 ** 20).toFixed(1),
      'external MB': (after.external / 2 ** 20).toFixed(1),
      'array buffers MB': (after.arrayBuffers / 2 ** 20).toFixed(1),
      gc: gc === undefined ? 'no (run with --expose-gc)' : 'yes',
    },
  ])
  await lb.stop()
  child.disconnect()
}

export async function run(only: readonly string[] = []): Promise<void> {
  if (only.length === 0 || only.includes('rebuild')) rebuild()
  if (only.length === 0 || only.includes('propagation')) await propagation('auto')
  if (only.length === 0 || only.includes('propagation-service')) await propagation('service')
  if (only.length === 0 || only.includes('rss')) await rss()
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printRuntime()
  await run(process.argv.slice(2))
  process.exit(0)
}
