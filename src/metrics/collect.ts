/**
 * A scrape: every family read from the live counters and the current table and written to its sink (text in a
 * single process, data in a cluster worker's reply). A server's escaped labels are built once per scrape and
 * shared by all of its lines; the servers are walked once for every family that lists them.
 */
import { escapeLabel, type FamilyDef, type Samples } from './exposition.js'
import {
  statusClasses,
  connectErrorReasons,
  checkBuckets,
  controlFamilies,
  serverStates,
  families,
  familyList,
  type Scope,
} from './families.js'
import type { ServiceStats, ServerStats, RouteStats, ListenerStats } from './stats.js'
import {
  Buckets,
  type MetricsTable,
  type MetricsServer,
  type MetricsService,
  type WatchView,
  type ControlSources,
  type TcpListenerView,
} from './stats.js'

/** The index in `serverStates` of `u`'s state. */
function serverStateOf(u: MetricsServer): number {
  if (u.admin === 'maint') return 3
  if (u.admin === 'drain') return 2
  return u.up ? 0 : 1
}

/** The check-duration histogram of a checked server that has not finished a check yet. */
const noChecks = new Buckets(checkBuckets)

/** What a scrape reads: a Metrics' counters and the state it was last synced with. */
export interface ScrapeSource {
  readonly enabled: boolean
  readonly services: ReadonlyMap<string, ServiceStats>
  readonly servers: ReadonlyMap<string, ReadonlyMap<string, ServerStats>>
  readonly routes: readonly (RouteStats | undefined)[]
  readonly listeners: ReadonlyMap<string, ListenerStats>
  readonly unrouted: Float64Array
  readonly current: {
    readonly table: MetricsTable | null
    readonly services: ReadonlyMap<string, MetricsService>
    readonly version: number
  }
  readonly control: ControlSources | null
  tcpListeners(): Iterable<TcpListenerView>
}

/**
 * Every family of `scope` (of those in `only`, when given) read from the live stats and state, into one sink each
 * (made by `make`, returned in `families` order; a family with no samples still has its sink, so its HELP and
 * TYPE are written).
 * Label values are escaped once per service, server, route or listener and shared by all of its lines.
 */
export function collectFamilies<S extends Samples>(
  src: ScrapeSource,
  scope: Scope,
  make: (def: FamilyDef) => S,
  only: ReadonlySet<FamilyDef> | null = null,
): S[] {
  const sinks: S[] = []
  const of = new Map<FamilyDef, S>()
  for (const def of familyList) {
    const control = controlFamilies.has(def.name)
    if (scope !== 'all' && control !== (scope === 'control')) continue
    if (only !== null && !only.has(def)) continue
    const sink = make(def)
    sinks.push(sink)
    of.set(def, sink)
  }
  const get = (def: FamilyDef): S | null => of.get(def) ?? null
  // A dashboard sample (`only`) leaves out zero in-flight and queue gauges: the sampler makes nothing of a zero
  // for a series it does not know (src/metrics/dashboard.ts), and at 10,000 services those lines were most of it.
  const sparse = only !== null
  collectServices(src, get, sparse)
  collectServers(src, get, sparse)
  collectCounted(src, get)
  collectTable(src, get)
  collectControl(src, get)
  return sinks
}

/** Per service: request counters, latency histograms, queue length; per route: request counters. */
function collectServices(src: ScrapeSource, get: (def: FamilyDef) => Samples | null, sparse: boolean): void {
  const requests = get(families.httpRequests)
  const duration = get(families.httpDuration)
  const upstream = get(families.upstreamDuration)
  const retries = get(families.httpRetries)
  const bytes = get(families.httpBytes)
  for (const s of src.services.values()) {
    const l = `{service="${escapeLabel(s.name)}"`
    if (requests !== null) addClasses(requests, l, s.byClass)
    if (duration !== null) addHistogram(duration, l, s.total)
    if (upstream !== null) addHistogram(upstream, l, s.upstream)
    retries?.add(l + '}', s.retries)
    if (bytes !== null) {
      bytes.add(l + ',direction="in"}', s.bytesIn)
      bytes.add(l + ',direction="out"}', s.bytesOut)
    }
  }
  if (requests !== null) addClasses(requests, '{service="<none>"', src.unrouted)
  const routes = get(families.routeRequests)
  if (routes !== null) {
    const rs = src.routes
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]
      if (r !== undefined) addClasses(routes, `{route="${escapeLabel(r.label)}"`, r.byClass)
    }
  }
  const queue = get(families.queueLength)
  if (queue !== null) {
    for (const svc of src.current.services.values()) {
      const n = svc.madeQueue?.length ?? 0
      if (n > 0 || !sparse) queue.add(`{service="${escapeLabel(svc.spec.name)}"}`, n)
    }
  }
}

