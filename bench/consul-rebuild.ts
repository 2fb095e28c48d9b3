/**
 * The Consul rebuild chain at 10,000 services × 3 instances (2 routing tags each: 20,000 routes), stage by
 * stage: Consul payloads → Snapshot → watcher → merged Snapshot → route table → worker state swapped.
 *
 * Stages, each timed alone (median over the runs; wall ms and the process's CPU ms, since on a shared machine
 * the wall time also counts waiting for a core):
 * - `parse`: JSON.parse + minimalEntries of the 10,000 `/v1/health/service/<name>` bodies (real answer shapes,
 *   ~2 KB per instance), what the provider does per answer;
 * - `buildSnapshot cold`: build.ts without a BuildCache, and with an empty one (lb's first build, or a restart:
 *   the cache's memo and positions are filled too);
 * - `buildSnapshot 1 changed`: the provider's case after one service's payload changed (its entries array is
 *   new, the other 9,999 hit the cache);
 * - `buildSnapshot 1 added`: one more service in the catalog (the build's full-rebuild case);
 * - `watcher dedupe`: canonical + isDeepStrictEqual against the previous snapshot (watcher.ts #receive);
 * - `merge + compare`: merge.ts with the watcher's MergeMemo + isDeepStrictEqual against the last published;
 * - `buildTable`: route/table.ts over the merged routes;
 * - `worker.apply`: the whole swap in the worker (buildTable + upstream pools + health sync + state swap);
 * - `chain, 1 changed`: the real path, provider emit → Watcher (window 0) → worker.apply resolved.
 *
 *   npx tsc -p tsconfig.json && node --expose-gc dist/bench/consul-rebuild.js [--runs N]
 */
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { loadavg } from 'node:os'
import { pino } from 'pino'
import type { MutableConfig } from '../src/config/types.js'
import { defaultConfig } from '../src/config/defaults.js'
import { buildSnapshot, newBuildCache } from '../src/provider/consul/build.js'
import type { BuildOptions } from '../src/provider/consul/targets.js'
import { minimalEntries, type HealthEntry } from '../src/provider/consul/entries.js'
import { canonical, merge, type MergeMemo } from '../src/provider/merge.js'
import type { Emit, Provider } from '../src/provider/provider.js'
import { Watcher } from '../src/provider/watcher.js'
import { buildTable } from '../src/route/table.js'
import type { Snapshot } from '../src/model/snapshot.js'
import { Worker } from '../src/process/worker.js'
import { printRuntime } from './runtime.js'

const SERVICES = 10_000

/** One service's `/v1/health/service/<name>` body, in Consul's shape (3 instances, node + service checks). */
export function healthBody(s: number, port = 8000): string {
  const list = []
  for (let i = 0; i < 3; i++) {
    const id = `svc-${s}-${i}`
    const check = (CheckID: string, ServiceID: string) => ({
      Node: `node-${i}`,
      CheckID,
      Name: ServiceID === '' ? 'Serf Health Status' : `Service 'svc-${s}' check`,
      Status: 'passing',
      Notes: '',
      Output: ServiceID === '' ? 'Agent alive and reachable' : 'HTTP GET http://127.0.0.1/health: 200 OK',
      ServiceID,
      ServiceName: ServiceID === '' ? '' : `svc-${s}`,
      ServiceTags: ServiceID === '' ? [] : tags,
      Type: ServiceID === '' ? '' : 'http',
      Interval: ServiceID === '' ? '' : '10s',
      Timeout: ServiceID === '' ? '' : '5s',
      ExposedPort: 0,
      Definition: {},
      CreateIndex: 12,
      ModifyIndex: 14,
    })
    const tags = [`urlprefix-svc-${s}.example.com/`, `urlprefix-/svc-${s}`, 'version-1']
    // A real answer's shape (Consul 1.15+; test/fixtures/consul/health-web.json).
    list.push({
      Node: {
        ID: '40e4a748-2192-161a-0510-9bf59fe950b5',
        Node: `node-${i}`,
        Address: `10.0.${i}.1`,
        Datacenter: 'dc1',
        TaggedAddresses: { lan: `10.0.${i}.1`, wan: `10.0.${i}.1` },
        Meta: { 'consul-network-segment': '' },
        CreateIndex: 5,
        ModifyIndex: 9,
      },
      Service: {
        ID: id,
        Service: `svc-${s}`,
        Tags: tags,
        Address: `10.${i}.${(s >> 8) & 255}.${s & 255}`,
        TaggedAddresses: {},
        Meta: {},
        Port: port + i,
        Weights: { Passing: 1, Warning: 1 },
        EnableTagOverride: false,
        Proxy: { Mode: '', MeshGateway: {}, Expose: {} },
        Connect: {},
        PeerName: '',
        CreateIndex: 12,
        ModifyIndex: 12,
      },
      Checks: [check('serfHealth', ''), check(`service:${id}`, id)],
    })
  }
  return JSON.stringify(list)
}

interface Sample {
  wall: number
  cpu: number
}

function time<T>(samples: Sample[], f: () => T): T {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const r = f()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  samples.push({ wall, cpu: (c.user + c.system) / 1000 })
  return r
}

async function timeAsync<T>(samples: Sample[], f: () => Promise<T>): Promise<T> {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await f()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  samples.push({ wall, cpu: (c.user + c.system) / 1000 })
  return r
}

function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})

/** A provider whose snapshots the bench pushes by hand. */
class ManualProvider implements Provider {
  readonly name = 'consul'
  emit: Emit | null = null
  start(emit: Emit): void {
    this.emit = emit
  }
}

