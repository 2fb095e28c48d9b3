/**
 * Memory and CPU of the admin dashboard's traffic sampler (src/metrics/dashboard.ts) at N services × 3 servers
 * (default 10,000): the families two cluster workers would send (every service counting requests, latencies and
 * bytes, every server its in-flight gauge and requests), sampled until the 15-minute ring is full (91 samples),
 * in this process. Reports the heap and RSS the sampler adds (after a full GC, inputs excluded: they are made
 * before the first measurement and kept to the end), the CPU time of one sample, and the time and JSON size of
 * the sampler's view with the series of 20 services.
 *
 *   npm run build && node --expose-gc dist/bench/dashboard-rss.js [--services 10000]
 */
import { DashboardSampler, SAMPLE_SLOTS } from '../src/metrics/dashboard.js'
import { latencyBuckets } from '../src/metrics/families.js'
import type { FamilyData } from '../src/metrics/exposition.js'
import { printRuntime } from './runtime.js'

interface Copy {
  readonly families: FamilyData[]
  /** Values to grow between samples (the counters). */
  readonly counters: Float64Array[]
}

function family(name: string, series: string[]): FamilyData {
  return { name, series: series.join('\n') + '\n', values: new Float64Array(series.length) }
}

/** One worker's reply families for `n` services named like Consul's (`svc-00042@consul`), 3 servers each. */
function makeCopy(n: number): Copy {
  const requests: string[] = []
  const duration: string[] = []
  const bytes: string[] = []
  const queue: string[] = []
  const inflight: string[] = []
  const serverRequests: string[] = []
  for (let i = 0; i < n; i++) {
    const s = `svc-${String(i).padStart(5, '0')}@consul`
    requests.push(`{service="${s}",code="2xx"}`, `{service="${s}",code="5xx"}`)
    for (const b of latencyBuckets) duration.push(`_bucket{service="${s}",le="${b}"}`)
    duration.push(`_bucket{service="${s}",le="+Inf"}`, `_sum{service="${s}"}`, `_count{service="${s}"}`)
    bytes.push(`{service="${s}",direction="in"}`, `{service="${s}",direction="out"}`)
    queue.push(`{service="${s}"}`)
    for (let k = 0; k < 3; k++) {
      inflight.push(`{service="${s}",server="10.0.${k}.${i % 250}:8080"}`)
      serverRequests.push(`{service="${s}",server="10.0.${k}.${i % 250}:8080",code="2xx"}`)
    }
  }
  const families = [
    family('lb_http_requests_total', requests),
    family('lb_http_request_duration_seconds', duration),
    family('lb_http_bytes_total', bytes),
    family('lb_service_queue_length', queue),
    family('lb_server_inflight', inflight),
    family('lb_http_server_requests_total', serverRequests),
  ]
  return { families, counters: [0, 1, 2, 5].map((i) => (families[i] as FamilyData).values) }
}

function grow(c: Copy, step: number): void {
  for (const v of c.counters) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) + step + (i % 7)
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g === undefined) throw new Error('run with node --expose-gc')
  g()
  g()
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}

const argv = process.argv.slice(2)
const at = argv.indexOf('--services')
const services = at >= 0 ? Number(argv[at + 1]) : 10_000
printRuntime()
const copies = [makeCopy(services), makeCopy(services)]
gc()
const m0 = process.memoryUsage()
const sampler = new DashboardSampler()
const cpu: number[] = []
for (let t = 0; t <= SAMPLE_SLOTS; t++) {
  for (const c of copies) grow(c, t)
  const before = process.cpuUsage()
  sampler.sample(
    copies.map((c) => c.families),
    1_000_000 + t * 10_000,
  )
  const used = process.cpuUsage(before)
  cpu.push((used.user + used.system) / 1000)
}
gc()
const m1 = process.memoryUsage()
const names = Array.from({ length: 20 }, (_, i) => `svc-${String(i).padStart(5, '0')}@consul`)
const v0 = process.cpuUsage()
const json = JSON.stringify(sampler.view(names))
const v1 = process.cpuUsage(v0)
cpu.sort((a, b) => a - b)
console.log(`services ${services} × 3 servers, 2 worker copies, ${SAMPLE_SLOTS + 1} samples (ring full)`)
// Typed arrays over 64 bytes live outside the JS heap (arrayBuffers): live = heapUsed + arrayBuffers.
const live = m1.heapUsed + m1.arrayBuffers - (m0.heapUsed + m0.arrayBuffers)
console.log(
  `sampler: live +${mb(live)} MB (heap +${mb(m1.heapUsed - m0.heapUsed)}, array buffers +${mb(m1.arrayBuffers - m0.arrayBuffers)}), RSS +${mb(m1.rss - m0.rss)} MB (${sampler.size} services kept)`,
)
console.log(
  `one sample: CPU median ${(cpu[cpu.length >> 1] ?? 0).toFixed(1)} ms, max ${(cpu.at(-1) ?? 0).toFixed(1)} ms`,
)
console.log(
  `view (all services' latest, 20 series): CPU ${((v1.user + v1.system) / 1000).toFixed(1)} ms, JSON ${mb(json.length)} MB`,
)