/**
 * Every server of the table (made, or as it would be: `peekUpstreams`), in one pass for all the families that
 * list them: in-flight, state, weight, health checks.
 */
function collectServers(src: ScrapeSource, get: (def: FamilyDef) => Samples | null, sparse: boolean): void {
  const inflight = get(families.serverInflight)
  const state = get(families.serverState)
  const weight = get(families.serverWeight)
  const checks = get(families.healthChecks)
  const durations = src.enabled ? get(families.healthDuration) : null
  if (inflight === null && state === null && weight === null && checks === null && durations === null) return
  // Sparse with in-flight only (a dashboard sample): just the servers with requests in flight.
  const busyOnly = sparse && state === null && weight === null && checks === null && durations === null
  for (const svc of src.current.services.values()) {
    // Servers not made yet have served nothing: a sparse walk does not make views of them.
    const ups = busyOnly ? (svc.madeUpstreams ?? none) : svc.peekUpstreams()
    if (ups.length === 0 || (busyOnly && !anyInflight(ups))) continue
    const l = `{service="${escapeLabel(svc.spec.name)}",server="`
    for (let i = 0; i < ups.length; i++) {
      const u = ups[i] as MetricsServer
      if (busyOnly && u.inflight === 0) continue
      const key = l + escapeLabel(u.name) + '"'
      inflight?.add(key + '}', u.inflight)
      if (state !== null) {
        const now = serverStateOf(u)
        for (let k = 0; k < serverStates.length; k++)
          state.add(key + (stateLabels[k] as string), k === now ? 1 : 0)
      }
      weight?.add(key + '}', u.effectiveWeight)
      const h = u.health
      if (h === null || !h.active) continue
      if (checks !== null) {
        checks.add(key + ',result="ok"}', h.checks - h.failedChecks)
        checks.add(key + ',result="failed"}', h.failedChecks)
      }
      if (durations !== null) {
        const s = u.metrics
        addHistogram(durations, key, s === null ? noChecks : s.checkDuration)
      }
    }
  }
}

/** The servers that counted something (HTTP, connect errors, TCP) and the TCP listeners. */
function collectCounted(src: ScrapeSource, get: (def: FamilyDef) => Samples | null): void {
  const requests = get(families.serverRequests)
  const errors = get(families.connectErrors)
  const tcp = get(families.tcpServerConnections)
  const tcpBytes = get(families.tcpServerBytes)
  if (requests !== null || errors !== null || tcp !== null || tcpBytes !== null) {
    for (const [service, servers] of src.servers) {
      const l = `{service="${escapeLabel(service)}",server="`
      for (const s of servers.values()) {
        const key = l + escapeLabel(s.server) + '"'
        if (requests !== null) addClasses(requests, key, s.byClass)
        if (errors !== null) {
          for (let i = 0; i < connectErrorReasons.length; i++) {
            const v = s.connectErrors[i] as number
            if (v > 0) errors.add(key + (reasonLabels[i] as string), v)
          }
        }
        if (s.tcpConnections === 0) continue
        tcp?.add(key + '}', s.tcpConnections)
        if (tcpBytes !== null) {
          tcpBytes.add(key + ',direction="in"}', s.tcpBytesIn)
          tcpBytes.add(key + ',direction="out"}', s.tcpBytesOut)
        }
      }
    }
  }
  const connections = get(families.tcpConnections)
  const bytes = get(families.tcpBytes)
  for (const l of src.listeners.values()) {
    const key = `{listener="${escapeLabel(l.name)}"`
    connections?.add(key + '}', l.connections)
    if (bytes !== null) {
      bytes.add(key + ',direction="in"}', l.bytesIn)
      bytes.add(key + ',direction="out"}', l.bytesOut)
    }
  }
  const active = get(families.tcpActive)
  if (active !== null)
    for (const l of src.tcpListeners()) active.add(`{listener="${escapeLabel(l.name)}"}`, l.active)
}

function collectTable(src: ScrapeSource, get: (def: FamilyDef) => Samples | null): void {
  const c = src.current
  get(families.tableVersion)?.add('', c.version)
  get(families.tableRoutes)?.add('', c.table === null ? 0 : c.table.size)
  get(families.tableServices)?.add('', c.services.size)
}

