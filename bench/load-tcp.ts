/**
 * TCP-mode load comparison: lb (`mode: tcp` listener) vs haproxy (`mode tcp`), the same way as load.ts.
 *
 * 1. Request/response: both proxies in front of the same local nginx, driven through them by
 *      wrk -t1 -c50 -d<duration>s --latency http://127.0.0.1:<port>/small
 *    (HTTP over the TCP proxies: keep-alive connections, so this measures relaying small messages).
 * 2. Bulk: both proxies in front of one iperf3 server, driven through them by
 *      iperf3 -c 127.0.0.1 -p <port> -t <duration> -J        (client → server)
 *      iperf3 -c 127.0.0.1 -p <port> -t <duration> -J -R     (server → client)
 *
 * Prints req/s, p50/p99 and Gbit/s with the lb/haproxy ratios, proxy CPU, RSS and the `other cpu %` noise
 * measure; results also go to bench/results/load-tcp-<timestamp>.json. Measured as load.ts measures: the
 * proxies pinned to cpu 0, wrk, iperf3 and the backends to cpu 1, `--rounds N` interleaved rounds with the
 * ratio taken within each round and medians reported, `--node PATH` (repeatable) for lb's Node.
 *
 *   npm run build && node dist/bench/load-tcp.js [--duration 10] [--warmup 2] [--rounds 3] [--conns 50]
 *                                                [--node PATH]... [--targets haproxy,lb] [--retries 2]
 *                                                [--no-bulk] [--no-reverse]
 *
 * Needs the Debian packages nginx, haproxy, wrk and iperf3. Processes, cleanup and sampling are load.ts's.
 */
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import {
  ALL_TARGETS,
  LB_MAIN,
  SMALL_BODY,
  addRatios,
  alternate,
  checkResponse,
  fail,
  findBinary,
  formatColumns,
  formatSummary,
  freePort,
  isEntryPoint,
  isRunning,
  lbStarts,
  log,
  measureQuietest,
  median,
  nodeBinary,
  NOISY_OTHER_CPU_PERCENT,
  pinned,
  pinning,
  quietest,
  runBench,
  runClient,
  runtimesLine,
  sleep,
  startHaproxyWith,
  startLbWith,
  startNginx,
  startProcess,
  startSampler,
  statusKb,
  summarize,
  targetList,
  usageExit,
  versionOf,
  waitForPort,
  wholeNumber,
  writeResults,
  type LbStart,
  type Options,
  type Pinning,
  type Proc,
  type Row,
  type Target,
  type TargetName,
} from './load.js'
import { runtimeLine } from './runtime.js'

/** Targets for lb ÷ haproxy (the acceptance bar). */
const TARGET_RPS_RATIO = 0.9
const TARGET_BULK_RATIO = 0.8

// ---------------------------------------------------------------------------------------------------------
// Options

interface TcpOptions extends Options {
  conns: number
  bulk: boolean
  reverse: boolean
}

const USAGE = `usage: node dist/bench/load-tcp.js [--duration SECONDS] [--warmup SECONDS] [--rounds N] [--conns N]
                                   [--node PATH]... [--targets haproxy,lb] [--retries N] [--no-bulk]
                                   [--no-reverse]
  --duration N    seconds per measured wrk / iperf3 run (default 10)
  --warmup N      seconds of unmeasured load before each run (default 2)
  --rounds N      interleaved rounds of every run on every target (default 3)
  --conns N       wrk connections for the request/response runs (default 50)
  --node PATH     run lb on this node binary; repeat to compare several (default: this bench's node)
  --targets LIST  comma-separated subset of haproxy,lb (default both)
  --retries N     re-run a run during which other work used > 15 % of a core, up to N times, keeping
                  the quietest (default 2)
  --no-bulk       skip the iperf3 runs
  --no-reverse    skip the iperf3 -R (server → client) runs`

function parseOptions(argv: string[]): TcpOptions {
  const options: TcpOptions = {
    duration: 10,
    warmup: 2,
    rounds: 3,
    nodes: [],
    quick: true,
    accessLog: false,
    targets: [...ALL_TARGETS],
    retries: 2,
    conns: 50,
    bulk: true,
    reverse: true,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--duration') options.duration = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--warmup') options.warmup = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--conns') options.conns = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--rounds') options.rounds = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--node') options.nodes.push(nodeBinary(argv[++i], USAGE))
    else if (arg === '--targets') options.targets = targetList(argv[++i], USAGE)
    else if (arg === '--retries') options.retries = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--no-bulk') options.bulk = false
    else if (arg === '--no-reverse') options.reverse = false
    else if (arg === '--help' || arg === '-h') usageExit(0, undefined, USAGE)
    else usageExit(2, `unknown argument: ${arg}`, USAGE)
  }
  return options
}

