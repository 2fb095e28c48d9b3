/**
 * Active-check cost: process CPU of the check scheduler with N servers checked every `inter` (issue 4 goal:
 * 1,000 servers every second ≤ 5 % of one core).
 *
 * The checked servers are plain listeners in a child process (so their accept/close work is not counted),
 * spread over a few ports on 127.0.0.1. The measuring process runs only a HealthChecker: after a warm-up it
 * reads `process.cpuUsage()` over `--duration` seconds and reports % of one core and CPU µs per check.
 * `--tick 1` measures exact (per-check) wake-ups, `--tick 10` a fixed 10 ms tick, instead of the checker's
 * default (checker.ts `tickFor`: 50 ms at `inter 1s`).
 * `--probe noop` swaps the real probe for one that resolves at once, which isolates the scheduler (timers,
 * results, the state machine) from the probe's sockets and syscalls.
 *
 * `sys %` is kernel time: on loopback the server side's TCP work (SYN-ACK, the RST) runs inside the checker's own
 * connect()/close() calls, so it is counted here too.
 *
 * Other work on the machine skews CPU time (cache, frequency, scheduler): the run prints the load average and
 * the CPU used by everything else during the window (`other cpu %`, from /proc/stat, 100 = one core).
 *
 *   npm run build && node dist/bench/checks.js                       # 1,000 TCP checks/s, real + noop probes
 *   node dist/bench/checks.js --probe real --type http --servers 1000 --inter 1000 --duration 20 --warmup 5
 *   node dist/bench/checks.js --tick 1                               # one wake-up per check
 *   node dist/bench/checks.js --probe real,haproxy                   # lb's checks, then haproxy's, same servers
 *
 * `--bare net,reuse,internal` measures the bare cost of one loopback connect + RST close, without the checker,
 * at the same cadence (the checker's tick, e.g. 50 connects every 50 ms): `net` = `net.connect()` +
 * `resetAndDestroy()` per connect (lb's TCP checks before socket reuse), `reuse` = one `net.Socket` reconnected after each 'close' (what
 * lb does for host-name targets and where the binding is missing), `internal` = Node's internal TCP handle
 * (`process.binding('tcp_wrap')` through src/net/node-internals.ts, deprecated and not a public API; what lb's
 * plain TCP checks of IP targets use).
 *
 *   node dist/bench/checks.js --bare net,reuse,internal --duration 10
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { connect, createServer, Socket, type AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { HealthChecker, tickFor } from '../src/health/checker.js'
import type { HealthTarget } from '../src/health/server-health.js'
import type { StartProbeFn } from '../src/health/checker.js'
import type { ProbeHandle, ProbeResult } from '../src/health/probes.js'
import { checkDefaults } from '../src/config/defaults.js'
import {
  cpuSeconds,
  findBinary,
  freePort,
  machineBusySeconds,
  makeTempDir,
  processCpu,
  startProcess,
  waitForPort,
} from './load.js'
import type { HealthCheckSpec } from '../src/model/snapshot.js'
import { nodeInternals, type RawTcp, type TcpWrap } from '../src/net/node-internals.js'
import { printRuntime } from './runtime.js'

interface Options {
  servers: number
  inter: number
  duration: number
  warmup: number
  ports: number
  type: 'tcp' | 'http'
  probes: ('real' | 'noop' | 'haproxy')[]
  tick: number
  bare: Bare[]
}

type Bare = 'net' | 'reuse' | 'internal'
const bareKinds: readonly Bare[] = ['net', 'reuse', 'internal']

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    servers: 1_000,
    inter: 1_000,
    duration: 20,
    warmup: 5,
    ports: 10,
    type: 'tcp',
    probes: ['real', 'noop'],
    tick: 0,
    bare: [],
  }
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]
    const v = argv[i + 1] ?? ''
    const n = Number(v)
    if (k === '--servers' && n >= 1 && n <= 20_000) o.servers = n
    else if (k === '--inter' && n >= 10) o.inter = n
    else if (k === '--duration' && n > 0 && n <= 300) o.duration = n
    else if (k === '--warmup' && n >= 0 && n <= 60) o.warmup = n
    else if (k === '--tick' && n >= 0 && n <= 1_000) o.tick = n
    else if (k === '--ports' && n >= 1 && n <= 100) o.ports = n
    else if (k === '--type' && (v === 'tcp' || v === 'http')) o.type = v
    else if (k === '--probe' && (v === 'real' || v === 'noop' || v === 'haproxy')) o.probes = [v]
    else if (k === '--probe' && v === 'real,haproxy') o.probes = ['real', 'haproxy']
    else if (k === '--bare' && v.split(',').every((b) => bareKinds.includes(b as Bare)))
      o.bare = v.split(',') as Bare[]
    else throw new Error(`bad argument ${k ?? ''} ${v}`)
    i++
  }
  return o
}

/** Child mode: listen on `ports` ports, answer HTTP checks with 200, print the ports as one JSON line. */
async function serve(ports: number): Promise<void> {
  const list: number[] = []
  const reply = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
  for (let i = 0; i < ports; i++) {
    const server = createServer({ noDelay: true }, (s: Socket) => {
      s.on('error', () => {})
      s.once('data', () => s.end(reply))
      s.resume()
    })
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 })
    await once(server, 'listening')
    list.push((server.address() as AddressInfo).port)
  }
  process.stdout.write(`${JSON.stringify(list)}\n`)
  process.stdin.resume()
  process.stdin.on('end', () => process.exit(0))
}

