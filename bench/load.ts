/**
 * End-to-end load comparison: lb vs haproxy, both in front of the same local nginx, driven by wrk.
 *
 * Starts nginx (backend), haproxy and lb on free 127.0.0.1 ports, each with its own generated config in a
 * temp dir, then for every case (/small and /16k at -c50 and -c200, a 1 MiB body at -c10) × target runs a
 * warm-up and then
 *   wrk -t1 -c<N> -d<duration>s --latency http://127.0.0.1:<port><path>
 * and prints req/s, p50/p99 latency, errors, proxy CPU and RSS. The way the team measures: lb and haproxy are
 * each pinned with taskset to cpu 0, wrk and nginx to cpu 1; `--rounds N` interleaved rounds, in each of which
 * every target runs every case (the order alternating from case to case and round to round), the lb/haproxy
 * ratio is computed within each round, and the report shows per-case medians (with the range of the ratios).
 * `--node PATH` (repeatable) runs lb on that Node binary, one lb target per binary, so Node 22 and 24 are
 * compared in one run. Results also go to bench/results/load-<timestamp>.json, with the Node version of the
 * bench and of every lb.
 *
 *   npm run build && node dist/bench/load.js [--duration 10] [--warmup 2] [--rounds 3] [--quick]
 *                                            [--access-log] [--no-metrics] [--node PATH]...
 *                                            [--targets haproxy,lb] [--retries 2]
 *
 * Needs the Debian packages nginx, haproxy and wrk. Every process it starts is stopped by PID on exit,
 * on error and on Ctrl-C; its temp dirs are removed.
 *
 * The helpers are exported for bench/load-tcp.ts (the same comparison with both proxies in TCP mode); main()
 * only runs when this file is the entry point.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { get } from 'node:http'
import { createServer, connect } from 'node:net'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runtimeLine } from './runtime.js'
import { workerTunables } from '../src/process/malloc-tunable.js'
import { YOUNG_GENERATION_FLAG } from '../src/process/young-generation.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const LB_MAIN = join(REPO_ROOT, 'dist/src/main.js')
const RESULTS_DIR = join(REPO_ROOT, 'bench/results')

export const BODY_16K = 16 * 1024
export const BODY_1M = 1024 * 1024

/** The cases of a full run: path × wrk connections. */
const CASES: readonly { readonly path: string; readonly conns: number }[] = [
  { path: '/small', conns: 50 },
  { path: '/small', conns: 200 },
  { path: '/16k', conns: 50 },
  { path: '/16k', conns: 200 },
  { path: '/1m', conns: 10 },
]

export type TargetName = 'haproxy' | 'lb'
export const ALL_TARGETS: readonly TargetName[] = ['haproxy', 'lb']

// ---------------------------------------------------------------------------------------------------------
// Options

export interface Options {
  duration: number
  warmup: number
  /** Interleaved rounds: each runs every case on every target. */
  rounds: number
  /** Node binaries to run lb on (one lb target each); empty = the one running this bench. */
  nodes: string[]
  quick: boolean
  accessLog: boolean
  /** lb's per-request metrics (`metrics.enabled`); --no-metrics turns them off for the overhead comparison. */
  metrics?: boolean
  targets: TargetName[]
  retries: number
}

const USAGE = `usage: node dist/bench/load.js [--duration SECONDS] [--warmup SECONDS] [--rounds N] [--quick]
                               [--access-log] [--no-metrics] [--node PATH]... [--targets haproxy,lb]
                               [--retries N]
  --duration N    seconds per measured wrk run (default 10)
  --warmup N      seconds of unmeasured wrk load before each run (default 2)
  --rounds N      interleaved rounds of every case on every target (default 3)
  --node PATH     run lb on this node binary; repeat to compare several (default: this bench's node)
  --quick         only -c50 /small
  --access-log    turn lb's access log on (to stdout, sent to /dev/null)
  --no-metrics    turn lb's per-request metrics off (metrics.enabled: false)
  --targets LIST  comma-separated subset of haproxy,lb (default both)
  --retries N     re-run a run during which other work used > 15 % of a core, up to N times, keeping
                  the quietest (default 2)`

function parseOptions(argv: string[]): Options {
  const options: Options = {
    duration: 10,
    warmup: 2,
    rounds: 3,
    nodes: [],
    quick: false,
    accessLog: false,
    metrics: true,
    targets: [...ALL_TARGETS],
    retries: 2,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--quick') options.quick = true
    else if (arg === '--access-log') options.accessLog = true
    else if (arg === '--no-metrics') options.metrics = false
    else if (arg === '--duration') options.duration = wholeNumber(arg, argv[++i], 1)
    else if (arg === '--warmup') options.warmup = wholeNumber(arg, argv[++i], 0)
    else if (arg === '--rounds') options.rounds = wholeNumber(arg, argv[++i], 1)
    else if (arg === '--node') options.nodes.push(nodeBinary(argv[++i]))
    else if (arg === '--targets') options.targets = targetList(argv[++i])
    else if (arg === '--retries') options.retries = wholeNumber(arg, argv[++i], 0)
    else if (arg === '--help' || arg === '-h') usageExit(0)
    else usageExit(2, `unknown argument: ${arg}`)
  }
  return options
}

