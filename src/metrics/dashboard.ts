/**
 * The admin dashboard's traffic history: every 10 s the primary hands `sample` the per-service and per-server
 * counters (its own Worker's families, or the cluster workers' replies, the same data /metrics aggregates:
 * cluster.ts), and the sampler turns the difference from the previous sample into rates, p50/p99 latency and
 * gauges, kept per service in a ring of the last 15 minutes (90 samples of 10 s). Servers keep only their last
 * rates. Pure: no timers, no I/O; the caller brings the clock.
 *
 * Memory is bounded by the services in the table: per service the latest sample (10 Float32) and its previous
 * counters (21 Float64); a ring of the three charted fields (req/s, 5xx/s, p99: 90 × 3 Float32) only once the
 * service has served a request; everything goes with the service. bench/dashboard-rss.ts measures it at 10,000
 * services (bench/RESULTS.md): a ring of all ten fields held 36 MB of heap there, these three 11 MB.
 *
 * Reading: each family's series text is parsed once and its lines resolved to their service and server objects;
 * the next copy or sample with the same text (two workers serving the same table, a table that did not change)
 * reuses that, so a sample is additions over typed arrays. Parsing every sample made ≈ 300,000 label strings at
 * 10,000 services × 3 servers, 183 ms of CPU and +157 MB of RSS in the bench.
 */
import { parseLabels, type FamilyData } from './exposition.js'
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

/** The fields kept for 15 minutes (the page's charts), by their index in `sampleFields`. */
export const chartFields = ['rps', 'r5xx', 'p99'] as const satisfies readonly SampleField[]
export type ChartField = (typeof chartFields)[number]
const R = chartFields.length
const chartIndex: readonly number[] = chartFields.map((f) => sampleFields.indexOf(f))

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
  /** The latest sample, `sampleFields` order. `last`, `prev` and `cur` share one buffer (one allocation). */
  readonly last: Float64Array
  /**
   * Sample `slot` of chart field `r` at `slot * R + r`; NaN = no sample (no traffic yet); null until the
   * service serves its first request.
   */
  ring: Float32Array | null
  readonly prev: Float64Array
  readonly cur: Float64Array
  hasPrev: boolean
  /** The tick this service was last seen in the data. */
  seen: number
  constructor(name: string) {
    this.name = name
    const buffer = new ArrayBuffer((F + COUNTERS + CURRENT) * 8)
    this.last = new Float64Array(buffer, 0, F)
    this.ring = null
    this.prev = new Float64Array(buffer, F * 8, COUNTERS)
    this.cur = new Float64Array(buffer, (F + COUNTERS) * 8, CURRENT)
    this.hasPrev = false
    this.seen = 0
  }
  /** First count of a sample: start from zero. */
  touch(tick: number): void {
    this.seen = tick
    this.cur.fill(0)
  }
}

class ServerSeries {
  readonly service: string
  readonly server: string
  readonly prev: Float64Array
  readonly cur: Float64Array
  /** Last rates: requests, 2xx, 4xx, 5xx per second. `prev`, `cur` and `rate` share one buffer. */
  readonly rate: Float64Array
  inflight: number
  hasPrev: boolean
  seen: number
  constructor(service: string, server: string) {
    this.service = service
    this.server = server
    const n = statusClasses.length
    const buffer = new ArrayBuffer((2 * n + 4) * 8)
    this.prev = new Float64Array(buffer, 0, n)
    this.cur = new Float64Array(buffer, n * 8, n)
    this.rate = new Float64Array(buffer, 2 * n * 8, 4)
    this.inflight = 0
    this.hasPrev = false
    this.seen = 0
  }
  touch(tick: number): void {
    this.seen = tick
    this.cur.fill(0)
    this.inflight = 0
  }
}

/** `serverSlots` value: the line is the server's in-flight gauge. */
const SERVER_INFLIGHT = -2

/**
 * A family's series text with each line resolved: which slot of its service's and server's counters it adds to
 * (-1 = none), and the objects, made on the line's first non-zero value (a service nobody calls costs nothing);
 * `labels[2i]`, `labels[2i + 1]`: where the line's labels are, to name them then.
 */
interface Parsed {
  readonly series: string
  readonly services: (ServiceSeries | null)[]
  readonly serviceSlots: Int8Array
  readonly servers: (ServerSeries | null)[]
  readonly serverSlots: Int8Array
  readonly labels: Int32Array
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
  /** Per asked-for service, each chart field's samples aligned with `times` (null = no sample). */
  readonly series: Readonly<Record<string, Readonly<Record<ChartField, readonly (number | null)[]>>>>
}