async function startServers(ports: number): Promise<{ child: ChildProcess; ports: number[] }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', String(ports)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  let out = ''
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    out += chunk.toString()
    if (out.includes('\n')) break
  }
  return { child, ports: JSON.parse(out) as number[] }
}

const OK: ProbeResult = { ok: true, reason: 'L4OK', code: 0, detail: 'connected', duration: 0 }
/** Succeeds on the next tick: what the scheduler costs without sockets. */
const noopHandle: ProbeHandle = { expire: () => {} }
const noopProbe: StartProbeFn = (_spec, _target, _now, owner, done) => {
  process.nextTick(done, owner, OK)
  return noopHandle
}

interface Row {
  probe: string
  type: string
  tick: number
  servers: number
  'checks/s': number
  'cpu % of a core': number
  'user %': number
  'sys %': number
  'µs cpu/check': number
  failed: number
  'server proc cpu %': number
  'other cpu %': number
  load1: string
}

async function measure(o: Options, kind: 'real' | 'noop', ports: number[], serverPid: number): Promise<Row> {
  let checks = 0
  let failed = 0
  const reasons = new Map<string, number>()
  const checker = new HealthChecker({
    now: Date.now,
    rand: Math.random,
    ...(o.tick > 0 ? { tick: o.tick } : {}),
    onChange: () => {},
    onResult: (_h, r) => {
      checks++
      if (!r.ok) {
        failed++
        reasons.set(`${r.reason} ${r.detail}`, (reasons.get(`${r.reason} ${r.detail}`) ?? 0) + 1)
      }
    },
    ...(kind === 'noop' ? { startProbe: noopProbe } : {}),
  })
  const spec: HealthCheckSpec = { ...checkDefaults, type: o.type, inter: o.inter, rise: 2, fall: 3 }
  const wanted = new Map<HealthTarget, { spec: HealthCheckSpec; observe: null; slowstart: number }>()
  for (let i = 0; i < o.servers; i++) {
    const port = ports[i % ports.length] as number
    const target: HealthTarget = { label: `bench/s${i}`, host: '127.0.0.1', port, address: '127.0.0.1' }
    wanted.set(target, { spec, observe: null, slowstart: 0 })
  }
  checker.sync(wanted)
  await sleep(o.warmup * 1_000)
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const m0 = machineBusySeconds()
  const s0 = cpuSeconds(serverPid)
  const n0 = checks
  const f0 = failed
  await sleep(o.duration * 1_000)
  const cpu = process.cpuUsage(c0)
  const wall = performance.now() - t0
  const m1 = machineBusySeconds()
  const s1 = cpuSeconds(serverPid)
  const n = checks - n0
  checker.stop()
  await checker.settled()
  if (reasons.size > 0) console.log(`${kind} ${o.type} failures:`, Object.fromEntries(reasons))
  const ownMs = (cpu.user + cpu.system) / 1_000
  const serverMs = (s1 - s0) * 1_000
  const machineMs = (m1 - m0) * 1_000
  return {
    probe: kind,
    type: o.type,
    tick: checker.tick,
    servers: o.servers,
    'checks/s': Math.round((n * 1_000) / wall),
    'cpu % of a core': round((ownMs / wall) * 100, 2),
    'user %': round((cpu.user / 1_000 / wall) * 100, 2),
    'sys %': round((cpu.system / 1_000 / wall) * 100, 2),
    'µs cpu/check': round((ownMs * 1_000) / Math.max(1, n), 1),
    failed: failed - f0,
    'server proc cpu %': round((serverMs / wall) * 100, 1),
    'other cpu %': round((Math.max(0, machineMs - ownMs - serverMs) / wall) * 100, 1),
    load1: (loadavg()[0] ?? 0).toFixed(2),
  }
}