export function wholeNumber(flag: string, value: string | undefined, min: number, usage = USAGE): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) usageExit(2, `${flag} needs a whole number >= ${min}`, usage)
  return n
}

/** lb's Consul watch mode from a `--watch` value. */
export function watchMode(value: string | undefined, usage = USAGE): 'auto' | 'service' | 'state' {
  if (value !== 'auto' && value !== 'service' && value !== 'state')
    usageExit(2, '--watch takes auto, service or state', usage)
  return value
}

export function targetList(value: string | undefined, usage = USAGE): TargetName[] {
  const names = (value ?? '').split(',').filter((s) => s !== '')
  const bad = names.filter((n) => !ALL_TARGETS.includes(n as TargetName))
  if (names.length === 0 || bad.length > 0)
    usageExit(2, `--targets takes a list of: ${ALL_TARGETS.join(',')}`, usage)
  return names as TargetName[]
}

/** A `--node` argument: an executable that runs (its version is read when lb starts). */
export function nodeBinary(value: string | undefined, usage = USAGE): string {
  if (value === undefined || !existsSync(value)) usageExit(2, `--node needs the path of a node binary`, usage)
  return value
}

export function usageExit(code: number, message?: string, usage = USAGE): never {
  if (message !== undefined) process.stderr.write(message + '\n')
  process.stderr.write(usage + '\n')
  process.exit(code)
}

// ---------------------------------------------------------------------------------------------------------
// Prerequisites

/** Debian puts nginx and haproxy in /usr/sbin, which a non-root PATH may lack. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    const path = join(dir, name)
    if (dir !== '' && existsSync(path)) return path
  }
  return undefined
}

interface Binaries {
  nginx: string
  haproxy: string
  wrk: string
}

const TOOLS = ['nginx', 'haproxy', 'wrk'] as const

function checkPrerequisites(options: Options): Binaries {
  const nginx = findBinary('nginx')
  const haproxy = findBinary('haproxy')
  const wrk = findBinary('wrk')
  if (nginx === undefined || haproxy === undefined || wrk === undefined) {
    const missing = TOOLS.filter((name) => findBinary(name) === undefined).join(' ')
    fail(
      `missing: ${missing} (the bench needs the Debian packages ${TOOLS.join(', ')})\n` +
        `install with: apt-get update && apt-get install -y ${missing}`,
    )
  }
  if (options.targets.includes('lb') && !existsSync(LB_MAIN)) {
    fail(`${LB_MAIN} not found: run \`npm run build\` first (or pass --targets haproxy)`)
  }
  return { nginx, haproxy, wrk }
}

/**
 * CPU pinning of the comparisons (load.ts, load-tcp.ts): the proxy under test (lb or haproxy, one at a time
 * under load) on one core, the load generator and the backend on the other, so both proxies get the same
 * whole core and never compete with wrk or nginx for it.
 */
export interface Pinning {
  readonly taskset: string
  /** cpu of lb and haproxy */
  readonly proxy: string
  /** cpu of wrk, iperf3 and the backend */
  readonly load: string
}

/** cpu 0 for the proxies, cpu 1 for the rest; fails without taskset (util-linux) or with fewer than 2 CPUs. */
export function pinning(): Pinning {
  const taskset = findBinary('taskset')
  if (taskset === undefined) fail('missing: taskset (Debian package util-linux), needed to pin the processes')
  if (cpus().length < 2) fail(`pinning needs 2 CPUs, this machine has ${cpus().length}`)
  return { taskset, proxy: '0', load: '1' }
}

/** `command args` run through `taskset -c cpu` (taskset execs it: same pid), or as is without pinning. */
export function pinned(
  pin: Pinning | null,
  cpu: 'proxy' | 'load',
  command: string,
  args: readonly string[],
): [string, string[]] {
  return pin === null ? [command, [...args]] : [pin.taskset, ['-c', pin[cpu], command, ...args]]
}

/** `node --version` of a binary (v24.21.0). */
export function nodeVersion(binary: string): string {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  const v = (r.stdout ?? '').trim()
  if (r.status !== 0 || !v.startsWith('v')) fail(`${binary} --version did not print a Node version`)
  return v
}

export function versionOf(binary: string, flag: string): string {
  const r = spawnSync(binary, [flag], { encoding: 'utf8', timeout: 5_000 })
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim()
  return text.split('\n')[0] ?? ''
}

export function fail(message: string): never {
  throw new BenchError(message)
}

export class BenchError extends Error {}

// ---------------------------------------------------------------------------------------------------------
// Processes and temp dirs we own; everything here is stopped/removed by cleanup().

export interface Proc {
  name: string
  pid: number
  /** The last few KB of stderr (and stdout when not ignored), for error messages. */
  output: string
  /** How it ended ("code 1", "signal SIGTERM"); undefined while it runs. */
  exit: string | undefined
  exited: Promise<void>
}

const procs: Proc[] = []
/** Client runs in flight (wrk, iperf3), killed on Ctrl-C so none outlives the bench. */
export const runningClients = new Set<ChildProcess>()
const tempDirs: string[] = []

