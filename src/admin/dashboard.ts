/**
 * `GET /api/dashboard`: what the admin page shows in one answer. Per service: balance, servers serving, queue,
 * routes, its latest traffic sample (rates, p50/p99, in-flight, bytes: src/metrics/dashboard.ts, sampled by
 * the primary) and, for a Consul service, when its watch last answered. Per server: its `show servers` row
 * (servers.ts), its last rates, and its recent health events (check results with reasons and state changes,
 * src/health/history.ts). Then the services' 15-minute series that the page asked for (`?series=a,b`, else the
 * busiest and the failing ones), a top-N of what is failing now, and the age of the Consul view.
 */
import type { HealthEvent } from '../health/history.js'
import { showServers, type ServerRow, type ServingView } from './servers.js'

/** The traffic sampler's view (src/metrics/dashboard.ts `DashboardView`; admin/ does not import metrics/). */
export interface TrafficView {
  readonly interval: number
  readonly times: readonly number[]
  readonly services: readonly { readonly service: string; readonly now: Readonly<Record<string, number>> }[]
  readonly servers: readonly {
    readonly service: string
    readonly server: string
    readonly rps: number
    readonly r2xx: number
    readonly r4xx: number
    readonly r5xx: number
    readonly inflight: number
  }[]
  readonly series: Readonly<Record<string, Readonly<Record<string, readonly (number | null)[]>>>>
}

/** One Consul watch as the provider reports it (src/provider/consul/consul.ts `watches`). */
export interface ConsulWatchInfo {
  readonly name: string
  /** Date.now() of the last successful answer; 0 = never. */
  readonly lastSuccess: number
  readonly errors: number
  readonly lastError: string
}

/** How old lb's Consul view is: the catalog watch's last answer, and every watch by name. */
export interface ConsulAge {
  /** Epoch ms of the catalog's (or the state read's) last answer; 0 = never. */
  readonly lastUpdate: number
  /** Seconds since then (null = never). */
  readonly ageSeconds: number | null
  readonly errors: number
  readonly lastError: string
}

export function consulAge(watches: readonly ConsulWatchInfo[] | null, now: number): ConsulAge | null {
  if (watches === null) return null
  let main: ConsulWatchInfo | undefined
  for (const w of watches) if (w.name === 'catalog' || w.name === 'state') main ??= w
  main ??= watches[0]
  if (main === undefined) return { lastUpdate: 0, ageSeconds: null, errors: 0, lastError: '' }
  return {
    lastUpdate: main.lastSuccess,
    ageSeconds: main.lastSuccess === 0 ? null : Math.max(0, Math.round((now - main.lastSuccess) / 100) / 10),
    errors: main.errors,
    lastError: main.lastError,
  }
}

/** The sources of the dashboard (the primary wires them). */
export interface DashboardSources {
  traffic(series: readonly string[]): TrafficView | null
  /** Health events of the server with this health-service id. */
  events(id: number): readonly HealthEvent[]
  consul(): readonly ConsulWatchInfo[] | null
}

export interface FailingItem {
  readonly kind: 'server' | 'service'
  readonly name: string
  readonly why: string
  /** Sort key: DOWN and no server serving first, then by 5xx rate. */
  readonly score: number
}

/** Services whose series are sent without being asked for: the busiest and the failing. */
const DEFAULT_SERIES = 12
/** Health events per server in the answer (the history keeps more). */
const EVENTS_SHOWN = 20
const TOP_FAILING = 10

/** What the page asks for: series of these services, a filter, how many services at most. */
export interface DashboardQuery {
  readonly series: readonly string[]
  /** Lower-case substring of a service, route, server name or address ('' = all). */
  readonly filter: string
  readonly limit: number
}

export const DEFAULT_LIMIT = 300

