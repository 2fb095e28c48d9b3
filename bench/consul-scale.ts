/**
 * The Consul control plane at scale (issue 19), measured black-box: the lb daemon (`node dist/src/main.js
 * --config …`) as a child process, single process or `--workers N`, against the Consul test server
 * (test/helpers/consul-server.ts, in its own process: bench/consul-server-child.ts) holding `--services` × 3
 * instances on 100 nodes, every instance at a loopback address where nothing listens. Everything is seen through
 * lb's proxy port, as a client sees it:
 *
 * - initial sync: from starting lb until a request for the last service's host is routed (anything but
 *   404 "no route"; the instance refuses the connection, so lb answers at once);
 * - idle CPU: lb's processes (primary and workers) over `--idle` s, from `--settle` s after the sync;
 * - RSS of every process after the idle window, right after the changes and `--after` s (default 15) later
 *   (and the largest process's every 5 s in between); each process's peak RSS (VmHWM) by the end of the sync
 *   and over the whole run;
 * - memory under churn: `--churn` more changes that leave the catalog as it was (register a service `churn-k`,
 *   then deregister it, each awaited through the proxy), with the RSS of every process read right after each
 *   quarter of them and `--after` s later (lb gives memory back once changes have been quiet for 10 s);
 * - change → traffic: `--changes` changes, alternating "register a new service `probe-k` with one instance at a
 *   local upstream" (done when the probe answers 200) and "that instance's check goes critical" (done when it no
 *   longer answers 200), each timed from the message to the Consul process until a probe sees it. A probe is one
 *   request on a fresh connection every 2 ms; with workers it takes `workers` probes in a row (the kernel hands
 *   connections to the workers in turn) so every worker has it; `--gap` ms between changes.
 *
 *   npm run build && node dist/bench/consul-scale.js [--services 10000] [--workers 0] [--changes 100]
 *     [--settle 15] [--idle 60] [--churn 0] [--gap 200] [--watch auto|service|state] [--cpu-prof DIR]
 *     [--path-routes]
 *
 * `--cpu-prof DIR` runs lb with `--cpu-prof --cpu-prof-dir DIR` (a profile per process, written when lb exits).
 * `--path-routes` routes each timed change's new service at a path too (fabio's `urlprefix-/path`), so every change
 * touches the catch-all host of 10,000 routes (src/route/update.ts patches it).
 * `LB_V8_FLAGS='--max-semi-space-size=4'` passes more V8 flags to lb, after its own (what heap sizing does).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import {
  LB_ENV,
  childPids,
  cpuSeconds,
  fail,
  freePort,
  isEntryPoint,
  envV8Flags,
  lbArgs,
  makeTempDir,
  runBench,
  sleep,
  startProcess,
  statusKb,
  watchMode,
  wholeNumber,
  type Proc,
} from './load.js'
import { printRuntime, quantile } from './runtime.js'

const USAGE =
  'usage: node dist/bench/consul-scale.js [--services N] [--workers N] [--changes N] [--settle S] [--idle S] ' +
  '[--churn N] [--after S] [--gap MS] [--watch auto|service|state] [--cpu-prof DIR] [--path-routes]'

interface Options {
  services: number
  workers: number
  changes: number
  settle: number
  idle: number
  churn: number
  gap: number
  after: number
  cpuProf: string
  watch: 'auto' | 'service' | 'state'
  pathRoutes: boolean
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    services: 10_000,
    workers: 0,
    changes: 100,
    settle: 15,
    idle: 60,
    churn: 0,
    gap: 200,
    after: 15,
    cpuProf: '',
    watch: 'auto',
    pathRoutes: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--services') o.services = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--workers') o.workers = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--changes') o.changes = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--settle') o.settle = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--idle') o.idle = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--churn') o.churn = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--gap') o.gap = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--after') o.after = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--cpu-prof') o.cpuProf = argv[++i] ?? fail(USAGE)
    else if (arg === '--watch') o.watch = watchMode(argv[++i], USAGE)
    else if (arg === '--path-routes') o.pathRoutes = true
    else fail(USAGE)
  }
  return o
}

class Consul {
  readonly child: ChildProcess
  port: number
  constructor() {
    this.child = fork(fileURLToPath(new URL('./consul-server-child.js', import.meta.url)), [], {
      stdio: 'inherit',
    })
    this.port = 0
  }
  async setup(services: number): Promise<void> {
    this.port = await new Promise<number>((resolve) => {
      this.child.once('message', (m: { port: number }) => resolve(m.port))
      this.child.send({ setup: { services, instances: 3, nodes: 100, loopback: true } })
    })
  }
  /** Send one change; resolves when the Consul process has applied it. */
  change(m: object): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('message', () => resolve())
      this.child.send(m)
    })
  }
  stop(): void {
    this.child.disconnect()
  }
}