export function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `lb-bench-${label}-`))
  tempDirs.push(dir)
  return dir
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  stdout: 'ignore' | 'pipe',
  env: NodeJS.ProcessEnv = process.env,
): Proc {
  const child = spawn(command, args, { stdio: ['ignore', stdout, 'pipe'], env })
  if (child.pid === undefined) fail(`could not start ${name} (${command})`)
  const proc: Proc = { name, pid: child.pid, output: '', exit: undefined, exited: Promise.resolve() }
  const keep = (chunk: Buffer): void => {
    proc.output = (proc.output + chunk.toString('utf8')).slice(-4096)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  proc.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.exit = signal === null ? `code ${code}` : `signal ${signal}`
      resolve()
    })
  })
  procs.push(proc)
  return proc
}

export function isRunning(proc: Proc): boolean {
  return proc.exit === undefined
}

/** PIDs whose parent is `pid` (nginx's workers, lb's cluster workers), from ps. */
export function childPids(pid: number): number[] {
  const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8', timeout: 5_000 })
  return (out.stdout ?? '')
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0)
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

/** SIGTERM, wait up to 5 s, then SIGKILL the process and any children it left behind. */
async function stopProcess(proc: Proc): Promise<void> {
  if (!isRunning(proc)) return
  const children = childPids(proc.pid)
  killPid(proc.pid, 'SIGTERM')
  const timedOut = await Promise.race([proc.exited.then(() => false), sleep(5_000).then(() => true)])
  if (timedOut) {
    killPid(proc.pid, 'SIGKILL')
    await proc.exited
  }
  for (const pid of children) if (processName(pid) === proc.name) killPid(pid, 'SIGKILL')
}

function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return undefined
  }
}

async function cleanup(): Promise<void> {
  for (const child of runningClients) child.kill('SIGKILL')
  for (const proc of [...procs].reverse()) await stopProcess(proc)
  removeTempDirs()
}

function removeTempDirs(): void {
  while (tempDirs.length > 0) {
    const dir = tempDirs.pop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
}

/** Last resort when the process exits without cleanup() having run (e.g. process.exit in a handler). */
function cleanupSync(): void {
  for (const child of runningClients) child.kill('SIGKILL')
  for (const proc of procs) {
    if (!isRunning(proc)) continue
    for (const pid of childPids(proc.pid)) if (processName(pid) === proc.name) killPid(pid, 'SIGKILL')
    killPid(proc.pid, 'SIGKILL')
  }
  removeTempDirs()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// ---------------------------------------------------------------------------------------------------------
// Ports

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.setTimeout(1_000)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

export async function waitForPort(proc: Proc, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isRunning(proc)) fail(`${proc.name} exited (${proc.exit}) before listening:\n${proc.output}`)
    if (await canConnect(port)) return
    await sleep(100)
  }
  fail(`${proc.name} did not accept on 127.0.0.1:${port} within ${timeoutMs / 1000} s:\n${proc.output}`)
}

/** One GET to check a target answers 200 with a body of the expected size before loading it. */
export function checkResponse(name: string, port: number, path: string, bodyBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      let size = 0
      res.on('data', (chunk: Buffer) => (size += chunk.length))
      res.on('end', () => {
        if (res.statusCode === 200 && size === bodyBytes) resolve()
        else reject(new BenchError(`${name} ${path}: got ${res.statusCode} with ${size} bytes`))
      })
    })
    req.on('timeout', () => req.destroy(new BenchError(`${name} ${path}: no answer within 5 s`)))
    req.on('error', reject)
  })
}

// ---------------------------------------------------------------------------------------------------------
// nginx backend

export const SMALL_BODY = 'ok\n'

function nginxConfig(dir: string, port: number): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events {
  worker_connections 4096;
}

http {
  access_log off;
  default_type application/octet-stream;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;

  server {
    listen 127.0.0.1:${port};
    location = /small {
      default_type text/plain;
      return 200 "${SMALL_BODY.replace('\n', '\\n')}";
    }
    location = /16k {
      alias ${dir}/html/16k.bin;
    }
    location = /1m {
      alias ${dir}/html/1m.bin;
    }
  }
}
`
}

/** nginx (one worker) serving /small, /16k and /1m, pinned to `pin.load` when given. */
export async function startNginx(
  binary: string,
  pin: Pinning | null = null,
): Promise<{ proc: Proc; port: number }> {
  const dir = makeTempDir('nginx')
  // nginx's worker runs as an unprivileged user when started as root: it must be able to read the file.
  chmodSync(dir, 0o755)
  mkdirSync(join(dir, 'html'), { mode: 0o755 })
  mkdirSync(join(dir, 'tmp'), { mode: 0o755 })
  writeFileSync(join(dir, 'html/16k.bin'), Buffer.alloc(BODY_16K, 'x'), { mode: 0o644 })
  writeFileSync(join(dir, 'html/1m.bin'), Buffer.alloc(BODY_1M, 'x'), { mode: 0o644 })
  const port = await freePort()
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port))
  const proc = startProcess(
    'nginx',
    ...pinned(pin, 'load', binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr']),
    'pipe',
  )
  await waitForPort(proc, port)
  return { proc, port }
}

// ---------------------------------------------------------------------------------------------------------
// Targets: haproxy and lb

export interface Target {
  /** What it is. */
  name: TargetName
  /** How rows and the report call it: `haproxy`, `lb`, or `lb@v22.23.5` when lb runs on several Nodes. */
  label: string
  proc: Proc
  port: number
  /** lb: the Node version it runs on; haproxy: ''. */
  node: string
}

/**
 * haproxy in front of nginx as the HTTP comparisons run it; `global` adds lines to its global section and `bind`
 * to its bind line (bench/tls.ts: the cipher list, `ssl crt <pem>`).
 */
export function haproxyConfig(port: number, backendPort: number, global = '', bind = ''): string {
  return `global
  nbthread 1
  maxconn 4096