// ---------------------------------------------------------------------------------------------------------
// Prerequisites

interface Binaries {
  nginx: string
  haproxy: string
  wrk: string
  iperf3: string
}

const TOOLS = ['nginx', 'haproxy', 'wrk', 'iperf3'] as const

function checkPrerequisites(options: TcpOptions): Binaries {
  const nginx = findBinary('nginx')
  const haproxy = findBinary('haproxy')
  const wrk = findBinary('wrk')
  const iperf3 = findBinary('iperf3')
  if (nginx === undefined || haproxy === undefined || wrk === undefined || iperf3 === undefined) {
    const missing = TOOLS.filter((name) => findBinary(name) === undefined).join(' ')
    fail(
      `missing: ${missing} (the bench needs the Debian packages ${TOOLS.join(', ')})\n` +
        `install with: apt-get update && apt-get install -y ${missing}`,
    )
  }
  if (options.targets.includes('lb') && !existsSync(LB_MAIN)) {
    fail(`${LB_MAIN} not found: run \`npm run build\` first (or pass --targets haproxy)`)
  }
  return { nginx, haproxy, wrk, iperf3 }
}

// ---------------------------------------------------------------------------------------------------------
// Proxies in TCP mode (timeouts as load.ts's haproxy: connect 5s, client 30s, server 30s)

export function haproxyTcpConfig(port: number, backendPort: number): string {
  return `global
  nbthread 1
  maxconn 4096

defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend bench
  bind 127.0.0.1:${port}
  default_backend upstream

backend upstream
  balance roundrobin
  server upstream1 127.0.0.1:${backendPort}
`
}

/** `tunnel: 0s`: no tunnel timeout, so client/server inactivity apply as in haproxy without `timeout tunnel`. */
export function lbTcpConfig(port: number, backendPort: number): string {
  return `listeners:
  - name: bench
    address: 127.0.0.1:${port}
    mode: tcp
    service: upstream
    timeouts:
      client: 30s
      server: 30s
      tunnel: 0s
services:
  - name: upstream
    balance: roundrobin
    timeouts:
      connect: 5s
    servers:
      - address: 127.0.0.1:${backendPort}
log:
  level: warn
  access:
    enabled: false
admin:
  address: off
`
}

/** The targets `name` stands for: haproxy, or one lb per `--node`, pinned to the proxies' cpu. */
async function startTcpTargets(
  name: TargetName,
  bins: Binaries,
  backendPort: number,
  options: TcpOptions,
  pin: Pinning,
): Promise<Target[]> {
  if (name === 'haproxy')
    return [await startHaproxyWith(bins.haproxy, (port) => haproxyTcpConfig(port, backendPort), pin)]
  const starts: LbStart[] = lbStarts(options.nodes, pin)
  return Promise.all(starts.map((o) => startLbWith((port) => lbTcpConfig(port, backendPort), o)))
}

// ---------------------------------------------------------------------------------------------------------
// 1. Request/response: wrk through the TCP proxies to nginx (load.ts's measure, path /small)

async function requestResponse(
  bins: Binaries,
  options: TcpOptions,
  pin: Pinning,
): Promise<{ rows: Row[]; hwm: Hwm; targets: Target[] }> {
  const nginx = await startNginx(bins.nginx, pin)
  log(`nginx pid ${nginx.proc.pid} on 127.0.0.1:${nginx.port}`)
  const targets: Target[] = []
  for (const name of options.targets) {
    for (const target of await startTcpTargets(name, bins, nginx.port, options, pin)) {
      await checkResponse(target.label, target.port, '/small', Buffer.byteLength(SMALL_BODY))
      const on = target.node === '' ? '' : ` on Node ${target.node}`
      log(`${target.label} (mode tcp) pid ${target.proc.pid} on 127.0.0.1:${target.port}${on} → nginx`)
      targets.push(target)
    }
  }
  const ctx = { wrk: bins.wrk, nginxPid: nginx.proc.pid, options, pin }
  const rows: Row[] = []
  for (let round = 1; round <= options.rounds; round++) {
    for (const target of alternate(targets, round)) {
      log(`[request/response] round ${round}: ${target.label} /small -c${options.conns}`)
      rows.push(await measureQuietest(ctx, target, '/small', options.conns, round))
    }
  }
  addRatios(rows)
  return { rows, hwm: peakRss(targets), targets }
}

