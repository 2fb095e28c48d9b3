/**
 * `lookupHttp` latency per scenario (bench/scenarios.ts). Target from the issue: median ≤ 300 ns at 10k routes.
 *
 * One timed call runs all REQUESTS requests of the scenario, because one lookup is shorter than the timer's
 * resolution; the call reports `overriddenDuration` = batch time / REQUESTS, so every statistic (median
 * included) is per lookup.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/route-lookup.js [baseline] [scenario...]
 */
import { pathToFileURL } from 'node:url'
import { Bench, type Task } from 'tinybench'
import { buildTable } from '../src/route/table.js'
import { lookupHttp } from '../src/route/lookup.js'
import { REQUESTS, scenarios, type ScenarioName } from './scenarios.js'
import { printRuntime } from './runtime.js'

/** Keeps results alive so the JIT cannot drop the lookups. */
let sink = 0

function row(task: Task): Record<string, string | number> {
  const r = task.result
  if (r.state !== 'completed') return { task: task.name, state: r.state }
  return {
    task: task.name,
    'median ns': (r.latency.p50 * 1e6).toFixed(1),
    'mean ns': (r.latency.mean * 1e6).toFixed(1),
    'p99 ns': (r.latency.p99 * 1e6).toFixed(1),
    'lookups/s': Math.round(1e3 / r.latency.mean),
    '± %': r.latency.rme.toFixed(2),
    samples: r.latency.samplesCount,
  }
}

/**
 * A reference row: one `Map.get` hit among 10k string keys, timed the same way. This VM's speed drifts by up
 * to 2x between runs (neighbours on the host), so compare lookups to this row rather than across runs.
 */
function addBaseline(bench: Bench): void {
  const map = new Map<string, number>()
  for (let i = 0; i < 10_000; i++) map.set(`svc-${i}.example.com`, i)
  const keys: string[] = []
  for (let i = 0; i < REQUESTS; i++)
    keys.push(Buffer.from(`svc-${(i * 7919) % 10_000}.example.com`).toString())
  bench.add('baseline: Map.get, 10k keys', () => {
    let sum = 0
    const start = bench.now()
    for (let i = 0; i < REQUESTS; i++) sum = (sum + (map.get(keys[i] ?? '') ?? 0)) | 0
    const elapsed = bench.now() - start
    sink = (sink + sum) | 0
    return { overriddenDuration: elapsed / REQUESTS, overriddenIterationCost: elapsed }
  })
}

export async function run(only: readonly string[] = []): Promise<void> {
  const bench = new Bench({ name: 'route-lookup', time: 1_000, warmupTime: 300 })
  if (only.length === 0 || only.includes('baseline')) addBaseline(bench)
  for (const name of Object.keys(scenarios) as ScenarioName[]) {
    if (only.length > 0 && !only.includes(name)) continue
    const s = scenarios[name]()
    const table = buildTable(s.routes, { pathMatch: s.pathMatch })
    const hosts = s.hosts
    const urls = s.urls
    for (let i = 0; i < REQUESTS; i++) {
      if (lookupHttp(table, hosts[i], urls[i] ?? '') === undefined)
        throw new Error(`${name}: request ${i} has no route`)
    }
    bench.add(name, () => {
      let ids = 0
      const start = bench.now()
      // `| 0` keeps the sum a small integer: a growing double would allocate a HeapNumber per lookup.
      for (let i = 0; i < REQUESTS; i++)
        ids = (ids + (lookupHttp(table, hosts[i], urls[i] ?? '')?.id ?? 0)) | 0
      const elapsed = bench.now() - start
      sink = (sink + ids) | 0
      return { overriddenDuration: elapsed / REQUESTS, overriddenIterationCost: elapsed }
    })
  }
  await bench.run()
  console.table(bench.table(row))
  if (sink === 0.5) console.log(sink)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printRuntime()
  await run(process.argv.slice(2))
}
