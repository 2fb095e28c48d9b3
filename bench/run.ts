/**
 * `npm run bench`: every tinybench micro-benchmark in one run (hot functions only).
 * The end-to-end load comparison against haproxy is separate: `node dist/bench/load.js` (see bench/README.md).
 */
import { printRuntime } from './runtime.js'

printRuntime()
const suites: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  'route-lookup': () => import('./route-lookup.js'),
  'table-build': () => import('./table-build.js'),
  pickers: () => import('./pickers.js'),
  headers: () => import('./headers.js'),
  h1: () => import('./h1.js'),
  'consul-propagation': () => import('./consul-propagation.js'),
}

const only = process.argv.slice(2)
for (const [name, load] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue
  console.log(`\n## ${name}`)
  const mod = await load()
  await mod.run()
}
