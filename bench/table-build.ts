/**
 * `buildTable` cost per scenario (bench/scenarios.ts), and `describeTable` at 10k routes.
 * Target from the issue: a table for 10k services (10k routes) builds in ≤ 100 ms.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/table-build.js [scenario...]
 */
import { pathToFileURL } from 'node:url'
import { Bench, type Task } from 'tinybench'
import { buildTable } from '../src/route/table.js'
import { describeTable } from '../src/route/describe.js'
import { scenarios, type ScenarioName } from './scenarios.js'
import { printRuntime } from './runtime.js'

let sink = 0

function row(task: Task): Record<string, string | number> {
  const r = task.result
  if (r.state !== 'completed') return { task: task.name, state: r.state }
  return {
    task: task.name,
    'median ms': r.latency.p50.toFixed(3),
    'mean ms': r.latency.mean.toFixed(3),
    'p99 ms': r.latency.p99.toFixed(3),
    'median ns': Math.round(r.latency.p50 * 1e6),
    '± %': r.latency.rme.toFixed(2),
    samples: r.latency.samplesCount,
  }
}

export async function run(only: readonly string[] = []): Promise<void> {
  const bench = new Bench({ name: 'table-build', time: 2_000, warmupTime: 300 })
  for (const name of Object.keys(scenarios) as ScenarioName[]) {
    if (only.length > 0 && !only.includes(name)) continue
    if (name.startsWith('exact-10k-')) continue // same routes as exact-10k
    const s = scenarios[name]()
    bench.add(`build ${name}`, () => {
      sink += buildTable(s.routes, { pathMatch: s.pathMatch }).size
    })
  }
  if (only.length === 0 || only.includes('describe')) {
    const s = scenarios['exact-10k']()
    const table = buildTable(s.routes, { pathMatch: s.pathMatch })
    bench.add('describe exact-10k', () => {
      sink += describeTable(table).length
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
