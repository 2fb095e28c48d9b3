/**
 * TLS termination: lb vs haproxy 2.6, both with the same ECDSA P-256 certificate (made here with openssl) and
 * the same TLS 1.2 cipher list (lb's default, Mozilla intermediate; TLS 1.3 suites are OpenSSL's in both), in
 * front of the same local nginx. lb and haproxy are pinned to cpu 0, nginx and the clients to cpu 1;
 * `--rounds N` interleaved rounds, the lb/haproxy ratio taken within each round, medians over the rounds.
 *
 * (a) keep-alive: `wrk -t1 -c50 --latency https://…/small` (wrk reuses its connections: TLS records, not
 *     handshakes). lb's peak RSS (VmHWM) is read right after these runs: (c).
 * (b) new TLS 1.3 handshakes without resumption: `--clients` parallel `openssl s_time -new -tls1_3 -time T`
 *     (each connection a full handshake: `-new` never offers a session; wrk is not used here because it resumes
 *     about half of its reconnections). Handshakes/s = the connections all clients completed ÷ T. The proxy's
 *     CPU % tells whether it (100 %) or the client side saturated.
 *
 *   npm run build && node dist/bench/tls.js [--duration 10] [--warmup 2] [--rounds 3] [--clients 6]
 *
 * Needs nginx, haproxy, wrk and openssl. Every process it starts is stopped by PID (load.ts runBench).
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { intermediateCiphers } from '../src/net/tls-options.js'
import {
  fail,
  findBinary,
  haproxyConfig,
  lbConfig,
  formatColumns,
  isEntryPoint,
  isRunning,
  log,
  makeTempDir,
  median,
  pinned,
  pinning,
  quietest,
  runBench,
  runClient,
  sleep,
  startHaproxyWith,
  startLbWith,
  startNginx,
  startSampler,
  statusKb,
  usageExit,
  versionOf,
  wholeNumber,
  writeResults,
  type Pinning,
  type Target,
} from './load.js'
import { runtimeLine } from './runtime.js'

const TARGET_KEEPALIVE = 0.6
const TARGET_HANDSHAKES = 0.8
const TARGET_RSS_MB = 120

interface TlsOptions {
  duration: number
  warmup: number
  rounds: number
  clients: number
  retries: number
}

const USAGE = `usage: node dist/bench/tls.js [--duration SECONDS] [--warmup SECONDS] [--rounds N] [--clients N]
  --duration N   seconds per measured run (default 10)
  --warmup N     seconds of unmeasured load before each run (default 2)
  --rounds N     interleaved rounds (default 3)
  --clients N    parallel openssl s_time processes for the handshake runs (default 6)
  --retries N    re-run a run during which other work used > 15 % of a core (default 1)`

function parseOptions(argv: string[]): TlsOptions {
  const o: TlsOptions = { duration: 10, warmup: 2, rounds: 3, clients: 6, retries: 1 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--duration') o.duration = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--warmup') o.warmup = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--rounds') o.rounds = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--clients') o.clients = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--retries') o.retries = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--help' || arg === '-h') usageExit(0, undefined, USAGE)
    else usageExit(2, `unknown argument: ${arg}`, USAGE)
  }
  return o
}

/** The ECDSA P-256 certificate both proxies serve: files for lb, one PEM (cert + key) for haproxy (also bench/h2.ts). */
export function makeCertificate(): { cert: string; key: string; pem: string } {
  const dir = makeTempDir('tls-cert')
  const cert = join(dir, 'bench.crt')
  const key = join(dir, 'bench.key')
  const key_ = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key]
  const name = ['-subj', '/CN=bench.test', '-addext', 'subjectAltName=DNS:bench.test']
  execFileSync('openssl', ['req', '-x509', ...key_, '-out', cert, '-days', '2', ...name], { stdio: 'ignore' })
  const pem = join(dir, 'bench.pem')
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'))
  return { cert, key, pem }
}

/** load.ts's haproxy, terminating TLS with `pem` and lb's TLS 1.2 cipher list. */
function haproxyTlsConfig(port: number, backend: number, pem: string): string {
  const global = `  ssl-default-bind-ciphers ${intermediateCiphers}\n  ssl-default-bind-options ssl-min-ver TLSv1.2\n`
  return haproxyConfig(port, backend, global, ` ssl crt ${pem}`)
}

/** load.ts's lb (metrics on, no access log), terminating TLS with `cert` and `key`. */
function lbTlsConfig(port: number, backend: number, cert: string, key: string): string {
  const tls = `    tls:\n      certificates: [{ cert_file: "${cert}", key_file: "${key}" }]\n`
  return lbConfig(port, backend, false, true, tls)
}