/** One GET through lb on a fresh connection: the status, or 0 when lb does not answer (not listening yet). */
function probe(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', () => resolve(0))
    })
    req.setTimeout(5_000, () => req.destroy())
    req.on('error', () => resolve(0))
    req.end()
  })
}

/** Probe every `every` ms until `seen(status)` holds for `times` probes in a row; ms from `start`. */
async function until(
  port: number,
  host: string,
  seen: (status: number) => boolean,
  times: number,
  start: number,
  lb: Proc,
  timeout = 30_000,
  every = 2,
): Promise<number> {
  let streak = 0
  let done = 0
  for (;;) {
    const status = await probe(port, host)
    if (seen(status)) {
      if (streak === 0) done = performance.now()
      if (++streak >= times) return done - start
    } else streak = 0
    if (lb.exit !== undefined) fail(`lb exited (${lb.exit}):\n${lb.output}`)
    if (performance.now() - start > timeout) fail(`${host} not seen within ${timeout} ms:\n${lb.output}`)
    await sleep(every)
  }
}

function tree(pid: number): number[] {
  return [pid, ...childPids(pid)]
}

function cpu(pids: readonly number[]): number {
  let s = 0
  for (const p of pids) s += cpuSeconds(p)
  return s
}

/** Each process's RSS now (`VmRSS`), or its peak so far (`VmHWM`), MB. */
function rss(pids: readonly number[], field: 'VmRSS' | 'VmHWM' = 'VmRSS'): string {
  return pids.map((p) => (statusKb(p, field) / 1024).toFixed(1)).join(' / ')
}

/** The largest RSS among `pids`, MB. */
function largest(pids: readonly number[]): string {
  let kb = 0
  for (const p of pids) kb = Math.max(kb, statusKb(p, 'VmRSS'))
  return (kb / 1024).toFixed(1)
}

