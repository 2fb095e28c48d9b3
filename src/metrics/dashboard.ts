/**
 * The admin dashboard's traffic history: every 10 s the primary hands `sample` the per-service and per-server
 * counters (its own Worker's families, or the cluster workers' replies, the same data /metrics aggregates:
 * cluster.ts), and the sampler turns the difference from the previous sample into rates, p50/p99 latency and
 * gauges, kept per service in a ring of the last 15 minutes (90 samples of 10 s). Servers keep only their last
 * rates. Pure: no timers, no I/O; the caller brings the clock.
 *
 * Memory is bounded by the services in the table: one ring (90 × 10 Float32) and one set of previous counters
 * (21 Float64) per service that has counted something, removed with the service; bench/dashboard-rss.ts measures
 * it at 10,000 services (bench/RESULTS.md).
 */
import type { FamilyData } from './exposition.js'
import { families, latencyBuckets, statusClasses } from './families.js'

/** ms between samples, and samples kept (15 minutes). */
export const SAMPLE_INTERVAL = 10_000
export const SAMPLE_SLOTS = 90

/** The fields of one sample, in ring order: rates are per second, latencies in ms. */
export const sampleFields = [
  'rps',
  'r2xx',
  'r4xx',
  'r5xx',
  'p50',
  'p99',
  'inflight',
  'queue',
  'bytesInPerSec',
  'bytesOutPerSec',
] as const

export type SampleField = (typeof sampleFields)[number]
const F = sampleFields.length

/** Counter slots of a service: status classes, latency buckets (cumulative, +Inf last), bytes in and out. */
const C_CLASS = 0
const C_BUCKET = statusClasses.length
const C_BYTES_IN = C_BUCKET + latencyBuckets.length + 1
const C_BYTES_OUT = C_BYTES_IN + 1
const COUNTERS = C_BYTES_OUT + 1
/** Gauge slots after the counters: in-flight (summed over servers) and queue. */
const G_INFLIGHT = COUNTERS
const G_QUEUE = COUNTERS + 1
const CURRENT = COUNTERS + 2

const leIndex: ReadonlyMap<string, number> = new Map([
  ...latencyBuckets.map((b, i) => [String(b), i] as const),
  ['+Inf', latencyBuckets.length] as const,
])
const classIndex: ReadonlyMap<string, number> = new Map(statusClasses.map((c, i) => [c, i] as const))

class ServiceSeries {
  readonly name: string
  /** Sample `slot` of field `f` at `slot * F + f`; NaN = no sample (the service was not there yet). */
  readonly ring: Float32Array
  readonly prev: Float64Array
  readonly cur: Float64Array
  hasPrev: boolean
  /** The tick this service was last seen in the data. */
  seen: number
  constructor(name: string) {
    this.name = name
    this.ring = new Float32Array(SAMPLE_SLOTS * F).fill(NaN)
    this.prev = new Float64Array(COUNTERS)
    this.cur = new Float64Array(CURRENT)
    this.hasPrev = false
    this.seen = 0
  }
}

class ServerSeries {
  readonly service: string
  readonly server: string
  readonly prev: Float64Array
  readonly cur: Float64Array
  /** Last rates: requests, 2xx, 4xx, 5xx per second. */
  readonly rate: Float32Array
  inflight: number
  hasPrev: boolean
  seen: number
  constructor(service: string, server: string) {
    this.service = service
    this.server = server
    this.prev = new Float64Array(statusClasses.length)
    this.cur = new Float64Array(statusClasses.length)
    this.rate = new Float32Array(4)
    this.inflight = 0
    this.hasPrev = false
    this.seen = 0
  }
}

export interface ServiceSample {
  readonly service: string
  /** The latest sample's fields (0 before two samples). */
  readonly now: Readonly<Record<SampleField, number>>
}

export interface ServerSample {
  readonly service: string
  readonly server: string
  readonly rps: number
  readonly r2xx: number
  readonly r4xx: number
  readonly r5xx: number
  readonly inflight: number
}

export interface DashboardView {
  readonly interval: number
  /** Epoch ms of each kept sample, oldest first. */
  readonly times: readonly number[]
  readonly services: readonly ServiceSample[]
  readonly servers: readonly ServerSample[]
  /** Per asked-for service, each field's samples aligned with `times` (null = no sample). */
  readonly series: Readonly<Record<string, Readonly<Record<SampleField, readonly (number | null)[]>>>>
}

export class DashboardSampler {
  readonly #services: Map<string, ServiceSeries>
  readonly #servers: Map<string, Map<string, ServerSeries>>
  readonly #times: Float64Array
  /** Samples taken; the newest is at slot `(ticks - 1) % SAMPLE_SLOTS`. */
  #ticks: number
  #lastAt: number
  /** Reused per line: the label values of the series being read. */
  readonly #labels: string[]

  constructor() {
    this.#services = new Map()
    this.#servers = new Map()
    this.#times = new Float64Array(SAMPLE_SLOTS)
    this.#ticks = 0
    this.#lastAt = 0
    this.#labels = []
  }