${global}
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend bench
  bind 127.0.0.1:${port}${bind}
  default_backend nginx

backend nginx
  balance roundrobin
  http-reuse always
  # maxconn 256 matches lb's services[].max_connections
  server nginx1 127.0.0.1:${backendPort} maxconn 256
`
}

function startHaproxy(binary: string, backendPort: number, pin: Pinning | null): Promise<Target> {
  return startHaproxyWith(binary, (port) => haproxyConfig(port, backendPort), pin)
}

/** haproxy on a free port with the config `makeConfig(port)` returns, pinned to `pin.proxy` when given. */
export async function startHaproxyWith(
  binary: string,
  makeConfig: (port: number) => string,
  pin: Pinning | null = null,
): Promise<Target> {
  const dir = makeTempDir('haproxy')
  const port = await freePort()
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(file, makeConfig(port))
  const proc = startProcess('haproxy', ...pinned(pin, 'proxy', binary, ['-f', file, '-db']), 'pipe')
  await waitForPort(proc, port)
  return { name: 'haproxy', label: 'haproxy', proc, port, node: '' }
}

/** lb in front of nginx as the HTTP comparisons run it; `listener` adds lines to its listener (bench/tls.ts: `tls`). */
export function lbConfig(
  port: number,
  backendPort: number,
  accessLog: boolean,
  metrics: boolean,
  listener = '',
): string {
  return `listeners:
  - name: bench
    address: 127.0.0.1:${port}
    mode: http
${listener}services:
  - name: nginx
    max_connections: 256
    servers:
      - address: 127.0.0.1:${backendPort}
routes:
  - path: /
    service: nginx
log:
  level: warn
  access:
    enabled: ${accessLog}
    destination: stdout
metrics:
  enabled: ${metrics}
admin:
  address: off
`
}

export interface LbStart {
  /** The node binary to run lb on (default: the one running this bench). */
  readonly node?: string
  /** How rows call it (default `lb`). */
  readonly label?: string
  readonly pin?: Pinning | null
}

/** The environment lb runs in, as the systemd unit starts it (src/process/malloc-tunable.ts). */
export const LB_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GLIBC_TUNABLES: workerTunables(process.env.GLIBC_TUNABLES),
}

/**
 * Node's arguments for lb on `file` as the systemd unit and the bin start it: with V8's young-generation cap
 * (src/process/young-generation.ts), then `flags`. The environment is LB_ENV (glibc's fixed mmap threshold).
 */
/** V8 flags for the lb process from LB_V8_FLAGS (e.g. `--max-semi-space-size=2`), to see what heap sizing does. */
export function envV8Flags(): string[] {
  return (process.env.LB_V8_FLAGS ?? '').split(' ').filter((f) => f !== '')
}

export function lbArgs(file: string, flags: readonly string[] = []): string[] {
  return [YOUNG_GENERATION_FLAG, ...flags, LB_MAIN, '--config', file]
}

/** lb (one process) on a free port with the config `makeConfig(port)` returns. */
export async function startLbWith(makeConfig: (port: number) => string, o: LbStart = {}): Promise<Target> {
  const dir = makeTempDir('lb')
  const port = await freePort()
  const file = join(dir, 'lb.yaml')
  writeFileSync(file, makeConfig(port))
  const node = o.node ?? process.execPath
  // The access log goes to stdout; dropping it keeps the terminal out of the measurement.
  const proc = startProcess('lb', ...pinned(o.pin ?? null, 'proxy', node, lbArgs(file)), 'ignore', LB_ENV)
  await waitForPort(proc, port)
  return { name: 'lb', label: o.label ?? 'lb', proc, port, node: nodeVersion(node) }
}

/** One lb per `--node` binary (or one on this Node), labelled by version when there are several. */
export function lbStarts(nodes: readonly string[], pin: Pinning | null): LbStart[] {
  if (nodes.length === 0) return [{ pin }]
  const versions = nodes.map(nodeVersion)
  return nodes.map((node, i) => {
    const v = versions[i] ?? ''
    const twice = versions.filter((x) => x === v).length > 1
    return { node, pin, label: nodes.length === 1 ? 'lb' : twice ? `lb@${v}#${i + 1}` : `lb@${v}` }
  })
}

// ---------------------------------------------------------------------------------------------------------
// /proc sampling: RSS and CPU time of a target while wrk runs