// ---------------------------------------------------------------------------------------------------------
// 2. Bulk: iperf3 through the TCP proxies to an iperf3 server

type Direction = 'client→server' | 'server→client (-R)'

interface BulkRow {
  /** The target's label (see load.ts Target). */
  target: string
  kind: TargetName
  round: number
  direction: Direction
  /** The receiver's bits per second (end.sum_received), in Gbit/s. */
  gbps: number
  /** Bytes the receiver got over the run. */
  bytes: number
  retransmits: number
  cpuPercent: number
  peakRssMb: number
  otherCpuPercent: number
  /** lb rows only, when haproxy ran the same direction in the same round. */
  ratio?: number
}

/** One target and direction over the rounds: median Gbit/s and ratio (with the ratios' range). */
interface BulkSummary {
  target: string
  direction: Direction
  runs: number
  gbps: number
  retransmits: number
  cpuPercent: number
  peakRssMb: number
  otherCpuPercent: number
  ratio?: { median: number; min: number; max: number }
}

interface IperfResult {
  bitsPerSecond: number
  bytes: number
  retransmits: number
}

/** One iperf3 client run, pinned to the load cpu; resolves with its JSON (-J) report. */
function runIperf(
  binary: string,
  port: number,
  seconds: number,
  reverse: boolean,
  pin: Pinning,
): Promise<string> {
  const args = [
    '-c',
    '127.0.0.1',
    '-p',
    String(port),
    '-t',
    String(seconds),
    '-J',
    ...(reverse ? ['-R'] : []),
  ]
  return runClient(...pinned(pin, 'load', binary, args), seconds)
}

function parseIperf(text: string): IperfResult {
  let report: unknown
  try {
    report = JSON.parse(text)
  } catch {
    fail(`iperf3 did not print JSON:\n${text.slice(-2048)}`)
  }
  const end = (
    report as { end?: { sum_received?: Record<string, number>; sum_sent?: Record<string, number> } }
  ).end
  const received = end?.sum_received
  if (received?.bits_per_second === undefined)
    fail(`no end.sum_received in iperf3 output:\n${text.slice(-2048)}`)
  return {
    bitsPerSecond: received.bits_per_second,
    bytes: received.bytes ?? 0,
    retransmits: end?.sum_sent?.retransmits ?? 0,
  }
}

async function measureBulk(
  bins: Binaries,
  server: Proc,
  target: Target,
  direction: Direction,
  options: TcpOptions,
  pin: Pinning,
  round: number,
): Promise<BulkRow> {
  if (!isRunning(target.proc))
    fail(`${target.label} has exited (${target.proc.exit}):\n${target.proc.output}`)
  if (!isRunning(server)) fail(`iperf3 server has exited (${server.exit}):\n${server.output}`)
  const reverse = direction !== 'client→server'
  await sleep(1_000) // let the previous test's connections close (the iperf3 server runs one test at a time)
  if (options.warmup > 0) await runIperf(bins.iperf3, target.port, options.warmup, reverse, pin)
  await sleep(500)
  const stopSampler = startSampler(target.proc.pid, server.pid)
  const text = await runIperf(bins.iperf3, target.port, options.duration, reverse, pin)
  const sample = stopSampler()
  const result = parseIperf(text)
  return {
    target: target.label,
    kind: target.name,
    round,
    direction,
    gbps: result.bitsPerSecond / 1e9,
    bytes: result.bytes,
    retransmits: result.retransmits,
    cpuPercent: sample.cpuPercent,
    peakRssMb: sample.peakRssKb / 1024,
    otherCpuPercent: sample.otherCpuPercent,
  }
}