/**
 * haproxy's own checks of the same servers, for comparison in the same run: `server sN … check inter <inter>
 * rise 2 fall 3` (with `option httpchk GET /` for --type http), nbthread 1, its CPU from /proc. haproxy does not
 * report how many checks it ran, so `checks/s` is the configured rate. Its TCP check connections are reset
 * before the listeners accept them (seen: 3 servers L4OK in `show stat`, 0 accepts in 4 s), so `server proc
 * cpu %` stays near 0 in its row, where lb's connections are accepted first.
 */
async function measureHaproxy(o: Options, ports: number[], serverPid: number): Promise<Row> {
  const binary = findBinary('haproxy')
  if (binary === undefined) throw new Error('--probe haproxy needs the Debian package haproxy')
  const dir = makeTempDir('checks-haproxy')
  const bind = await freePort()
  const servers: string[] = []
  for (let i = 0; i < o.servers; i++)
    servers.push(
      `  server s${i} 127.0.0.1:${ports[i % ports.length] as number} check inter ${o.inter} rise 2 fall 3`,
    )
  const file = join(dir, 'haproxy.cfg')
  writeFileSync(
    file,
    `global
  nbthread 1
  maxconn 4096

defaults
  mode ${o.type === 'http' ? 'http' : 'tcp'}
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout check 2s

listen checks
  bind 127.0.0.1:${bind}
${o.type === 'http' ? '  option httpchk GET /\n  http-check expect status 200\n' : ''}${servers.join('\n')}
`,
  )
  const proc = startProcess('haproxy', binary, ['-f', file, '-db'], 'pipe')
  try {
    await waitForPort(proc, bind)
    await sleep(o.warmup * 1_000)
    const h0 = processCpu(proc.pid)
    const t0 = performance.now()
    const m0 = machineBusySeconds()
    const s0 = cpuSeconds(serverPid)
    await sleep(o.duration * 1_000)
    const h1 = processCpu(proc.pid)
    const wall = performance.now() - t0
    const m1 = machineBusySeconds()
    const s1 = cpuSeconds(serverPid)
    const userMs = (h1.user - h0.user) * 1_000
    const sysMs = (h1.sys - h0.sys) * 1_000
    const ownMs = userMs + sysMs
    const serverMs = (s1 - s0) * 1_000
    const machineMs = (m1 - m0) * 1_000
    const rate = (o.servers * 1_000) / o.inter
    return {
      probe: 'haproxy',
      type: o.type,
      tick: 0,
      servers: o.servers,
      'checks/s': Math.round(rate),
      'cpu % of a core': round((ownMs / wall) * 100, 2),
      'user %': round((userMs / wall) * 100, 2),
      'sys %': round((sysMs / wall) * 100, 2),
      'µs cpu/check': round((ownMs * 1_000) / Math.max(1, (rate * wall) / 1_000), 1),
      failed: 0,
      'server proc cpu %': round((serverMs / wall) * 100, 1),
      'other cpu %': round((Math.max(0, machineMs - ownMs - serverMs) / wall) * 100, 1),
      load1: (loadavg()[0] ?? 0).toFixed(2),
    }
  } finally {
    process.kill(proc.pid)
  }
}

interface BareRow {
  bare: Bare
  tick: number
  'connects/s': number
  'cpu % of a core': number
  'user %': number
  'sys %': number
  'µs cpu/connect': number
  failed: number
  'server proc cpu %': number
  'other cpu %': number
  load1: string
}