export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssFile'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] === undefined ? 0 : Number(match[1])
  } catch {
    return 0
  }
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100

/** Fields 14.. of /proc/<pid>/stat (utime, stime, cutime, cstime), in seconds. */
function statTimes(pid: number | 'self'): number[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the ")" of comm start at field 3 (state); utime is field 14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields.slice(11, 15).map((f) => Number(f) / CLOCK_TICKS)
  } catch {
    return [0, 0, 0, 0]
  }
}

/** User and system CPU of all threads of `pid`, in seconds. */
export function processCpu(pid: number): { user: number; sys: number } {
  const [user = 0, sys = 0] = statTimes(pid)
  return { user, sys }
}

/** utime + stime of all threads of `pid`, in seconds. */
export function cpuSeconds(pid: number): number {
  const [utime = 0, stime = 0] = statTimes(pid)
  return utime + stime
}

/** This bench plus its exited (reaped) children, i.e. the wrk runs that have finished. */
function selfAndWrkSeconds(): number {
  return statTimes('self').reduce((a, b) => a + b, 0)
}

/** Busy (non-idle) CPU time of the whole machine, in seconds. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  // cpu user nice system idle iowait irq softirq steal
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number)
  const total = values.reduce((a, b) => a + b, 0)
  const idle = (values[3] ?? 0) + (values[4] ?? 0)
  return (total - idle) / CLOCK_TICKS
}

export interface Sample {
  peakRssKb: number
  /** The target's CPU over the run; 100 = one core. */
  cpuPercent: number
  /** CPU used by anything but the target, the backend, the client and this bench: other work that adds noise. */
  otherCpuPercent: number
}

/** The process and the children it has now (lb is one process today; a forked worker would count). */
function processTree(pid: number): number[] {
  return [pid, ...childPids(pid)]
}

/**
 * Starts sampling while the client (wrk, iperf3) runs; call the returned function after it has exited. The
 * backend (nginx, an iperf3 server) and the client (a child of this bench) do not count as other work.
 */
export function startSampler(targetPid: number, backendPid: number): () => Sample {
  const target = processTree(targetPid)
  const backend = processTree(backendPid)
  const sum = (pids: number[], f: (pid: number) => number): number => pids.reduce((a, p) => a + f(p), 0)
  const rssKb = (): number => sum(target, (p) => statusKb(p, 'VmRSS'))
  const targetCpu = (): number => sum(target, cpuSeconds)
  const oursCpu = (): number => targetCpu() + sum(backend, cpuSeconds) + selfAndWrkSeconds()
  const start = {
    time: process.hrtime.bigint(),
    target: targetCpu(),
    ours: oursCpu(),
    busy: machineBusySeconds(),
  }
  let peakRssKb = rssKb()
  const timer = setInterval(() => {
    peakRssKb = Math.max(peakRssKb, rssKb())
  }, 200)
  return () => {
    clearInterval(timer)
    peakRssKb = Math.max(peakRssKb, rssKb())
    const elapsed = Number(process.hrtime.bigint() - start.time) / 1e9
    const percent = (seconds: number): number => (elapsed > 0 ? Math.max(0, (seconds / elapsed) * 100) : 0)
    const other = machineBusySeconds() - start.busy - (oursCpu() - start.ours)
    return { peakRssKb, cpuPercent: percent(targetCpu() - start.target), otherCpuPercent: percent(other) }
  }
}

// ---------------------------------------------------------------------------------------------------------
// wrk

interface WrkResult {
  requests: number
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  non2xx: number
  socketErrors: { connect: number; read: number; write: number; timeout: number }
}

/**
 * Run a load client (wrk, iperf3) that stops by itself after `seconds`; resolves with its output. It is
 * tracked in `runningClients` so Ctrl-C stops it, and killed if it overruns by 20 s.
 */
export function runClient(binary: string, args: readonly string[], seconds: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    runningClients.add(child)
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(guard)
      runningClients.delete(child)
      if (code === 0) resolve(out)
      else reject(new BenchError(`${binary} ${args.join(' ')} exited with ${code}:\n${out.slice(-2048)}`))
    })
  })
}

/** wrk -t1, pinned to `pin.load` when given. */
export function runWrk(
  binary: string,
  port: number,
  path: string,
  conns: number,
  seconds: number,
  pin: Pinning | null = null,
): Promise<string> {
  const args = ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}${path}`]
  return runClient(...pinned(pin, 'load', binary, args), seconds)
}

const TIME_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function toMs(value: string, unit: string): number {
  const factor = TIME_UNITS_MS[unit]
  if (factor === undefined) fail(`unknown wrk time unit: ${unit}`)
  return Number(value) * factor
}

function percentileMs(text: string, percent: number): number {
  const match = new RegExp(`^\\s+${percent}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(text)
  if (match?.[1] === undefined || match[2] === undefined) fail(`no ${percent}% line in wrk output:\n${text}`)
  return toMs(match[1], match[2])
}