async function bulk(
  bins: Binaries,
  options: TcpOptions,
  pin: Pinning,
): Promise<{ rows: BulkRow[]; hwm: Hwm }> {
  const port = await freePort()
  const server = startProcess(
    'iperf3',
    ...pinned(pin, 'load', bins.iperf3, ['-s', '-B', '127.0.0.1', '-p', String(port)]),
    'pipe',
  )
  await waitForPort(server, port)
  log(`iperf3 server pid ${server.pid} on 127.0.0.1:${port}`)
  const targets: Target[] = []
  for (const name of options.targets) {
    for (const target of await startTcpTargets(name, bins, port, options, pin)) {
      log(`${target.label} (mode tcp) pid ${target.proc.pid} on 127.0.0.1:${target.port} → iperf3`)
      targets.push(target)
    }
  }
  const directions: Direction[] = options.reverse
    ? ['client→server', 'server→client (-R)']
    : ['client→server']
  const rows: BulkRow[] = []
  for (let round = 1; round <= options.rounds; round++) {
    for (const [i, direction] of directions.entries()) {
      for (const target of alternate(targets, round + i)) {
        log(`[bulk] round ${round}: ${target.label} iperf3 ${direction}`)
        rows.push(
          await quietest(options.retries, () =>
            measureBulk(bins, server, target, direction, options, pin, round),
          ),
        )
      }
    }
  }
  for (const row of rows) {
    if (row.kind !== 'lb') continue
    const base = rows.find(
      (r) => r.kind === 'haproxy' && r.direction === row.direction && r.round === row.round,
    )
    if (base !== undefined && base.gbps > 0) row.ratio = row.gbps / base.gbps
  }
  return { rows, hwm: peakRss(targets) }
}