  /** Services with a ring (tests, the bench). */
  get size(): number {
    return this.#services.size
  }

  /**
   * One sample at `now` (epoch ms) from `copies` (one list of families per process; values are summed: every
   * family read here is summed across workers, families.ts). Services and servers absent from every copy are
   * forgotten.
   */
  sample(copies: readonly (readonly FamilyData[])[], now: number): void {
    const tick = ++this.#ticks
    const slot = (tick - 1) % SAMPLE_SLOTS
    const seconds = this.#lastAt === 0 ? SAMPLE_INTERVAL / 1000 : Math.max(0.001, (now - this.#lastAt) / 1000)
    this.#lastAt = now
    this.#times[slot] = now
    for (const list of copies) for (const f of list) this.#read(f, tick)
    for (const [name, s] of this.#services) {
      if (s.seen !== tick) {
        this.#services.delete(name)
        continue
      }
      write(s, slot, seconds)
    }
    for (const [service, servers] of this.#servers) {
      for (const [name, s] of servers) {
        if (s.seen !== tick) servers.delete(name)
        else writeServer(s, seconds)
      }
      if (servers.size === 0) this.#servers.delete(service)
    }
  }

  #read(f: FamilyData, tick: number): void {
    const kind =
      f.name === families.httpRequests.name
        ? 1
        : f.name === families.httpDuration.name
          ? 2
          : f.name === families.httpBytes.name
            ? 3
            : f.name === families.queueLength.name
              ? 4
              : f.name === families.serverInflight.name
                ? 5
                : f.name === families.serverRequests.name
                  ? 6
                  : 0
    if (kind === 0) return
    const text = f.series
    const labels = this.#labels
    for (let i = 0, start = 0; start < text.length; i++) {
      const end = text.indexOf('\n', start)
      const brace = text.indexOf('{', start)
      const suffix = brace < 0 || brace > end ? '' : text.slice(start, brace)
      const v = f.values[i] as number
      if (brace >= 0 && brace < end) parseLabels(text, brace, end, labels)
      start = end + 1
      const name = labels[0]
      if (name === undefined || name === '<none>') continue
      if (kind === 6 || kind === 5) {
        const server = this.#server(name, labels[1] ?? '', tick)
        if (kind === 5) {
          server.inflight += v
          add(this.#service(name, tick).cur, G_INFLIGHT, v)
        } else {
          const c = classIndex.get(labels[2] ?? '')
          if (c !== undefined) server.cur[c] = (server.cur[c] as number) + v
        }
        continue
      }
      const s = this.#service(name, tick)
      if (kind === 1) {
        const c = classIndex.get(labels[1] ?? '')
        if (c !== undefined) add(s.cur, C_CLASS + c, v)
      } else if (kind === 2) {
        if (suffix !== '_bucket') continue
        const b = leIndex.get(labels[1] ?? '')
        if (b !== undefined) add(s.cur, C_BUCKET + b, v)
      } else if (kind === 3) add(s.cur, labels[1] === 'in' ? C_BYTES_IN : C_BYTES_OUT, v)
      else add(s.cur, G_QUEUE, v)
    }
  }