function parseWrk(text: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text)?.[1]
  if (rps === undefined) fail(`no Requests/sec in wrk output:\n${text}`)
  const requests = /(\d+) requests in/.exec(text)?.[1] ?? '0'
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? '0'
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  return {
    requests: Number(requests),
    reqPerSec: Number(rps),
    p50Ms: percentileMs(text, 50),
    p99Ms: percentileMs(text, 99),
    non2xx: Number(non2xx),
    socketErrors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// One measured run

export interface Row {
  /** The target's label (see Target). */
  target: string
  kind: TargetName
  /** lb: the Node version it ran on. */
  node: string
  /** 1-based round of an interleaved run (load.ts), else 1. */
  round: number
  path: string
  conns: number
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  errors: number
  requests: number
  non2xx: number
  socketErrors: WrkResult['socketErrors']
  cpuPercent: number
  peakRssMb: number
  /** CPU used by other work on the machine during the run (100 = one core); high means noisy numbers. */
  otherCpuPercent: number
  /** lb rows only, when haproxy ran the same case (in the same round). */
  reqPerSecRatio?: number
  p99Ratio?: number
}

/** What every run needs besides its target and case. */
export interface RunContext {
  wrk: string
  nginxPid: number
  options: Options
  pin: Pinning | null
}

async function measure(
  ctx: RunContext,
  target: Target,
  path: string,
  conns: number,
  round: number,
): Promise<Row> {
  const { wrk, nginxPid, options, pin } = ctx
  if (!isRunning(target.proc))
    fail(`${target.label} has exited (${target.proc.exit}):\n${target.proc.output}`)
  await sleep(1_000) // let the previous run's connections close
  if (options.warmup > 0) await runWrk(wrk, target.port, path, conns, options.warmup, pin)
  const stopSampler = startSampler(target.proc.pid, nginxPid)
  const text = await runWrk(wrk, target.port, path, conns, options.duration, pin)
  const sample = stopSampler()
  const result = parseWrk(text)
  const s = result.socketErrors
  return {
    target: target.label,
    kind: target.name,
    node: target.node,
    round,
    path,
    conns,
    reqPerSec: result.reqPerSec,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    errors: result.non2xx + s.connect + s.read + s.write + s.timeout,
    requests: result.requests,
    non2xx: result.non2xx,
    socketErrors: s,
    cpuPercent: sample.cpuPercent,
    peakRssMb: sample.peakRssKb / 1024,
    otherCpuPercent: sample.otherCpuPercent,
  }
}

/** lb ÷ haproxy for each lb row, against haproxy's run of the same case in the same round. */
export function addRatios(rows: Row[]): void {
  for (const row of rows) {
    if (row.kind !== 'lb') continue
    const base = rows.find(
      (r) => r.kind === 'haproxy' && r.path === row.path && r.conns === row.conns && r.round === row.round,
    )
    if (base === undefined) continue
    if (base.reqPerSec > 0) row.reqPerSecRatio = row.reqPerSec / base.reqPerSec
    if (base.p99Ms > 0) row.p99Ratio = row.p99Ms / base.p99Ms
  }
}

// ---------------------------------------------------------------------------------------------------------
// Output

/** A text table: header, a rule, then the rows; the first `leftColumns` columns left-aligned, others right. */
export function formatColumns(columns: string[], rows: string[][], leftColumns = 2): string {
  const cells = [columns, ...rows]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)))
  const lines = cells.map((line) =>
    line
      .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  '),
  )
  const header = lines[0] ?? ''
  return [header, '-'.repeat(header.length), ...lines.slice(1)].join('\n')
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return NaN
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

/** The median of per-round ratios, with their range. */
export interface RatioSummary {
  readonly median: number
  readonly min: number
  readonly max: number
}

function ratioSummary(xs: readonly number[]): RatioSummary | undefined {
  if (xs.length === 0) return undefined
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }
}

/** One target in one case over all rounds: medians, except errors (sum), RSS and other cpu % (highest). */
export interface Summary {
  target: string
  node: string
  path: string
  conns: number
  runs: number
  reqPerSec: number
  p50Ms: number
  p99Ms: number
  errors: number
  cpuPercent: number
  peakRssMb: number
  otherCpuPercent: number
  reqPerSecRatio?: RatioSummary
  p99Ratio?: RatioSummary
}

/** Rows grouped by target and case, in the order the rows first name them. */
export function summarize(rows: readonly Row[]): Summary[] {
  const groups = new Map<string, Row[]>()
  for (const r of rows) {
    const key = `${r.path} ${r.conns} ${r.target}`
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [r])
    else g.push(r)
  }
  const out: Summary[] = []
  for (const g of groups.values()) {
    const first = g[0] as Row
    const of = (f: (r: Row) => number | undefined): number[] =>
      g.map(f).filter((x): x is number => x !== undefined)
    const s: Summary = {
      target: first.target,
      node: first.node,
      path: first.path,
      conns: first.conns,
      runs: g.length,
      reqPerSec: median(of((r) => r.reqPerSec)),
      p50Ms: median(of((r) => r.p50Ms)),
      p99Ms: median(of((r) => r.p99Ms)),
      errors: of((r) => r.errors).reduce((a, b) => a + b, 0),
      cpuPercent: median(of((r) => r.cpuPercent)),
      peakRssMb: Math.max(...of((r) => r.peakRssMb)),
      otherCpuPercent: Math.max(...of((r) => r.otherCpuPercent)),
    }
    const rps = ratioSummary(of((r) => r.reqPerSecRatio))
    const p99 = ratioSummary(of((r) => r.p99Ratio))
    if (rps !== undefined) s.reqPerSecRatio = rps
    if (p99 !== undefined) s.p99Ratio = p99
    out.push(s)
  }
  return out
}