interface Run {
  target: string
  round: number
  kind: 'keepalive' | 'handshakes'
  /** req/s (keep-alive) or handshakes/s. */
  rate: number
  cpuPercent: number
  otherCpuPercent: number
  errors: number
  ratio?: number
  /** `rate` per second of the proxy's CPU: its capacity when the clients, not the proxy, set the rate. */
  perCore: number
  perCoreRatio?: number
}

/**
 * One measured run: `load(seconds)` runs the clients (and resolves with the rate they reached and their errors),
 * first unmeasured for the warm-up, then sampled.
 */
async function measured(
  t: Target,
  kind: Run['kind'],
  o: TlsOptions,
  nginxPid: number,
  round: number,
  load: (seconds: number) => Promise<{ rate: number; errors: number }>,
): Promise<Run> {
  await sleep(1_000)
  if (o.warmup > 0) await load(o.warmup)
  const stop = startSampler(t.proc.pid, nginxPid)
  const { rate, errors } = await load(o.duration)
  const s = stop()
  const perCore = s.cpuPercent > 0 ? rate / (s.cpuPercent / 100) : 0
  const base = { target: t.label, round, kind, rate, perCore, errors }
  return { ...base, cpuPercent: s.cpuPercent, otherCpuPercent: s.otherCpuPercent }
}

/** wrk -t1 -c50 over keep-alive HTTPS connections. */
async function wrkHttps(
  wrk: string,
  port: number,
  pin: Pinning,
  d: number,
): Promise<{ rate: number; errors: number }> {
  const args = ['-t1', '-c50', `-d${d}s`, '--latency', `https://127.0.0.1:${port}/small`]
  const text = await runClient(...pinned(pin, 'load', wrk, args), d)
  const rate = Number(/^Requests\/sec:\s+([\d.]+)/m.exec(text)?.[1] ?? NaN)
  if (Number.isNaN(rate)) fail(`no Requests/sec in wrk output:\n${text}`)
  let errors = 0
  for (const m of text.matchAll(/(?:connect|read|write|timeout) (\d+)/g)) errors += Number(m[1])
  return { rate, errors }
}

/** `clients` parallel `openssl s_time -new -tls1_3`: full TLS 1.3 handshakes per second, all clients together. */
async function sTime(
  openssl: string,
  port: number,
  clients: number,
  pin: Pinning,
  d: number,
): Promise<{ rate: number; errors: number }> {
  const args = ['s_time', '-connect', `127.0.0.1:${port}`, '-new', '-tls1_3', '-time', String(d)]
  const outs = await Promise.all(
    Array.from({ length: clients }, () => runClient(...pinned(pin, 'load', openssl, args), d)),
  )
  let connections = 0
  for (const text of outs) {
    const m = /(\d+) connections in [\d.]+s;/.exec(text)
    if (m?.[1] === undefined) fail(`no "connections in" in s_time output:\n${text}`)
    connections += Number(m[1])
  }
  return { rate: connections / d, errors: 0 }
}

function addRatios(runs: Run[]): void {
  for (const r of runs) {
    if (r.target !== 'lb') continue
    const base = runs.find((b) => b.target === 'haproxy' && b.kind === r.kind && b.round === r.round)
    if (base !== undefined && base.rate > 0) r.ratio = r.rate / base.rate
    if (base !== undefined && base.perCore > 0) r.perCoreRatio = r.perCore / base.perCore
  }
}