/** Bulk rows per target and direction, in first-seen order: medians, highest RSS and other cpu %. */
function summarizeBulk(rows: readonly BulkRow[]): BulkSummary[] {
  const groups = new Map<string, BulkRow[]>()
  for (const r of rows) {
    const key = `${r.direction} ${r.target}`
    const g = groups.get(key)
    if (g === undefined) groups.set(key, [r])
    else g.push(r)
  }
  const out: BulkSummary[] = []
  for (const g of groups.values()) {
    const first = g[0] as BulkRow
    const ratios = g.map((r) => r.ratio).filter((x): x is number => x !== undefined)
    const s: BulkSummary = {
      target: first.target,
      direction: first.direction,
      runs: g.length,
      gbps: median(g.map((r) => r.gbps)),
      retransmits: median(g.map((r) => r.retransmits)),
      cpuPercent: median(g.map((r) => r.cpuPercent)),
      peakRssMb: Math.max(...g.map((r) => r.peakRssMb)),
      otherCpuPercent: Math.max(...g.map((r) => r.otherCpuPercent)),
    }
    if (ratios.length > 0)
      s.ratio = { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
    out.push(s)
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Output

type Hwm = Record<string, number>

/** Each target's VmHWM (peak RSS since it started), in MB, read before it is stopped. */
function peakRss(targets: Target[]): Hwm {
  return Object.fromEntries(targets.map((t) => [t.label, statusKb(t.proc.pid, 'VmHWM') / 1024]))
}

const BULK_COLUMNS = [
  'target',
  'iperf3',
  'runs',
  'Gbit/s',
  'retrans',
  'cpu %',
  'rss MB',
  'Gbit/s vs hap',
  'other cpu %',
]

function bulkCells(s: BulkSummary): string[] {
  const r = s.ratio
  return [
    s.target,
    s.direction,
    String(s.runs),
    s.gbps.toFixed(2),
    s.retransmits.toFixed(0),
    s.cpuPercent.toFixed(0),
    s.peakRssMb.toFixed(1),
    r === undefined
      ? ''
      : r.min === r.max
        ? r.median.toFixed(2)
        : `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`,
    s.otherCpuPercent.toFixed(0),
  ]
}

function verdict(label: string, ratio: number | undefined, goal: number): string[] {
  if (ratio === undefined) return []
  const ok = ratio >= goal ? 'meets' : 'BELOW'
  return [`lb/haproxy ${label}: ${ratio.toFixed(2)} (${ok} the ≥ ${goal.toFixed(1)}× target)`]
}

function noiseWarning(rr: Row[], bulkRows: BulkRow[]): string[] {
  const noisy = [
    ...rr
      .filter((r) => r.otherCpuPercent > NOISY_OTHER_CPU_PERCENT)
      .map((r) => `${r.target} ${r.path} -c${r.conns} round ${r.round} (${r.otherCpuPercent.toFixed(0)} %)`),
    ...bulkRows
      .filter((r) => r.otherCpuPercent > NOISY_OTHER_CPU_PERCENT)
      .map((r) => `${r.target} iperf3 ${r.direction} round ${r.round} (${r.otherCpuPercent.toFixed(0)} %)`),
  ]
  if (noisy.length === 0) return []
  return [
    `WARNING: other work used the CPUs during ${noisy.length} run(s): ${noisy.join(', ')}; numbers are noisy`,
  ]
}

function report(
  rr: Row[],
  bulkRows: BulkRow[],
  targets: Target[],
  hwm: Hwm,
  options: TcpOptions,
  pin: Pinning,
  file: string,
): void {
  const rrSummary = summarize(rr)
  const bulkSummary = summarizeBulk(bulkRows)
  const out: string[] = ['', runtimesLine(targets), '']
  out.push(`request/response: wrk -t1 -c${options.conns} --latency /small through mode tcp`)
  out.push(formatSummary(rrSummary), '')
  if (bulkRows.length > 0) {
    out.push(`bulk: iperf3 -t ${options.duration} -J (1 stream) through mode tcp; Gbit/s = end.sum_received`)
    out.push(formatColumns(BULK_COLUMNS, bulkSummary.map(bulkCells)), '')
  }
  for (const [name, mb] of Object.entries(hwm))
    out.push(`${name} VmHWM (peak RSS, worst of the two setups): ${mb.toFixed(1)} MB`)
  for (const s of rrSummary)
    if (s.reqPerSecRatio !== undefined)
      out.push(...verdict(`${s.target} req/s`, s.reqPerSecRatio.median, TARGET_RPS_RATIO))
  for (const s of bulkSummary)
    if (s.ratio !== undefined)
      out.push(...verdict(`${s.target} Gbit/s ${s.direction}`, s.ratio.median, TARGET_BULK_RATIO))
  out.push(
    `${options.duration} s per run after ${options.warmup} s warm-up, ${options.rounds} interleaved round(s), ` +
      `${cpus().length} CPUs, proxies on cpu ${pin.proxy}, clients and backends on cpu ${pin.load}; ` +
      `haproxy nbthread 1, lb 1 process; medians over the rounds, ratios within each round`,
    `errors = non-2xx/3xx + socket errors; cpu % = target's user+sys CPU over the run (100 = one core)`,
    `other cpu % = CPU used during the run by anything but the target, the backend (nginx or iperf3 -s), ` +
      `the client (wrk or iperf3 -c) and this bench`,
    ...noiseWarning(rr, bulkRows),
    `results: ${file}`,
    '',
  )
  process.stdout.write(out.join('\n'))
}

// ---------------------------------------------------------------------------------------------------------
// Main

async function run(options: TcpOptions): Promise<void> {
  const bins = checkPrerequisites(options)
  const pin = pinning()
  const startedAt = new Date().toISOString()
  log(runtimeLine())
  const rr = await requestResponse(bins, options, pin)
  const bulkResult = options.bulk ? await bulk(bins, options, pin) : { rows: [], hwm: {} }
  const hwm: Hwm = { ...rr.hwm }
  for (const [name, mb] of Object.entries(bulkResult.hwm)) hwm[name] = Math.max(hwm[name] ?? 0, mb)
  for (const line of noiseWarning(rr.rows, bulkResult.rows)) log(line)
  const file = writeResults(
    {
      startedAt,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version },
      lb: rr.targets.filter((t) => t.name === 'lb').map((t) => ({ label: t.label, node: t.node })),
      versions: {
        nginx: versionOf(bins.nginx, '-v'),
        haproxy: versionOf(bins.haproxy, '-v'),
        wrk: versionOf(bins.wrk, '-v'),
        iperf3: versionOf(bins.iperf3, '--version'),
      },
      options: {
        ...options,
        mode: 'tcp',
        pinning: { proxies: pin.proxy, clientsAndBackends: pin.load },
        wrkThreads: 1,
        lbProcesses: 1,
        haproxyThreads: 1,
      },
      vmHwmMb: hwm,
      requestResponseSummary: summarize(rr.rows),
      bulkSummary: summarizeBulk(bulkResult.rows),
      requestResponse: rr.rows,
      bulk: bulkResult.rows,
    },
    'load-tcp',
  )
  report(rr.rows, bulkResult.rows, rr.targets, hwm, options, pin, file)
}

if (isEntryPoint(import.meta.url)) {
  const options = parseOptions(process.argv.slice(2))
  process.exitCode = await runBench(() => run(options))
}