const SUMMARY_COLUMNS = [
  'target',
  'path',
  'conns',
  'runs',
  'req/s',
  'p50 ms',
  'p99 ms',
  'errors',
  'cpu %',
  'rss MB',
  'req/s vs hap',
  'p99 vs hap',
  'other cpu %',
]

function ratioCell(r: RatioSummary | undefined): string {
  if (r === undefined) return ''
  return r.min === r.max
    ? r.median.toFixed(2)
    : `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`
}

/** The summary table: per case and target, medians over the rounds; ratios as median (lowest–highest). */
export function formatSummary(summary: readonly Summary[]): string {
  return formatColumns(
    SUMMARY_COLUMNS,
    summary.map((s) => [
      s.target,
      s.path,
      String(s.conns),
      String(s.runs),
      s.reqPerSec.toFixed(0),
      s.p50Ms.toFixed(2),
      s.p99Ms.toFixed(2),
      String(s.errors),
      s.cpuPercent.toFixed(0),
      s.peakRssMb.toFixed(1),
      ratioCell(s.reqPerSecRatio),
      ratioCell(s.p99Ratio),
      s.otherCpuPercent.toFixed(0),
    ]),
  )
}

/** Writes bench/results/<prefix>-<timestamp>.json and returns its path. */
export function writeResults(data: object, prefix = 'load'): string {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const file = join(RESULTS_DIR, `${prefix}-${stamp}.json`)
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
  return file
}

export function log(message: string): void {
  process.stderr.write(message + '\n')
}

// ---------------------------------------------------------------------------------------------------------
// Main

function cases(options: Options): { path: string; conns: number }[] {
  if (options.quick) return [{ path: '/small', conns: 50 }]
  return [...CASES]
}

const BODY_BYTES: ReadonlyMap<string, number> = new Map([
  ['/small', Buffer.byteLength(SMALL_BODY)],
  ['/16k', BODY_16K],
  ['/1m', BODY_1M],
])

async function startTargets(
  bins: Binaries,
  backendPort: number,
  options: Options,
  pin: Pinning | null,
): Promise<Target[]> {
  const targets: Target[] = []
  const metrics = options.metrics ?? true
  for (const name of options.targets) {
    const started =
      name === 'haproxy'
        ? [await startHaproxy(bins.haproxy, backendPort, pin)]
        : await Promise.all(
            lbStarts(options.nodes, pin).map((o) =>
              startLbWith((port) => lbConfig(port, backendPort, options.accessLog, metrics), o),
            ),
          )
    for (const target of started) {
      for (const [path, bytes] of BODY_BYTES) await checkResponse(target.label, target.port, path, bytes)
      const on = target.node === '' ? '' : ` on Node ${target.node}`
      log(`${target.label} pid ${target.proc.pid} on 127.0.0.1:${target.port}${on}`)
      targets.push(target)
    }
  }
  return targets
}

/** Other work above this share of one core during a run makes its numbers suspect. */
export const NOISY_OTHER_CPU_PERCENT = 15

/** Runs one case, again up to `--retries` times while other work was busy; keeps the quietest run. */
export function measureQuietest(
  ctx: RunContext,
  target: Target,
  path: string,
  conns: number,
  round = 1,
): Promise<Row> {
  return quietest(ctx.options.retries, () => measure(ctx, target, path, conns, round))
}

/** Runs `once`, again up to `retries` times while other work used > 15 % of a core; keeps the quietest. */
export async function quietest<T extends { otherCpuPercent: number }>(
  retries: number,
  once: () => Promise<T>,
): Promise<T> {
  let last = await once()
  let best = last
  for (let retry = 1; retry <= retries && best.otherCpuPercent > NOISY_OTHER_CPU_PERCENT; retry++) {
    log(`  other work used ${last.otherCpuPercent.toFixed(0)} % of a core: retry ${retry}/${retries}`)
    last = await once()
    if (last.otherCpuPercent < best.otherCpuPercent) best = last
  }
  return best
}

/** `items` in order, or reversed: the order targets take turns in alternates from one run of cases to the next. */
export function alternate<T>(items: readonly T[], turn: number): T[] {
  return turn % 2 === 0 ? [...items] : [...items].reverse()
}

function pinningText(pin: Pinning | null): string {
  return pin === null ? 'no pinning' : `proxies on cpu ${pin.proxy}, wrk and nginx on cpu ${pin.load}`
}

