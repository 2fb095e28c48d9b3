/**
 * Per-request header work: ns per `buildUpstreamHeaders` for a typical 12-header browser request (trusted
 * nginx peer vs untrusted peer; Title-Case HTTP/1.1 names vs lower-case names as HTTP/2 clients send them),
 * `filterResponseHeaders` on a typical response, `clientAddress`, and `CidrSet.has`.
 *
 * One timed call runs BATCH operations, because a single `has` is shorter than the timer's resolution;
 * `ns/op` is the batch mean divided by BATCH.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/headers.js
 */
import { pathToFileURL } from 'node:url'
import { Bench, type Task } from 'tinybench'
import { CidrSet } from '../src/net/cidr.js'
import {
  buildUpstreamHeaders,
  clientAddress,
  filterResponseHeaders,
  type ForwardContext,
} from '../src/proxy/headers.js'
import { printRuntime } from './runtime.js'

const BATCH = 1_000

/** Chrome over HTTP/1.1, as nginx forwards it (12 headers). */
const browser = [
  'Host',
  'app.example.com',
  'Connection',
  'keep-alive',
  'sec-ch-ua',
  '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
  'sec-ch-ua-mobile',
  '?0',
  'User-Agent',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'sec-ch-ua-platform',
  '"Linux"',
  'Accept',
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'Sec-Fetch-Site',
  'same-origin',
  'Sec-Fetch-Mode',
  'navigate',
  'Referer',
  'https://app.example.com/',
  'Accept-Encoding',
  'gzip, deflate, br, zstd',
  'Accept-Language',
  'en-GB,en;q=0.9',
]

/** The same request as nginx sends it upstream: it adds X-Real-IP / X-Forwarded-For / -Proto (15 headers). */
const viaNginx = [
  ...browser,
  'X-Real-IP',
  '198.51.100.9',
  'X-Forwarded-For',
  '198.51.100.9',
  'X-Forwarded-Proto',
  'https',
]

function lowerNames(raw: readonly string[]): string[] {
  const out = raw.slice()
  for (let i = 0; i < out.length; i += 2) out[i] = (out[i] ?? '').toLowerCase()
  return out
}

/**
 * The request as bytes. The `build` rows reuse one array, so its strings keep their cached hashes; Node's
 * HTTP parser hands every request brand-new strings. `decode + build` decodes fresh strings each op, as
 * the parser does; subtract `decode only` for the realistic cost of `buildUpstreamHeaders` itself.
 */
function toBytes(raw: readonly string[]): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < raw.length; i++) out.push(Buffer.from(raw[i] ?? '', 'latin1'))
  return out
}

const scratch: string[] = []

function decode(bytes: readonly Buffer[]): string[] {
  scratch.length = bytes.length
  for (let i = 0; i < bytes.length; i++) scratch[i] = bytes[i]?.toString('latin1') ?? ''
  return scratch
}

const response = [
  Buffer.from('Server'),
  Buffer.from('app'),
  Buffer.from('Date'),
  Buffer.from('Mon, 01 Jan 2024 00:00:00 GMT'),
  Buffer.from('Content-Type'),
  Buffer.from('text/html; charset=utf-8'),
  Buffer.from('Content-Length'),
  Buffer.from('5123'),
  Buffer.from('Connection'),
  Buffer.from('keep-alive'),
  Buffer.from('Keep-Alive'),
  Buffer.from('timeout=5'),
  Buffer.from('Set-Cookie'),
  Buffer.from('a=1; Path=/; HttpOnly'),
  Buffer.from('Set-Cookie'),
  Buffer.from('b=2; Path=/; HttpOnly'),
  Buffer.from('Cache-Control'),
  Buffer.from('no-store'),
]

const untrustedCtx: ForwardContext = {
  remoteAddress: '203.0.113.7',
  clientAddress: '203.0.113.7',
  trusted: false,
  proto: 'https',
  localPort: 443,
  httpVersion: '1.1',
  websocket: false,
  clientIpHeader: '',
  clientIpLower: '',
  forwardedBy: '',
  hostHeader: '',
  prefix: '',
  requestIdHeader: 'x-request-id',
  requestId: '5f2a9c0d13e4a1b200000001',
  certHeaders: new Set(),
  certHeader: '',
  certValue: '',
}

const trustedCtx: ForwardContext = {
  ...untrustedCtx,
  remoteAddress: '10.0.0.2',
  clientAddress: '198.51.100.9',
  trusted: true,
}

const proxies = new CidrSet(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8', '::1'])
const empty = new CidrSet([])

/** Keeps results alive so the JIT cannot drop the work. */
let sink = 0

function row(task: Task): Record<string, string | number> {
  const r = task.result
  if (r.state !== 'completed') return { task: task.name, state: r.state }
  return {
    task: task.name,
    'ns/op': ((r.latency.mean * 1e6) / BATCH).toFixed(1),
    'ops/s': Math.round((BATCH * 1e3) / r.latency.mean),
    '± %': r.latency.rme.toFixed(2),
    samples: r.latency.samplesCount,
  }
}

export async function run(): Promise<void> {
  const bench = new Bench({ name: 'headers', time: 500, warmupTime: 200 })
  const builds: [string, readonly string[], ForwardContext][] = [
    ['build untrusted 12h', browser, untrustedCtx],
    ['build untrusted 12h lower-case', lowerNames(browser), untrustedCtx],
    ['build trusted 15h (via nginx)', viaNginx, trustedCtx],
    ['build trusted 15h lower-case', lowerNames(viaNginx), trustedCtx],
  ]
  for (const [name, raw, ctx] of builds) {
    bench.add(name, () => {
      for (let i = 0; i < BATCH; i++) sink += buildUpstreamHeaders(raw, ctx).length
    })
  }
  const viaNginxBytes = toBytes(viaNginx)
  bench.add('decode only 15h (baseline)', () => {
    for (let i = 0; i < BATCH; i++) sink += decode(viaNginxBytes).length
  })
  bench.add('decode + build trusted 15h', () => {
    for (let i = 0; i < BATCH; i++) sink += buildUpstreamHeaders(decode(viaNginxBytes), trustedCtx).length
  })
  bench.add('filterResponseHeaders 9h (Buffers)', () => {
    for (let i = 0; i < BATCH; i++) sink += filterResponseHeaders(response).length
  })
  bench.add('clientAddress trusted, 1 hop', () => {
    for (let i = 0; i < BATCH; i++) sink += clientAddress('10.0.0.2', '198.51.100.9', proxies).length
  })
  const has: [string, CidrSet, string][] = [
    ['has empty set', empty, '10.0.0.2'],
    ['has v4 hit (1st of 5)', proxies, '10.0.0.2'],
    ['has v4 miss (5 nets)', proxies, '203.0.113.7'],
    ['has mapped v4 hit', proxies, '::ffff:192.168.1.1'],
    ['has v6 hit', proxies, 'fd00::1234'],
    ['has v6 miss', proxies, '2001:db8::1'],
  ]
  for (const [name, set, ip] of has) {
    bench.add(name, () => {
      for (let i = 0; i < BATCH; i++) sink += set.has(ip) ? 1 : 0
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