  #service(name: string, tick: number): ServiceSeries {
    let s = this.#services.get(name)
    if (s === undefined) {
      s = new ServiceSeries(name)
      // A service that appears after the first sample is new in the table: its counters started at zero.
      s.hasPrev = tick > 1
      this.#services.set(name, s)
    }
    if (s.seen !== tick) {
      s.seen = tick
      s.cur.fill(0)
    }
    return s
  }

  #server(service: string, server: string, tick: number): ServerSeries {
    let servers = this.#servers.get(service)
    if (servers === undefined) this.#servers.set(service, (servers = new Map()))
    let s = servers.get(server)
    if (s === undefined) {
      s = new ServerSeries(service, server)
      s.hasPrev = tick > 1
      servers.set(server, s)
    }
    if (s.seen !== tick) {
      s.seen = tick
      s.cur.fill(0)
      s.inflight = 0
    }
    return s
  }

  /** What the dashboard shows; `series` for the services named in `seriesOf` (the page asks for what it shows). */
  view(seriesOf: Iterable<string> = []): DashboardView {
    const n = Math.min(this.#ticks, SAMPLE_SLOTS)
    const first = this.#ticks - n
    const times: number[] = []
    for (let t = first; t < this.#ticks; t++) times.push(this.#times[t % SAMPLE_SLOTS] as number)
    const newest = (this.#ticks - 1 + SAMPLE_SLOTS) % SAMPLE_SLOTS
    const services: ServiceSample[] = []
    for (const s of this.#services.values()) {
      const now = {} as Record<SampleField, number>
      for (let f = 0; f < F; f++) {
        const v = s.ring[newest * F + f] as number
        now[sampleFields[f] as SampleField] = v === v ? round(v) : 0
      }
      services.push({ service: s.name, now })
    }
    const servers: ServerSample[] = []
    for (const list of this.#servers.values()) {
      for (const s of list.values()) {
        servers.push({
          service: s.service,
          server: s.server,
          rps: round(s.rate[0] as number),
          r2xx: round(s.rate[1] as number),
          r4xx: round(s.rate[2] as number),
          r5xx: round(s.rate[3] as number),
          inflight: s.inflight,
        })
      }
    }
    const series: Record<string, Record<SampleField, (number | null)[]>> = {}
    for (const name of seriesOf) {
      const s = this.#services.get(name)
      if (s === undefined) continue
      const out = {} as Record<SampleField, (number | null)[]>
      for (let f = 0; f < F; f++) {
        const list: (number | null)[] = []
        for (let t = first; t < this.#ticks; t++) {
          const v = s.ring[(t % SAMPLE_SLOTS) * F + f] as number
          list.push(v === v ? round(v) : null)
        }
        out[sampleFields[f] as SampleField] = list
      }
      series[name] = out
    }
    return { interval: SAMPLE_INTERVAL / 1000, times, services, servers, series }
  }
}

/** The sample of `s` at `slot` from its counters now and at the previous sample (rates need two). */
function write(s: ServiceSeries, slot: number, seconds: number): void {
  const at = slot * F
  const cur = s.cur
  const prev = s.prev
  const ring = s.ring
  if (!s.hasPrev) {
    for (let f = 0; f < F; f++) ring[at + f] = 0
  } else {
    let total = 0
    for (let c = 0; c < statusClasses.length; c++) total += delta(cur, prev, C_CLASS + c)
    ring[at] = total / seconds
    ring[at + 1] = delta(cur, prev, C_CLASS + 1) / seconds
    ring[at + 2] = delta(cur, prev, C_CLASS + 3) / seconds
    ring[at + 3] = delta(cur, prev, C_CLASS + 4) / seconds
    ring[at + 4] = quantile(0.5, cur, prev)
    ring[at + 5] = quantile(0.99, cur, prev)
    ring[at + 8] = delta(cur, prev, C_BYTES_IN) / seconds
    ring[at + 9] = delta(cur, prev, C_BYTES_OUT) / seconds
  }
  ring[at + 6] = cur[G_INFLIGHT] as number
  ring[at + 7] = cur[G_QUEUE] as number
  prev.set(cur.subarray(0, COUNTERS))
  s.hasPrev = true
}

function writeServer(s: ServerSeries, seconds: number): void {
  if (s.hasPrev) {
    let total = 0
    for (let c = 0; c < statusClasses.length; c++) total += delta(s.cur, s.prev, c)
    s.rate[0] = total / seconds
    s.rate[1] = delta(s.cur, s.prev, 1) / seconds
    s.rate[2] = delta(s.cur, s.prev, 3) / seconds
    s.rate[3] = delta(s.cur, s.prev, 4) / seconds
  }
  s.prev.set(s.cur)
  s.hasPrev = true
}

/** A counter's increase; a counter that went down (a worker restarted) counts from zero, as Prometheus' rate. */
function delta(cur: Float64Array, prev: Float64Array, i: number): number {
  const c = cur[i] as number
  const p = prev[i] as number
  return c >= p ? c - p : c
}

/**
 * The q-quantile in ms of the requests between two samples, interpolated linearly inside its bucket as
 * Prometheus' `histogram_quantile` does (the +Inf bucket answers its lower bound); 0 with no requests.
 */
export function quantile(q: number, cur: Float64Array, prev: Float64Array): number {
  const n = latencyBuckets.length + 1
  const count = delta(cur, prev, C_BUCKET + n - 1)
  if (count <= 0) return 0
  const rank = q * count
  let below = 0
  for (let b = 0; b < n; b++) {
    const c = delta(cur, prev, C_BUCKET + b)
    if (c >= rank) {
      const lo = b === 0 ? 0 : (latencyBuckets[b - 1] as number)
      if (b === n - 1) return lo * 1000
      const hi = latencyBuckets[b] as number
      const inBucket = c - below
      return (lo + (hi - lo) * (inBucket > 0 ? (rank - below) / inBucket : 1)) * 1000
    }
    below = c
  }
  return 0
}

/**
 * The label values of `{a="x",b="y"}` at `text[open..end)` into `out` (escapes undone: `\\`, `\"`, `\n`), in
 * order; `out` is cleared first.
 */
export function parseLabels(text: string, open: number, end: number, out: string[]): void {
  out.length = 0
  let i = open + 1
  while (i < end) {
    const q = text.indexOf('="', i)
    if (q < 0 || q >= end) return
    let j = q + 2
    let value = ''
    let from = j
    while (j < end) {
      const ch = text.charCodeAt(j)
      if (ch === 0x5c) {
        value += text.slice(from, j)
        const next = text[j + 1]
        value += next === 'n' ? '\n' : (next ?? '')
        j += 2
        from = j
      } else if (ch === 0x22) break
      else j++
    }
    out.push(value + text.slice(from, j))
    i = j + 2
  }
}

function add(a: Float64Array, i: number, v: number): void {
  a[i] = (a[i] as number) + v
}

function round(v: number): number {
  return Math.round(v * 100) / 100
}