/** Reloads and Consul (the primary's control sources; nothing when they are not set). */
function collectControl(src: ScrapeSource, get: (def: FamilyDef) => Samples | null): void {
  const c = src.control
  const reloads = get(families.reloads)
  if (c !== null && reloads !== null) {
    const r = c.reloads()
    reloads.add('{result="ok"}', r.ok)
    reloads.add('{result="failed"}', r.failed)
  }
  const age = get(families.watchDataAge)
  const errors = get(families.watchErrors)
  const errorsTotal = get(families.watchErrorsTotal)
  const index = get(families.watchLastIndex)
  if (age !== null || errors !== null || errorsTotal !== null || index !== null) {
    // One pass per family, as prom-client's collect did: the rows in the same order in each.
    const rows = watches(src.control)
    for (const w of rows) age?.add(`{watch="${escapeLabel(w.name)}"}`, w.dataAge / 1000)
    for (const w of rows) errors?.add(`{watch="${escapeLabel(w.name)}"}`, w.errors)
    for (const w of rows) errorsTotal?.add(`{watch="${escapeLabel(w.name)}"}`, w.totalErrors)
    for (const w of rows) index?.add(`{watch="${escapeLabel(w.name)}"}`, w.lastIndex)
  }
  const certs = get(families.tlsCertificateExpiry)
  if (certs !== null && c !== null && c.certificates !== undefined) {
    for (const x of c.certificates()) {
      const labels = `{listener="${escapeLabel(x.listener)}",name="${escapeLabel(x.name)}",file="${escapeLabel(x.file)}"}`
      certs.add(labels, x.notAfter)
    }
  }
  const problems = get(families.consulProblems)
  const consul = problems === null ? null : (src.control?.consul() ?? null)
  if (problems !== null && consul !== null) {
    for (const [kind, v] of Object.entries(consul.stats)) {
      if (kind === 'builds' || kind === 'emits' || typeof v !== 'number') continue
      problems.add(`{kind="${escapeLabel(kind)}"}`, v)
    }
  }
}

/** Consul watches: catalog and kv as they are; the per-service watches folded into one `services` row. */
export function watches(control: ControlSources | null): WatchView[] {
  const consul = control?.consul() ?? null
  if (consul === null) return []
  const out: WatchView[] = []
  let services: {
    name: string
    lastIndex: number
    errors: number
    totalErrors: number
    dataAge: number
  } | null = null
  for (const w of consul.watches()) {
    if (w.name === 'catalog' || w.name === 'kv') {
      out.push(w)
      continue
    }
    if (services === null)
      services = { name: 'services', lastIndex: 0, errors: 0, totalErrors: 0, dataAge: 0 }
    services.lastIndex = Math.max(services.lastIndex, w.lastIndex)
    services.errors += w.errors
    services.totalErrors += w.totalErrors
    services.dataAge = Math.max(services.dataAge, w.dataAge)
  }
  if (services !== null) out.push(services)
  return out
}

/** The status-class lines of a counter whose labels so far are `open` (`{service="a"`); only classes that counted. */
function addClasses(to: Samples, open: string, byClass: Float64Array): void {
  for (let i = 0; i < statusClasses.length; i++) {
    const v = byClass[i] as number
    if (v > 0) to.add(open + (codeLabels[i] as string), v)
  }
}

/** A histogram's cumulative buckets, sum and count; `open` = its labels so far (`{service="a"`), `le` last. */
function addHistogram(to: Samples, open: string, b: Buckets): void {
  const le = leLabels(b.bounds)
  let cumulative = 0
  for (let i = 0; i < le.length; i++) {
    cumulative += b.counts[i] as number
    to.add('_bucket' + open + (le[i] as string), cumulative)
  }
  to.add('_sum' + open + '}', b.sum)
  to.add('_count' + open + '}', b.count)
}

const codeLabels: readonly string[] = statusClasses.map((c) => `,code="${c}"}`)

const reasonLabels: readonly string[] = connectErrorReasons.map((r) => `,reason="${r}"}`)

const stateLabels: readonly string[] = serverStates.map((s) => `,state="${s}"}`)

/** `,le="<bound>"}` per bucket and `,le="+Inf"}`, per bucket list (there are two). */
const leCache = new Map<readonly number[], readonly string[]>()

function leLabels(bounds: readonly number[]): readonly string[] {
  let le = leCache.get(bounds)
  if (le === undefined) {
    le = [...bounds.map((b) => `,le="${b}"}`), ',le="+Inf"}']
    leCache.set(bounds, le)
  }
  return le
}

const none: readonly MetricsServer[] = []

function anyInflight(ups: readonly MetricsServer[]): boolean {
  for (let i = 0; i < ups.length; i++) if ((ups[i] as MetricsServer).inflight > 0) return true
  return false
}