async function upstream(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end('ok\n'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

async function run(o: Options): Promise<void> {
  printRuntime()
  const consul = new Consul()
  const up = await upstream()
  try {
    await consul.setup(o.services)
    const dir = makeTempDir('consul-scale')
    const listen = await freePort()
    const file = join(dir, 'lb.yaml')
    writeFileSync(
      file,
      `listeners:
  - name: web
    address: 127.0.0.1:${listen}
consul:
  addresses: [127.0.0.1:${consul.port}]
  watch: ${o.watch}
log:
  level: info
  access:
    enabled: false
workers: ${o.workers}
`,
    )
    const flags = [...(o.cpuProf === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', o.cpuProf]), ...envV8Flags()]
    const load0 = loadavg()[0] ?? 0
    const t0 = performance.now()
    const lb = startProcess('lb', process.execPath, lbArgs(file, flags), 'ignore', LB_ENV)
    const times = Math.max(1, o.workers)
    const sync = await until(
      listen,
      `svc-${o.services - 1}.example.com`,
      (s) => s !== 0 && s !== 404,
      times,
      t0,
      lb,
      600_000,
      20,
    )
    const pids = tree(lb.pid)
    const rows: Record<string, string>[] = []
    const row = (what: string, result: string): void => {
      rows.push({ what, result })
    }
    row('initial sync', `${(sync / 1000).toFixed(2)} s`)
    row('RSS right after the sync (MB, primary / workers)', rss(pids))
    row('peak RSS by then (MB)', rss(pids, 'VmHWM'))
    const c0 = cpu(pids)
    await sleep(o.settle * 1000)
    const c1 = cpu(pids)
    row(`CPU in the ${o.settle} s after the sync`, `${((100 * (c1 - c0)) / o.settle).toFixed(1)} % of a core`)
    if (o.idle > 0) {
      await sleep(o.idle * 1000)
      const c2 = cpu(pids)
      row(`idle CPU over ${o.idle} s after that`, `${((100 * (c2 - c1)) / o.idle).toFixed(2)} % of a core`)
    }
    row('RSS before the changes (MB)', rss(pids))
    /**
     * Register service `name` with one instance (`<name>-0`) at the local upstream, routed at `<name>.example.com/`
     * (and with `--path-routes` at `/<name>` too, a route on the catch-all host, which every service's `/svc-<i>`
     * route shares).
     */
    const register = (name: string, k: number): Promise<void> =>
      consul.change({
        register: {
          id: `${name}-0`,
          service: name,
          node: `node-${k % 100}`,
          address: '127.0.0.1',
          port: up.port,
          tags: o.pathRoutes
            ? [`urlprefix-${name}.example.com/`, `urlprefix-/${name}`]
            : [`urlprefix-${name}.example.com/`],
        },
      })
    let k = 0
    const change = async (i: number): Promise<number> => {
      const host = `probe-${k}.example.com`
      const start = performance.now()
      if (i % 2 === 0) {
        await register(`probe-${k}`, k)
        return until(listen, host, (s) => s === 200, times, start, lb)
      }
      await consul.change({ check: { id: `probe-${k}-0`, status: 'critical' } })
      k++
      return until(listen, host, (s) => s !== 200 && s !== 0, times, start, lb)
    }
    const churn = async (i: number): Promise<number> => {
      const k = i >> 1
      const host = `churn-${k}.example.com`
      const start = performance.now()
      if (i % 2 === 0) {
        await register(`churn-${k}`, k)
        return until(listen, host, (s) => s === 200, times, start, lb)
      }
      await consul.change({ deregister: `churn-${k}-0` })
      return until(listen, host, (s) => s === 404, times, start, lb)
    }
    const took: number[] = []
    const cpuBefore = cpu(pids)
    for (let i = 0; i < o.changes; i++) {
      await sleep(o.gap)
      took.push(await change(i))
    }
    const cpuChanges = cpu(pids) - cpuBefore
    if (o.changes > 0) {
      row(
        `change → traffic, ${o.changes} changes (median / p99 / max ms)`,
        `${quantile(took, 0.5).toFixed(1)} / ${quantile(took, 0.99).toFixed(1)} / ${Math.max(...took).toFixed(1)}`,
      )
      // The first changes after start run lb's change path for the first time (V8 compiles it then).
      const slowest = took
        .map((ms, i) => ({ ms, i }))
        .sort((x, y) => y.ms - x.ms)
        .slice(0, 3)
        .map((c) => `#${c.i}: ${c.ms.toFixed(1)}`)
      row('slowest changes (change #: ms)', slowest.join(', '))
      const adds = took.filter((_, i) => i % 2 === 0)
      const checks = took.filter((_, i) => i % 2 === 1)
      row(
        'of which new service / check critical (median ms)',
        `${quantile(adds, 0.5).toFixed(1)} / ${quantile(checks, 0.5).toFixed(1)}`,
      )
      row('lb CPU per change, probes included (ms)', ((1000 * cpuChanges) / o.changes).toFixed(1))
      row('RSS right after the changes (MB)', rss(pids))
      // The primary and workers release memory once changes have been quiet for 10 s (src/process/memory.ts):
      // the largest process's RSS every 5 s shows when.
      const series: string[] = [largest(pids)]
      for (let s = 5; s <= o.after; s += 5) {
        await sleep(5_000)
        series.push(largest(pids))
      }
      await sleep((o.after % 5) * 1000)
      row('largest RSS every 5 s after the changes (MB)', series.join(' → '))
      row(`RSS ${o.after} s after the changes (MB)`, rss(pids))
    }
    if (o.churn > 0) {
      const readings: string[] = []
      // After a quarter, half, three quarters and all of the changes.
      const marks = new Set([1, 2, 3, 4].map((q) => Math.round((q * o.churn) / 4)))
      for (let i = 0; i < o.churn; i++) {
        await sleep(20)
        await churn(i)
        if (marks.has(i + 1)) {
          const during = rss(pids)
          await sleep(o.after * 1000)
          readings.push(`${i + 1}: ${during} → ${rss(pids)}`)
        }
      }
      row(
        `RSS right after and ${o.after} s after n of ${o.churn} changes that leave the catalog as it was (n: MB)`,
        readings.join(', '),
      )
    }
    row('peak RSS over the run (MB)', rss(pids, 'VmHWM'))
    console.table(rows)
    console.log(
      `${o.services} services × 3 instances on 100 nodes, ${2 * o.services} routes, workers ${o.workers}, watch: ${o.watch}; ` +
        `load average (1 min) before/after: ${load0.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)}`,
    )
  } finally {
    consul.stop()
    up.server.close()
  }
}

if (isEntryPoint(import.meta.url)) {
  const options = parseOptions(process.argv.slice(2))
  process.exitCode = await runBench(() => run(options))
}