/** Bare connects: one connect + RST close each, counted here; no checker, no timeouts, no result objects. */
let bareDone = 0
let bareFailed = 0
function onBareConnect(this: Socket): void {
  this.resetAndDestroy()
  bareDone++
}
function onBareError(): void {
  bareFailed++
}
function onBareClose(this: Socket): void {
  bareIdle.push(this)
}
const bareIdle: Socket[] = []
function noop(): void {}

function onInternalConnect(status: number, handle: RawTcp): void {
  if (status < 0) {
    bareFailed++
    handle.close()
    return
  }
  handle.reset(noop)
  bareDone++
}

function bareConnect(kind: Bare, port: number, tcpWrap: TcpWrap | null): void {
  if (kind === 'net') {
    const s = connect(port, '127.0.0.1')
    s.once('connect', onBareConnect)
    s.on('error', onBareError)
  } else if (kind === 'reuse') {
    let s = bareIdle.pop()
    if (s === undefined) {
      s = new Socket()
      s.on('connect', onBareConnect)
      s.on('error', onBareError)
      s.on('close', onBareClose)
    }
    s.connect(port, '127.0.0.1')
  } else if (tcpWrap !== null) {
    const h = new tcpWrap.TCP(tcpWrap.constants.SOCKET)
    const req = new tcpWrap.TCPConnectWrap()
    req.oncomplete = onInternalConnect
    if (h.connect(req, '127.0.0.1', port) !== 0) {
      bareFailed++
      h.close()
    }
  }
}

async function measureBare(o: Options, kind: Bare, ports: number[], serverPid: number): Promise<BareRow> {
  const tcpWrap = kind === 'internal' ? nodeInternals.tcpWrap : null
  if (kind === 'internal' && tcpWrap === null) throw new Error('--bare internal: no tcp_wrap binding here')
  const period = o.tick > 0 ? o.tick : tickFor(o.inter)
  const perTick = Math.max(1, Math.round((o.servers * period) / o.inter))
  let i = 0
  const tick = (): void => {
    for (let k = 0; k < perTick; k++) bareConnect(kind, ports[i++ % ports.length] as number, tcpWrap)
  }
  const warm = setInterval(tick, period)
  await sleep(o.warmup * 1_000)
  clearInterval(warm)
  await sleep(100)
  bareDone = 0
  bareFailed = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const m0 = machineBusySeconds()
  const s0 = cpuSeconds(serverPid)
  const timer = setInterval(tick, period)
  await sleep(o.duration * 1_000)
  clearInterval(timer)
  const cpu = process.cpuUsage(c0)
  const wall = performance.now() - t0
  const m1 = machineBusySeconds()
  const s1 = cpuSeconds(serverPid)
  const n = bareDone
  await sleep(100)
  const ownMs = (cpu.user + cpu.system) / 1_000
  const serverMs = (s1 - s0) * 1_000
  const machineMs = (m1 - m0) * 1_000
  return {
    bare: kind,
    tick: period,
    'connects/s': Math.round((n * 1_000) / wall),
    'cpu % of a core': round((ownMs / wall) * 100, 2),
    'user %': round((cpu.user / 1_000 / wall) * 100, 2),
    'sys %': round((cpu.system / 1_000 / wall) * 100, 2),
    'µs cpu/connect': round((ownMs * 1_000) / Math.max(1, n), 1),
    failed: bareFailed,
    'server proc cpu %': round((serverMs / wall) * 100, 1),
    'other cpu %': round((Math.max(0, machineMs - ownMs - serverMs) / wall) * 100, 1),
    load1: (loadavg()[0] ?? 0).toFixed(2),
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export async function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  printRuntime()
  const o = parseArgs(argv)
  const { child, ports } = await startServers(o.ports)
  try {
    if (o.bare.length > 0) {
      const rows: BareRow[] = []
      for (const kind of o.bare) rows.push(await measureBare(o, kind, ports, child.pid ?? 0))
      console.table(rows)
      return
    }
    const rows: Row[] = []
    for (const kind of o.probes)
      rows.push(
        kind === 'haproxy'
          ? await measureHaproxy(o, ports, child.pid ?? 0)
          : await measure(o, kind, ports, child.pid ?? 0),
      )
    console.table(rows)
  } finally {
    child.stdin?.end()
    child.kill()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--serve') await serve(Number(process.argv[3] ?? 10))
  else await run()
}