async function run(o: TlsOptions): Promise<void> {
  const bins = {
    nginx: findBinary('nginx'),
    haproxy: findBinary('haproxy'),
    wrk: findBinary('wrk'),
    openssl: findBinary('openssl'),
  }
  if (
    bins.nginx === undefined ||
    bins.haproxy === undefined ||
    bins.wrk === undefined ||
    bins.openssl === undefined
  )
    fail('needs nginx, haproxy, wrk and openssl (Debian packages of those names)')
  const wrk = bins.wrk
  const openssl = bins.openssl
  const pin = pinning()
  const startedAt = new Date().toISOString()
  log(runtimeLine())
  const cert = makeCertificate()
  const nginx = await startNginx(bins.nginx, pin)
  const haproxy = await startHaproxyWith(
    bins.haproxy,
    (port) => haproxyTlsConfig(port, nginx.port, cert.pem),
    pin,
  )
  const lb = await startLbWith((port) => lbTlsConfig(port, nginx.port, cert.cert, cert.key), { pin })
  const targets = [haproxy, lb]
  const runs: Run[] = []
  for (let round = 1; round <= o.rounds; round++) {
    for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
      if (!isRunning(t.proc)) fail(`${t.label} exited (${t.proc.exit}):\n${t.proc.output}`)
      log(`round ${round}: ${t.label} keep-alive wrk -c50`)
      runs.push(
        await quietest(o.retries, () =>
          measured(t, 'keepalive', o, nginx.proc.pid, round, (d) => wrkHttps(wrk, t.port, pin, d)),
        ),
      )
    }
  }
  const rssMb = statusKb(lb.proc.pid, 'VmHWM') / 1024
  const haproxyRssMb = statusKb(haproxy.proc.pid, 'VmHWM') / 1024
  for (let round = 1; round <= o.rounds; round++) {
    for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
      log(`round ${round}: ${t.label} new TLS 1.3 handshakes, ${o.clients} × s_time -new`)
      runs.push(
        await quietest(o.retries, () =>
          measured(t, 'handshakes', o, nginx.proc.pid, round, (d) =>
            sTime(openssl, t.port, o.clients, pin, d),
          ),
        ),
      )
    }
  }
  addRatios(runs)
  const rows: string[][] = []
  const verdicts: string[] = []
  for (const kind of ['keepalive', 'handshakes'] as const) {
    for (const t of targets) {
      const g = runs.filter((r) => r.kind === kind && r.target === t.label)
      const ratios = g.map((r) => r.ratio).filter((x): x is number => x !== undefined)
      const cell = (xs: number[]): string =>
        xs.length === 0
          ? ''
          : `${median(xs).toFixed(2)}× (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`
      const perCoreRatios = g.map((r) => r.perCoreRatio).filter((x): x is number => x !== undefined)
      rows.push([
        t.label,
        kind === 'keepalive' ? 'keep-alive req/s' : 'TLS 1.3 handshakes/s',
        median(g.map((r) => r.rate)).toFixed(0),
        cell(ratios),
        median(g.map((r) => r.cpuPercent)).toFixed(0),
        median(g.map((r) => r.perCore)).toFixed(0),
        cell(perCoreRatios),
        g.reduce((a, r) => a + r.errors, 0).toString(),
        Math.max(...g.map((r) => r.otherCpuPercent)).toFixed(0),
      ])
      if (ratios.length > 0) {
        const goal = kind === 'keepalive' ? TARGET_KEEPALIVE : TARGET_HANDSHAKES
        verdicts.push(
          `lb/haproxy ${kind}: ${median(ratios).toFixed(2)} (${median(ratios) >= goal ? 'meets' : 'BELOW'} the ≥ ${goal}× target); ` +
            `per proxy CPU-second ${median(perCoreRatios).toFixed(2)} (${median(perCoreRatios) >= goal ? 'meets' : 'BELOW'})`,
        )
      }
    }
  }
  verdicts.push(
    `lb peak RSS after the keep-alive runs: ${rssMb.toFixed(1)} MB (${rssMb <= TARGET_RSS_MB ? 'meets' : 'ABOVE'} the ≤ ${TARGET_RSS_MB} MB target); haproxy ${haproxyRssMb.toFixed(1)} MB`,
  )
  const file = writeResults(
    {
      startedAt,
      options: o,
      machine: { cpus: cpus().length, node: process.version },
      versions: { haproxy: versionOf(bins.haproxy, '-v'), openssl: versionOf(bins.openssl, 'version') },
      lbNode: lb.node,
      rssMb,
      haproxyRssMb,
      runs,
    },
    'tls',
  )
  process.stdout.write(
    [
      '',
      runtimeLine(),
      formatColumns(
        [
          'target',
          'case',
          'rate',
          'vs haproxy',
          'cpu %',
          'per core-s',
          'vs haproxy',
          'errors',
          'other cpu %',
        ],
        rows,
      ),
      'per core-s = rate ÷ (cpu % / 100): what the proxy does per second of its own CPU, its capacity when the',
      'clients on the other core, not the proxy, limit the rate (the proxy below 100 % cpu)',
      '',
      ...verdicts,
      `${o.duration} s per run after ${o.warmup} s warm-up, ${o.rounds} interleaved rounds; proxies on cpu ${pin.proxy}, wrk, s_time and nginx on cpu ${pin.load}`,
      `results: ${file}`,
      '',
    ].join('\n'),
  )
}

if (isEntryPoint(import.meta.url)) {
  const options = parseOptions(process.argv.slice(2))
  process.exitCode = await runBench(() => run(options))
}
