/**
 * HTTP/2 load comparison: lb vs haproxy, each terminating TLS with ALPN h2 (the same certificate) in front of
 * the same local nginx (HTTP/1.1, /small), driven by
 *   h2load -t1 -c<conns> -m<streams> -D <duration> https://127.0.0.1:<port>/small
 * haproxy: `bind … ssl crt <pem> alpn h2,http/1.1`. Measured as load.ts measures: both proxies pinned to cpu 0,
 * nginx and h2load to cpu 1, `--rounds N` interleaved rounds (the order alternating), the lb/haproxy ratio
 * taken within each round and the medians reported, with the proxy's CPU and peak RSS and the `other cpu %`
 * noise measure. Results also go to bench/results/h2-<timestamp>.json.
 *
 *   npm run build && node dist/bench/h2.js [--duration 10] [--warmup 2] [--rounds 3] [--conns 50] [--streams 10]
 *
 * Needs the Debian packages nginx, haproxy and nghttp2-client (h2load), and openssl for the certificate.
 * Processes, cleanup and sampling are load.ts's.
 */
import { existsSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import {
  LB_MAIN,
  alternate,
  fail,
  findBinary,
  formatColumns,
  haproxyConfig,
  lbConfig,
  isEntryPoint,
  log,
  median,
  pinned,
  pinning,
  runBench,
  runClient,
  startHaproxyWith,
  startLbWith,
  startNginx,
  startSampler,
  versionOf,
  wholeNumber,
  writeResults,
  type Pinning,
  type Target,
} from './load.js'
import { makeCertificate } from './tls.js'
import { runtimeLine } from './runtime.js'

interface H2Options {
  duration: number
  warmup: number
  rounds: number
  conns: number
  streams: number
}

const USAGE = `usage: node dist/bench/h2.js [--duration SECONDS] [--warmup SECONDS] [--rounds N] [--conns N] [--streams N]
  --duration N    seconds per measured h2load run (default 10)
  --warmup N      seconds of unmeasured load before each run (default 2)
  --rounds N      interleaved rounds (default 3)
  --conns N       h2load connections (default 50)
  --streams N     h2load concurrent streams per connection, -m (default 10)`

function parseOptions(argv: string[]): H2Options {
  const o: H2Options = { duration: 10, warmup: 2, rounds: 3, conns: 50, streams: 10 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--duration') o.duration = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--warmup') o.warmup = wholeNumber(arg, argv[++i], 0, USAGE)
    else if (arg === '--rounds') o.rounds = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--conns') o.conns = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--streams') o.streams = wholeNumber(arg, argv[++i], 1, USAGE)
    else fail(`unknown argument: ${arg}\n${USAGE}`)
  }
  return o
}

/** The listener's `tls` block for lb's config (load.ts `lbConfig`). */
function tlsLines(cert: string, key: string): string {
  return `    tls:
      certificates:
        - cert_file: ${cert}
          key_file: ${key}
`
}

interface H2Row {
  target: string
  round: number
  reqPerSec: number
  succeeded: number
  failed: number
  non2xx: number
  meanMs: number
  cpuPercent: number
  peakRssMb: number
  otherCpuPercent: number
  ratio?: number
}

function number(text: string, re: RegExp, what: string): number {
  const m = re.exec(text)
  if (m === null) fail(`h2load output without ${what}:\n${text.slice(-2048)}`)
  return Number(m[1])
}

/** Mean time per request from h2load's `time for request:` line (min, max, mean…), in ms. */
function meanMs(text: string): number {
  const m = /time for request:\s+\S+\s+\S+\s+(\d+(?:\.\d+)?)(us|ms|s)/.exec(text)
  if (m === null) return -1
  const v = Number(m[1])
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v
}

function h2load(bin: string, pin: Pinning, port: number, o: H2Options, seconds: number): Promise<string> {
  const args = [
    '-t1',
    `-c${o.conns}`,
    `-m${o.streams}`,
    '-D',
    String(seconds),
    `https://127.0.0.1:${port}/small`,
  ]
  return runClient(...pinned(pin, 'load', bin, args), seconds)
}