async function measureAll(ctx: RunContext, targets: Target[]): Promise<Row[]> {
  const options = ctx.options
  const plan = cases(options)
  const rows: Row[] = []
  const total = options.rounds * plan.length * targets.length
  log(
    `${total} runs of ${options.duration} s (+${options.warmup} s warm-up) in ${options.rounds} rounds; ` +
      pinningText(ctx.pin),
  )
  for (let round = 1; round <= options.rounds; round++) {
    for (const [i, { path, conns }] of plan.entries()) {
      for (const target of alternate(targets, round + i)) {
        log(`[${rows.length + 1}/${total}] round ${round}: ${target.label} ${path} -c${conns}`)
        rows.push(await measureQuietest(ctx, target, path, conns, round))
      }
    }
  }
  addRatios(rows)
  return rows
}

function noiseWarning(rows: Row[]): string[] {
  const noisy = rows.filter((r) => r.otherCpuPercent > NOISY_OTHER_CPU_PERCENT)
  if (noisy.length === 0) return []
  const list = noisy.map(
    (r) => `${r.target} ${r.path} -c${r.conns} round ${r.round} (${r.otherCpuPercent.toFixed(0)} %)`,
  )
  return [
    `WARNING: other work used the CPUs during ${noisy.length} run(s): ${list.join(', ')}; numbers are noisy`,
  ]
}

/** The bench's runtime line, then which Node every lb runs on: the runtimes of a load comparison. */
export function runtimesLine(targets: readonly Target[]): string {
  const lbs = targets.filter((t) => t.name === 'lb').map((t) => `${t.label} on Node ${t.node}`)
  return `${runtimeLine()}${lbs.length > 0 ? `; ${lbs.join(', ')}` : ''}`
}

function report(
  rows: Row[],
  targets: Target[],
  hwm: Record<string, number>,
  options: Options,
  pin: Pinning | null,
  file: string,
): void {
  const out: string[] = ['', runtimesLine(targets), '', formatSummary(summarize(rows)), '']
  for (const [name, mb] of Object.entries(hwm))
    out.push(`${name} VmHWM (peak RSS over the whole bench): ${mb.toFixed(1)} MB`)
  out.push(
    `wrk -t1, ${options.duration} s per run after ${options.warmup} s warm-up, ${options.rounds} interleaved ` +
      `round(s), ${cpus().length} CPUs, ${pinningText(pin)}; lb: 1 process, access log ` +
      `${options.accessLog ? 'on' : 'off'}, metrics ${options.metrics === false ? 'off' : 'on'}; haproxy nbthread 1`,
    `req/s, p50, p99, cpu %: median over the rounds; vs hap: lb ÷ haproxy within each round, median ` +
      `(lowest–highest); rss MB and other cpu %: highest; errors: sum`,
    `errors = non-2xx/3xx + socket errors; cpu % = target's user+sys CPU over the run (100 = one core)`,
    `other cpu % = CPU used during the run by anything but the target, nginx, wrk and this bench`,
    ...noiseWarning(rows),
    `results: ${file}`,
    '',
  )
  process.stdout.write(out.join('\n'))
}

async function run(options: Options): Promise<void> {
  const bins = checkPrerequisites(options)
  const pin = pinning()
  const startedAt = new Date().toISOString()
  log(runtimeLine())
  const nginx = await startNginx(bins.nginx, pin)
  log(`nginx pid ${nginx.proc.pid} on 127.0.0.1:${nginx.port}`)
  const targets = await startTargets(bins, nginx.port, options, pin)
  const rows = await measureAll({ wrk: bins.wrk, nginxPid: nginx.proc.pid, options, pin }, targets)
  for (const line of noiseWarning(rows)) log(line)
  const hwm = Object.fromEntries(targets.map((t) => [t.label, statusKb(t.proc.pid, 'VmHWM') / 1024]))
  const file = writeResults({
    startedAt,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version },
    lb: targets.filter((t) => t.name === 'lb').map((t) => ({ label: t.label, node: t.node })),
    versions: {
      nginx: versionOf(bins.nginx, '-v'),
      haproxy: versionOf(bins.haproxy, '-v'),
      wrk: versionOf(bins.wrk, '-v'),
    },
    options: {
      ...options,
      pinning: { proxies: pin.proxy, wrkAndNginx: pin.load },
      wrkThreads: 1,
      lbProcesses: 1,
      haproxyThreads: 1,
    },
    vmHwmMb: hwm,
    summary: summarize(rows),
    rows,
  })
  report(rows, targets, hwm, options, pin, file)
}

function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  return runBench(() => run(options))
}

/**
 * Runs `body` with cleanup on every way out: stops every process started through startProcess by PID, kills
 * client runs and removes the temp dirs, on success, on error and on Ctrl-C/SIGTERM. Returns the exit code.
 */
export async function runBench(body: () => Promise<void>): Promise<number> {
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return
    interrupted = true
    log(`${signal}: stopping`)
    void cleanup().then(() => process.exit(130))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', cleanupSync)
  try {
    await body()
    return 0
  } catch (err) {
    // After Ctrl-C the killed wrk run fails too; that is not news.
    if (interrupted) return 130
    log(err instanceof BenchError ? `error: ${err.message}` : String(err instanceof Error ? err.stack : err))
    return 1
  } finally {
    await cleanup()
  }
}

/** True when this module is the script node was started with (not imported by another bench). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl))
  } catch {
    return false
  }
}

if (isEntryPoint(import.meta.url)) process.exitCode = await main()