export function dashboard(view: ServingView, src: DashboardSources, query: DashboardQuery, now: number) {
  const state = view.state
  const asked = query.series
  const consulWatches = src.consul()
  const watchByService = new Map<string, ConsulWatchInfo>()
  for (const w of consulWatches ?? []) watchByService.set(w.name, w)
  const routesOf = new Map<string, string[]>()
  for (const r of state.table.routes) {
    const list = routesOf.get(r.service) ?? []
    list.push(r.host + r.path)
    routesOf.set(r.service, list)
  }
  const first = src.traffic([])
  const sampleOf = new Map<string, Readonly<Record<string, number>>>()
  for (const s of first?.services ?? []) sampleOf.set(s.service, s.now)
  const serverRates = new Map<string, TrafficView['servers'][number]>()
  for (const s of first?.servers ?? []) serverRates.set(s.service + '\0' + s.server, s)
  const failing: FailingItem[] = []
  const services = []
  const order = new Map<string, number>()
  for (const svc of state.services.values()) {
    const name = svc.spec.name
    // Servers as they are, without making them for a service nobody called (src/proxy/upstream.ts).
    const ups = svc.peekUpstreams()
    if (query.filter !== '' && !serviceMatches(name, ups, routesOf.get(name), query.filter)) continue
    let serving = 0
    let down = 0
    for (const u of ups) {
      if (u.up && u.admin === 'ready') serving++
      else if (!u.up && u.admin !== 'maint') down++
    }
    const at = name.lastIndexOf('@consul')
    const watch = at > 0 && at === name.length - 7 ? watchByService.get(name.slice(0, at)) : undefined
    const sample = sampleOf.get(name) ?? null
    services.push({
      service: name,
      balance: svc.spec.balance,
      proto: svc.spec.proto,
      servers: ups.length,
      serving,
      queued: svc.queue.length,
      routes: routesOf.get(name) ?? [],
      traffic: sample,
      consul:
        watch === undefined
          ? null
          : {
              lastUpdate: watch.lastSuccess,
              ageSeconds: watch.lastSuccess === 0 ? null : Math.round((now - watch.lastSuccess) / 100) / 10,
            },
    })
    const noServer = ups.length > 0 && serving === 0
    if (noServer) failing.push({ kind: 'service', name, why: 'no server serving', score: 1e9 })
    const r5xx = sample?.['r5xx'] ?? 0
    order.set(name, (noServer ? 1e12 : 0) + down * 1e9 + r5xx * 1e6 + (sample?.['rps'] ?? 0))
    if (r5xx > 0)
      failing.push({
        kind: 'service',
        name,
        why: `${r5xx} 5xx/s of ${sample?.['rps'] ?? 0} req/s`,
        score: r5xx,
      })
  }
  // The most interesting first (no server serving, servers down, then 5xx/s, then req/s), at most `limit`.
  const total = services.length
  services.sort((a, b) => (order.get(b.service) ?? 0) - (order.get(a.service) ?? 0))
  if (services.length > query.limit) services.length = query.limit
  const shown = new Set(services.map((s) => s.service))
  const rows = showServers(view, shown)
  let allServers = 0
  for (const svc of state.services.values())
    if (shown.has(svc.spec.name)) allServers += svc.spec.servers.length
  const servers = []
  for (const row of rows) {
    const rate = serverRates.get(row.service + '\0' + row.server) ?? null
    const id = healthId(view, row)
    const events = id === null ? [] : src.events(id)
    servers.push({
      ...row,
      traffic: rate === null ? null : { rps: rate.rps, r2xx: rate.r2xx, r4xx: rate.r4xx, r5xx: rate.r5xx },
      events: events.length > EVENTS_SHOWN ? events.slice(-EVENTS_SHOWN) : events,
    })
    const label = `${row.service}/${row.server}`
    if (row.status === 'DOWN')
      failing.push({ kind: 'server', name: label, why: `DOWN: ${downWhy(row)}`, score: 1e8 })
    else if (rate !== null && rate.r5xx > 0)
      failing.push({ kind: 'server', name: label, why: `${rate.r5xx} 5xx/s`, score: rate.r5xx })
  }
  failing.sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : 1))
  let wanted = asked
  if (wanted.length === 0) {
    const busy = [...sampleOf].sort((a, b) => (b[1]['rps'] ?? 0) - (a[1]['rps'] ?? 0)).map((e) => e[0])
    const set = new Set<string>()
    for (const f of failing) if (f.kind === 'service' && set.size < DEFAULT_SERIES) set.add(f.name)
    for (const n of busy) if (set.size < DEFAULT_SERIES) set.add(n)
    wanted = [...set]
  }
  const traffic = wanted.length === 0 ? first : src.traffic(wanted)
  return {
    now,
    totals: { services: state.services.size, matching: total, shown: services.length, servers: allServers },
    interval: traffic?.interval ?? null,
    times: traffic?.times ?? [],
    consul: consulAge(consulWatches, now),
    failing: failing.slice(0, TOP_FAILING).map((f) => ({ kind: f.kind, name: f.name, why: f.why })),
    services,
    servers,
    series: traffic?.series ?? {},
  }
}

function serviceMatches(
  name: string,
  ups: readonly { readonly name: string; readonly hostPort: string }[],
  routes: readonly string[] | undefined,
  filter: string,
): boolean {
  if (name.toLowerCase().includes(filter)) return true
  for (const r of routes ?? []) if (r.toLowerCase().includes(filter)) return true
  for (const u of ups)
    if (u.name.toLowerCase().includes(filter) || u.hostPort.toLowerCase().includes(filter)) return true
  return false
}

/** Why a DOWN server is down: the runtime reason, else its last check (`L7STS 503`) with the detail. */
function downWhy(row: ServerRow): string {
  if (row.lastCheck !== null)
    return row.lastCheck.result + (row.lastCheck.detail === '' ? '' : `: ${row.lastCheck.detail}`)
  return row.reason || 'down'
}

/** The health-service id of a row's server (its worker-side health view carries it), or null. */
function healthId(view: ServingView, row: ServerRow): number | null {
  const svc = view.state.services.get(row.service)
  if (svc === undefined) return null
  for (const u of svc.peekUpstreams()) {
    if (u.name !== row.server) continue
    return u.health === null ? null : u.health.id
  }
  return null
}