export async function run(runs = 9): Promise<void> {
  const load0 = loadavg()[0] ?? 0
  const o: BuildOptions = {
    tagPrefix: 'urlprefix-',
    status: ['passing'],
    routeWithoutChecks: false,
    dc: 'dc1',
    defaults: defaultConfig.defaults,
  }
  const bodies: string[] = []
  for (let s = 0; s < SERVICES; s++) bodies.push(healthBody(s))
  const stages = new Map<string, Sample[]>()
  const samples = (name: string): Sample[] => {
    let x = stages.get(name)
    if (x === undefined) stages.set(name, (x = []))
    return x
  }

  const health = new Map<string, readonly HealthEntry[]>()
  for (let r = 0; r < Math.max(3, Math.ceil(runs / 3)); r++) {
    gc()
    time(samples('parse 10,000 payloads'), () => {
      for (let s = 0; s < SERVICES; s++)
        health.set(`svc-${s}`, minimalEntries(JSON.parse(bodies[s] as string) as unknown[]))
    })
  }
  // lb never holds the answer bodies (the provider keeps minimalEntries), so neither does the rest of the bench:
  // 10,000 bodies are 60 MB of strings that would only make every later GC slower.
  bodies.length = 0
  for (let r = 0; r < runs; r++) {
    gc()
    time(samples('buildSnapshot cold (no cache)'), () => buildSnapshot({ health, kv: [] }, o))
    gc()
    time(samples('buildSnapshot cold (fresh cache: lb starting)'), () =>
      buildSnapshot({ health, kv: [] }, o, newBuildCache()),
    )
  }

  // The provider's steady state: one cache, one service's payload changes per build.
  const cache = newBuildCache()
  const memo: MergeMemo = new Map()
  let previous = canonical(buildSnapshot({ health, kv: [] }, o, cache).snapshot)
  let published = merge([{ provider: 'consul', snapshot: previous }], memo)
  const config = structuredClone(defaultConfig) as MutableConfig
  config.listeners = []
  const silent = pino({ level: 'silent' })
  const worker = new Worker({ config, log: silent, accessLog: silent })
  await worker.apply(published)
  for (let r = 0; r < runs; r++) {
    const changed = (r * 997) % SERVICES
    health.set(`svc-${changed}`, minimalEntries(JSON.parse(healthBody(changed, 9000 + r)) as unknown[]))
    gc()
    const built = time(samples('buildSnapshot 1 changed'), () => buildSnapshot({ health, kv: [] }, o, cache))
    const c = time(samples('watcher dedupe (canonical + compare)'), () => {
      const c = canonical(built.snapshot)
      if (isDeepStrictEqual(previous, c)) throw new Error('a changed snapshot compared equal')
      return c
    })
    previous = c
    const merged = time(samples('merge + compare'), () => {
      const m = merge([{ provider: 'consul', snapshot: c }], memo)
      if (isDeepStrictEqual(published, m)) throw new Error('a changed merge compared equal')
      return m
    })
    published = merged
    time(samples('buildTable (20,000 routes)'), () => buildTable(merged.routes, { pathMatch: 'prefix' }))
    await timeAsync(samples('worker.apply (table + pools + swap)'), () => worker.apply(merged))
  }

  // A service appears: every build over the whole catalog, through the cache.
  for (let r = 0; r < runs; r++) {
    const added = SERVICES + r
    health.set(`svc-${added}`, minimalEntries(JSON.parse(healthBody(added)) as unknown[]))
    gc()
    time(samples('buildSnapshot 1 added'), () => buildSnapshot({ health, kv: [] }, o, cache))
  }
  for (let r = 0; r < runs; r++) health.delete(`svc-${SERVICES + r}`)
  buildSnapshot({ health, kv: [] }, o, cache)

  // The real chain: provider emit → Watcher → worker.apply.
  const provider = new ManualProvider()
  let applied: (() => void) | null = null
  const watcher = new Watcher({
    providers: [provider],
    window: 0,
    consumer: async (s: Snapshot) => {
      await worker.apply(s)
      applied?.()
    },
  })
  const ac = new AbortController()
  watcher.start(ac.signal)
  const first = new Promise<void>((resolve) => (applied = resolve))
  provider.emit?.(buildSnapshot({ health, kv: [] }, o, cache).snapshot)
  await first
  for (let r = 0; r < runs; r++) {
    const changed = (r * 991 + 7) % SERVICES
    health.set(`svc-${changed}`, minimalEntries(JSON.parse(healthBody(changed, 7000 + r)) as unknown[]))
    gc()
    await timeAsync(samples('chain, 1 changed: build → watcher → worker.apply'), async () => {
      const done = new Promise<void>((resolve) => (applied = resolve))
      provider.emit?.(buildSnapshot({ health, kv: [] }, o, cache).snapshot)
      await done
    })
  }
  ac.abort()
  await worker.stop(100)

  const rows = []
  for (const [name, xs] of stages) {
    rows.push({
      stage: name,
      'median wall ms': median(xs.map((x) => x.wall)).toFixed(1),
      'median cpu ms': median(xs.map((x) => x.cpu)).toFixed(1),
      'min wall ms': Math.min(...xs.map((x) => x.wall)).toFixed(1),
      runs: xs.length,
    })
  }
  console.table(rows)
  console.log(`load average (1 min) before/after: ${load0.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)}`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printRuntime()
  const i = process.argv.indexOf('--runs')
  await run(i > 0 ? Number(process.argv[i + 1]) : 9)
  process.exit(0)
}