export class DashboardSampler {
  readonly #services: Map<string, ServiceSeries>
  readonly #servers: Map<string, Map<string, ServerSeries>>
  readonly #times: Float64Array
  /** Samples taken; the newest is at slot `(ticks - 1) % SAMPLE_SLOTS`. */
  #ticks: number
  #lastAt: number
  /** The latest samples as `view` lists them, made once per sample (the page asks every 2 s). */
  #latest: { tick: number; services: ServiceSample[]; servers: ServerSample[] }
  /** Reused per line: the label values of the series being read. */
  readonly #labels: string[]
  /** Each family's last series text resolved to its lines' targets (reused while the text is the same). */
  #parsed: Map<string, Parsed>

  constructor() {
    this.#services = new Map()
    this.#servers = new Map()
    this.#times = new Float64Array(SAMPLE_SLOTS)
    this.#ticks = 0
    this.#lastAt = 0
    this.#labels = []
    this.#parsed = new Map()
    this.#latest = { tick: -1, services: [], servers: [] }
  }

  /** Services sampled (tests, the bench). */
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
    let dropped = false
    for (const [name, s] of this.#services) {
      if (s.seen !== tick) {
        this.#services.delete(name)
        dropped = true
        continue
      }
      write(s, slot, seconds)
    }
    for (const [service, servers] of this.#servers) {
      for (const [name, s] of servers) {
        if (s.seen !== tick) {
          servers.delete(name)
          dropped = true
        } else writeServer(s, seconds)
      }
      if (servers.size === 0) this.#servers.delete(service)
    }
    // A resolved line may point at an object just dropped: parse again next time.
    if (dropped) this.#parsed = new Map()
  }

  #read(f: FamilyData, tick: number): void {
    let p = this.#parsed.get(f.name) ?? null
    if (p === null || p.series !== f.series) {
      p = this.#parse(f)
      if (p === null) return
      this.#parsed.set(f.name, p)
    }
    const values = f.values
    const labels = this.#labels
    const n = Math.min(values.length, p.services.length)
    for (let i = 0; i < n; i++) {
      const v = values[i] as number
      const serviceSlot = p.serviceSlots[i] as number
      const serverSlot = p.serverSlots[i] as number
      let svc = p.services[i] ?? null
      let srv = p.servers[i] ?? null
      if ((svc === null && serviceSlot !== -1) || (srv === null && serverSlot !== -1)) {
        if (v === 0) continue
        parseLabels(p.series, p.labels[2 * i] as number, p.labels[2 * i + 1] as number, labels)
        const name = labels[0] as string
        if (svc === null && serviceSlot !== -1) svc = p.services[i] = this.#service(name, tick)
        if (srv === null && serverSlot !== -1) srv = p.servers[i] = this.#server(name, labels[1] ?? '', tick)
      }
      if (svc !== null) {
        if (svc.seen !== tick) svc.touch(tick)
        if (serviceSlot >= 0) add(svc.cur, serviceSlot, v)
      }
      if (srv !== null) {
        if (srv.seen !== tick) srv.touch(tick)
        if (serverSlot === SERVER_INFLIGHT) srv.inflight += v
        else if (serverSlot >= 0) add(srv.cur, serverSlot, v)
      }
    }
  }

  /** Resolve each line of `f` to the service and server it counts for, and where; null for other families. */
  #parse(f: FamilyData): Parsed | null {
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
    if (kind === 0) return null
    const text = f.series
    const labels = this.#labels
    const p: Parsed = {
      series: text,
      services: new Array<ServiceSeries | null>(f.values.length).fill(null),
      serviceSlots: new Int8Array(f.values.length).fill(-1),
      servers: new Array<ServerSeries | null>(f.values.length).fill(null),
      serverSlots: new Int8Array(f.values.length).fill(-1),
      labels: new Int32Array(2 * f.values.length),
    }
    for (let i = 0, start = 0; start < text.length; i++) {
      const end = text.indexOf('\n', start)
      const brace = text.indexOf('{', start)
      const suffix = brace < 0 || brace > end ? '' : text.slice(start, brace)
      labels.length = 0
      if (brace >= 0 && brace < end) parseLabels(text, brace, end, labels)
      p.labels[2 * i] = brace
      p.labels[2 * i + 1] = end
      start = end + 1
      const name = labels[0]
      if (name === undefined || name === '<none>') continue
      if (kind === 6 || kind === 5) {
        if (kind === 5) {
          p.serverSlots[i] = SERVER_INFLIGHT
          p.serviceSlots[i] = G_INFLIGHT
        } else {
          p.serverSlots[i] = classIndex.get(labels[2] ?? '') ?? -1
        }
        continue
      }
      let slot = -1
      if (kind === 1) {
        const c = classIndex.get(labels[1] ?? '')
        if (c !== undefined) slot = C_CLASS + c
      } else if (kind === 2) {
        const b = suffix === '_bucket' ? leIndex.get(labels[1] ?? '') : undefined
        if (b !== undefined) slot = C_BUCKET + b
      } else if (kind === 3) slot = labels[1] === 'in' ? C_BYTES_IN : C_BYTES_OUT
      else slot = G_QUEUE
      p.serviceSlots[i] = slot
    }
    return p
  }

  #service(name: string, tick: number): ServiceSeries {
    let s = this.#services.get(name)
    if (s === undefined) {
      s = new ServiceSeries(name)
      // A service that appears after the first sample is new in the table: its counters started at zero.
      s.hasPrev = tick > 1
      this.#services.set(name, s)
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
    return s
  }

  #latestLists(): { services: ServiceSample[]; servers: ServerSample[] } {
    if (this.#latest.tick === this.#ticks) return this.#latest
    const services: ServiceSample[] = []
    for (const s of this.#services.values()) {
      const now = {} as Record<SampleField, number>
      for (let f = 0; f < F; f++) now[sampleFields[f] as SampleField] = round(s.last[f] as number)
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
    this.#latest = { tick: this.#ticks, services, servers }
    return this.#latest
  }

  /** What the dashboard shows; `series` for the services named in `seriesOf` (the page asks for what it shows). */
  view(seriesOf: Iterable<string> = []): DashboardView {
    const n = Math.min(this.#ticks, SAMPLE_SLOTS)
    const first = this.#ticks - n
    const times: number[] = []
    for (let t = first; t < this.#ticks; t++) times.push(this.#times[t % SAMPLE_SLOTS] as number)
    const { services, servers } = this.#latestLists()
    const series: Record<string, Record<ChartField, (number | null)[]>> = {}
    for (const name of seriesOf) {
      const s = this.#services.get(name)
      if (s === undefined) continue
      const out = {} as Record<ChartField, (number | null)[]>
      const ring = s.ring
      for (let r = 0; r < R; r++) {
        const list: (number | null)[] = []
        for (let t = first; t < this.#ticks; t++) {
          const v = ring === null ? NaN : (ring[(t % SAMPLE_SLOTS) * R + r] as number)
          list.push(v === v ? round(v) : null)
        }
        out[chartFields[r] as ChartField] = list
      }
      series[name] = out
    }
    return { interval: SAMPLE_INTERVAL / 1000, times, services, servers, series }
  }
}

/** The sample of `s` at `slot` from its counters now and at the previous sample (rates need two). */
function write(s: ServiceSeries, slot: number, seconds: number): void {
  const cur = s.cur
  const prev = s.prev
  const last = s.last
  let total = 0
  if (s.hasPrev) {
    for (let c = 0; c < statusClasses.length; c++) total += delta(cur, prev, C_CLASS + c)
    last[0] = total / seconds
    last[1] = delta(cur, prev, C_CLASS + 1) / seconds
    last[2] = delta(cur, prev, C_CLASS + 3) / seconds
    last[3] = delta(cur, prev, C_CLASS + 4) / seconds
    last[4] = quantile(0.5, cur, prev)
    last[5] = quantile(0.99, cur, prev)
    last[8] = delta(cur, prev, C_BYTES_IN) / seconds
    last[9] = delta(cur, prev, C_BYTES_OUT) / seconds
  } else last.fill(0)
  last[6] = cur[G_INFLIGHT] as number
  last[7] = cur[G_QUEUE] as number
  let ring = s.ring
  if (ring === null) {
    // The first request: from now on the charted fields are kept (no ring for a service nobody calls).
    let counted = 0
    for (let c = 0; c < statusClasses.length; c++) counted += cur[C_CLASS + c] as number
    if (counted > 0) ring = s.ring = new Float32Array(SAMPLE_SLOTS * R).fill(NaN)
  }
  if (ring !== null) for (let r = 0; r < R; r++) ring[slot * R + r] = last[chartIndex[r] as number] as number
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

function add(a: Float64Array, i: number, v: number): void {
  a[i] = (a[i] as number) + v
}

function round(v: number): number {
  return Math.round(v * 100) / 100
}
