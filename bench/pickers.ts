/**
 * Picker throughput: ns per `selectBackend` call for every balance algorithm at 3, 10 and 100 servers,
 * plus the cost of building a pool (the static-rr sequence is built then).
 *
 * One timed call runs BATCH picks, because a single pick is shorter than the timer's resolution;
 * `ns/pick` is the batch mean divided by BATCH. Servers have mixed weights (1..10) and a fixed spread of
 * in-flight requests so the load-aware pickers compare real numbers; nothing is unavailable.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/pickers.js
 */
import { pathToFileURL } from 'node:url'
import { Bench, type Task } from 'tinybench'
import { Pool, selectBackend } from '../src/balance/pool.js'
import { Backend } from '../src/balance/backend.js'
import { pickers, type PickerName } from '../src/balance/pickers.js'
import { printRuntime } from './runtime.js'

const BATCH = 1_000
const SIZES = [3, 10, 100] as const

function backends(n: number): Backend[] {
  const list: Backend[] = []
  for (let i = 0; i < n; i++) {
    const b = new Backend({
      service: 'bench',
      name: `s${i}`,
      host: `10.0.${i >> 8}.${i & 255}`,
      port: 8080,
      weight: 1 + ((i * 7) % 10),
      backup: false,
      maxconn: 0,
    })
    b.inflight = (i * 3) % 5
    list.push(b)
  }
  return list
}

/** Keeps results alive so the JIT cannot drop the picks. */
let sink = 0

function row(task: Task): Record<string, string | number> {
  const r = task.result
  if (r.state !== 'completed') return { task: task.name, state: r.state }
  const perCall = task.name.startsWith('pick') ? BATCH : 1
  return {
    task: task.name,
    'ns/op': ((r.latency.mean * 1e6) / perCall).toFixed(1),
    'ops/s': Math.round((perCall * 1e3) / r.latency.mean),
    '± %': r.latency.rme.toFixed(2),
    samples: r.latency.samplesCount,
  }
}

export async function run(): Promise<void> {
  const bench = new Bench({ name: 'pickers', time: 500, warmupTime: 200 })
  for (const name of Object.keys(pickers) as PickerName[]) {
    for (const n of SIZES) {
      const pool = new Pool('bench', name, backends(n))
      bench.add(`pick ${name} n=${n}`, () => {
        for (let i = 0; i < BATCH; i++) sink += selectBackend(pool, Math.random, null) === undefined ? 1 : 0
      })
    }
  }
  for (const name of ['roundrobin', 'static-rr'] as const) {
    const list = backends(100)
    bench.add(`build ${name} n=100`, () => {
      sink += new Pool('bench', name, list).normal.length
    })
  }
  await bench.run()
  console.table(bench.table(row))
  if (sink < 0) console.log(sink)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printRuntime()
  await run()
}
