/**
 * Memory of the lb daemon watching a large Consul catalog, measured the way an operator sees it: `lb --config`
 * in its own process (single process, `workers: 0`, the default), its RSS read from /proc, against the Consul
 * test server (test/helpers/consul-server.ts) in another process with N services × 3 instances on 3 nodes
 * (instance i on `node-i`; bench/consul-scale.ts spreads them over 100), each with two `urlprefix-` tags (2N
 * routes). The run waits until the last service is routed (admin `/api/explain`), lets lb settle, and reports
 * VmRSS (now, and how much of it is RssFile: the pages of the node binary, shared with every Node process) and
 * VmHWM (peak, the initial sync included) at two points: right after the sync and after `--settle` seconds (default
 * 25: lb releases memory 10 s after a discovery burst, src/process/memory.ts).
 * bench/consul-propagation.ts `rss` measures lb inside the bench process instead (its heap in detail, plus
 * whatever the bench itself holds).
 *
 *   npm run build && node dist/bench/consul-rss.js [--services 10000] [--settle 25] [--watch auto|service|state]
 *                                                  [--workers N [--respawn]]
 *
 * `--workers N` runs lb in cluster mode (`workers: N`) and reports each process: the primary and every worker
 * (each worker gets the whole table on every apply and releases memory after large ones, src/process/worker-process.ts).
 * `--respawn` then kills worker 1 (SIGKILL, as a crash), and reports every process again `--settle` seconds after
 * its replacement started: the replacement gets the whole state alone.
 *
 * lb runs with the flags it is started with in production (`--max-semi-space-size=8` and the malloc tunable);
 * `LB_V8_FLAGS='--max-semi-space-size=2'` passes more V8 flags to it, after those (how much of the RSS is heap
 * sizing).
 */
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'
import {
  LB_ENV,
  childPids,
  envV8Flags,
  fail,
  freePort,
  isEntryPoint,
  lbArgs,
  makeTempDir,
  runBench,
  sleep,
  startProcess,
  statusKb,
  waitForPort,
  watchMode,
  wholeNumber,
} from './load.js'
import { printRuntime } from './runtime.js'

const USAGE =
  'usage: node dist/bench/consul-rss.js [--services N] [--settle SECONDS] [--watch auto|service|state] ' +
  '[--workers N [--respawn]]'

interface Options {
  services: number
  settle: number
  watch: 'auto' | 'service' | 'state'
  workers: number
  respawn: boolean
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { services: 10_000, settle: 25, watch: 'auto', workers: 0, respawn: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--services') o.services = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--settle') o.settle = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--workers') o.workers = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--watch') o.watch = watchMode(argv[++i], USAGE)
    else if (arg === '--respawn') o.respawn = true
    else fail(USAGE)
  }
  if (o.respawn && o.workers === 0) fail(`--respawn needs --workers\n${USAGE}`)
  return o
}

/** The Consul test server with `services` × 3 instances, in its own process (bench/consul-server-child.ts). */
async function startConsul(services: number): Promise<{ port: number; stop: () => void }> {
  const child = fork(fileURLToPath(new URL('./consul-server-child.js', import.meta.url)), [], {
    stdio: 'inherit',
  })
  const port = await new Promise<number>((resolve) => {
    child.once('message', (m: { port: number }) => resolve(m.port))
    child.send({ setup: { services, instances: 3 } })
  })
  return { port, stop: () => child.disconnect() }
}

/** Whether lb routes `host` to a service with 3 servers (admin `/api/explain`). */
async function routed(adminPort: number, host: string): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}/api/explain?host=${host}&path=/`)
    if (res.status !== 200) return false
    const body = (await res.json()) as {
      route: { service: string } | null
      servers: { servers: readonly unknown[] } | null
    }
    return body.route !== null && body.servers?.servers.length === 3
  } catch {
    return false
  }
}

function mb(kb: number): string {
  return (kb / 1024).toFixed(1)
}

async function run(o: Options): Promise<void> {
  printRuntime()
  const consul = await startConsul(o.services)
  try {
    const dir = makeTempDir('consul-rss')
    const listen = await freePort()
    const admin = await freePort()
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
  level: warn
  access:
    enabled: false
admin:
  address: 127.0.0.1:${admin}
workers: ${o.workers}
`,
    )
    const load0 = loadavg()[0] ?? 0
    const t0 = performance.now()
    const lb = startProcess(
      'lb',
      process.execPath,
      // As lb starts in production. Without the young-generation cap the peak was 311.6 MB instead of 211.9.
      lbArgs(file, envV8Flags()),
      'ignore',
      LB_ENV,
    )
    await waitForPort(lb, admin)
    const last = `svc-${o.services - 1}.example.com`
    const deadline = Date.now() + 600_000
    while (!(await routed(admin, last))) {
      if (Date.now() > deadline) fail(`lb did not route ${last} within 600 s:\n${lb.output}`)
      await sleep(250)
    }
    const sync = performance.now() - t0
    const rows = processes(lb.pid).map((p) => ({
      when: 'synced',
      'sync s': (sync / 1000).toFixed(1),
      ...p,
    }))
    if (o.settle > 0) {
      await sleep(o.settle * 1000)
      for (const p of processes(lb.pid)) rows.push({ when: `+${o.settle} s`, 'sync s': '', ...p })
    }
    if (o.respawn) {
      await respawn(lb.pid)
      await sleep(o.settle * 1000)
      for (const p of processes(lb.pid)) rows.push({ when: `respawned +${o.settle} s`, 'sync s': '', ...p })
    }
    console.table(rows)
    console.log(
      `${o.services} services × 3 instances, ${2 * o.services} routes, watch ${o.watch}; ` +
        `load average (1 min) before/after: ${load0.toFixed(2)} / ${(loadavg()[0] ?? 0).toFixed(2)}`,
    )
  } finally {
    consul.stop()
  }
}

/** Kill the first worker as a crash would, and wait until the primary has forked its replacement. */
async function respawn(primary: number): Promise<void> {
  const before = childPids(primary)
  const victim = before[0]
  if (victim === undefined) fail('--respawn: lb has no worker')
  process.kill(victim, 'SIGKILL')
  const deadline = Date.now() + 30_000
  for (;;) {
    const now = childPids(primary)
    if (now.length === before.length && !now.includes(victim)) return
    if (Date.now() > deadline) fail(`--respawn: worker ${victim} was not replaced within 30 s`)
    await sleep(100)
  }
}

interface Mem {
  'rss MB': string
  /** Of the RSS, the pages of files (the node binary's code and data): shared, and the kernel can reclaim them. */
  'of it files MB': string
  'peak rss MB': string
}

function mem(pid: number): Mem {
  return {
    'rss MB': mb(statusKb(pid, 'VmRSS')),
    'of it files MB': mb(statusKb(pid, 'RssFile')),
    'peak rss MB': mb(statusKb(pid, 'VmHWM')),
  }
}

/** The lb process and its cluster workers (none in single-process mode), each with its memory. */
function processes(pid: number): ({ process: string } & Mem)[] {
  const workers = childPids(pid)
  return [
    { process: workers.length === 0 ? 'lb' : 'primary', ...mem(pid) },
    ...workers.map((w, i) => ({ process: `worker ${i + 1}`, ...mem(w) })),
  ]
}

if (isEntryPoint(import.meta.url)) {
  const options = parseOptions(process.argv.slice(2))
  process.exitCode = await runBench(() => run(options))
}