async function measure(
  bin: string,
  pin: Pinning,
  target: Target,
  nginxPid: number,
  o: H2Options,
  round: number,
): Promise<H2Row> {
  if (o.warmup > 0) await h2load(bin, pin, target.port, o, o.warmup)
  const stop = startSampler(target.proc.pid, nginxPid)
  const text = await h2load(bin, pin, target.port, o, o.duration)
  const sample = stop()
  if (!/application protocol: h2/i.test(text))
    fail(`${target.label} did not negotiate h2:\n${text.slice(-2048)}`)
  return {
    target: target.label,
    round,
    reqPerSec: number(text, /finished in [^,]+, ([\d.]+) req\/s/, 'req/s'),
    succeeded: number(text, /(\d+) succeeded/, 'succeeded'),
    failed: number(text, /(\d+) failed/, 'failed'),
    non2xx:
      number(text, /\d+ 2xx, (\d+) 3xx/, '3xx') +
      number(text, /(\d+) 4xx/, '4xx') +
      number(text, /(\d+) 5xx/, '5xx'),
    meanMs: meanMs(text),
    cpuPercent: sample.cpuPercent,
    peakRssMb: sample.peakRssKb / 1024,
    otherCpuPercent: sample.otherCpuPercent,
  }
}

async function run(o: H2Options): Promise<void> {
  const nginxBin = findBinary('nginx')
  const haproxyBin = findBinary('haproxy')
  const h2loadBin = findBinary('h2load')
  if (nginxBin === undefined || haproxyBin === undefined || h2loadBin === undefined)
    fail('missing: nginx, haproxy or h2load (apt-get install -y nginx haproxy nghttp2-client)')
  if (!existsSync(LB_MAIN)) fail(`${LB_MAIN} not found: run \`npm run build\` first`)
  const pin = pinning()
  const { cert, key, pem } = makeCertificate()
  const nginx = await startNginx(nginxBin, pin)
  const haproxy = await startHaproxyWith(
    haproxyBin,
    (port) => haproxyConfig(port, nginx.port, '', ` ssl crt ${pem} alpn h2,http/1.1`),
    pin,
  )
  const lb = await startLbWith((port) => lbConfig(port, nginx.port, false, true, tlsLines(cert, key)), {
    pin,
  })
  const targets = [haproxy, lb]
  log(runtimeLine())
  log(
    `haproxy ${versionOf(haproxyBin, '-v')}, h2load ${versionOf(h2loadBin, '--version')}, ${cpus().length} cpus`,
  )
  const load = loadavg()
  log(`load average at start: ${load.map((x) => x.toFixed(2)).join(' ')}`)
  const rows: H2Row[] = []
  for (let round = 1; round <= o.rounds; round++) {
    for (const target of alternate(targets, round)) {
      log(`round ${round}: ${target.label} h2load -c${o.conns} -m${o.streams} /small`)
      rows.push(await measure(h2loadBin, pin, target, nginx.proc.pid, o, round))
    }
    const base = rows.find((r) => r.round === round && r.target === 'haproxy')
    const mine = rows.find((r) => r.round === round && r.target === 'lb')
    if (base !== undefined && mine !== undefined && base.reqPerSec > 0)
      mine.ratio = mine.reqPerSec / base.reqPerSec
  }
  const table = formatColumns(
    ['target', 'round', 'req/s', 'ratio', 'failed', 'non-2xx', 'mean ms', 'cpu %', 'rss MB', 'other cpu %'],
    rows.map((r) => [
      r.target,
      String(r.round),
      r.reqPerSec.toFixed(0),
      r.ratio === undefined ? '' : r.ratio.toFixed(2),
      String(r.failed),
      String(r.non2xx),
      r.meanMs.toFixed(2),
      r.cpuPercent.toFixed(0),
      r.peakRssMb.toFixed(0),
      r.otherCpuPercent.toFixed(0),
    ]),
  )
  const ratios = rows.flatMap((r) => (r.ratio === undefined ? [] : [r.ratio]))
  const med = (name: string): number => median(rows.filter((r) => r.target === name).map((r) => r.reqPerSec))
  console.log(table)
  console.log(
    `median req/s: lb ${med('lb').toFixed(0)}, haproxy ${med('haproxy').toFixed(0)}; ` +
      `lb/haproxy median ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}..${Math.max(...ratios).toFixed(2)})`,
  )
  const file = writeResults({ options: o, loadavg: load, rows }, 'h2')
  log(`results: ${file}`)
}

if (isEntryPoint(import.meta.url))
  process.exitCode = await runBench(() => run(parseOptions(process.argv.slice(2))))
