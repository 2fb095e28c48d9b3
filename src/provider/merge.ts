/**
 * Merge the latest snapshot of every provider into the one Snapshot the worker applies. Pure: never mutates
 * its input (traefik's merge does; we don't).
 *
 * Naming (decided here): the config-file provider (`file`) keeps its service names as written, so
 * config routes, logs and tests see `web`. Every other provider's services are **always** qualified
 * `name@provider` (`web@consul`), not only on collision: a name that changed whenever a collision appeared or
 * disappeared would churn connection pools and metric labels. So a static `web` and a Consul `web` never
 * silently merge; they are two services, each with its own routes. A provider that names its services so itself
 * (provider.ts `Provider.qualified`: the Consul provider as the daemon runs it) is taken as it is, without copies.
 *
 * Route precedence: providers are merged in the order given (file first), and buildTable keeps the first route
 * for a host+path, so a static route wins over a discovered one with the same host and path (reported by the
 * table's `ignored`). Within each provider the output is canonically sorted (services by name, servers by
 * name, routes by host/path), so equal inputs give deep-equal outputs whatever order a provider produced.
 */
import type { HttpRouteSpec, ServiceSpec, Snapshot, TcpRouteSpec } from '../model/snapshot.js'
import { diffList } from './delta.js'
import { lowerBound } from './sorted.js'

export interface ProviderSnapshot {
  readonly provider: string
  readonly snapshot: Snapshot
  /** Its names are qualified already (provider.ts `Provider.qualified`): taken as they are. */
  readonly qualified?: boolean
}

/** The provider whose names are not qualified. */
export const unqualifiedProvider = 'file'

export function qualify(name: string, provider: string): string {
  return name === '' ? name : name + qualifier(provider)
}

/** What `qualify` appends to a name of `provider`'s ('' for the config file's). */
export function qualifier(provider: string): string {
  return provider === unqualifiedProvider ? '' : `@${provider}`
}

/**
 * Qualified copies made by earlier merges, per provider, so that an unchanged service or route merges to the
 * same object every time (the watcher's equality check then stops at identity instead of comparing 10,000
 * services field by field). Owned by one caller (the watcher); purely a cache.
 */
export type MergeMemo = Map<string, ProviderMemo>

/**
 * A provider's last canonical input lists and their qualified copies, position by position. Both are in
 * canonical order, so a new input finds its previous copy by a walk in step (no map from each provider
 * object to its copy: at 30,000 objects a WeakMap's table took 1 MB; the input lists are the provider's own,
 * so this costs the copy lists only).
 */
export interface ProviderMemo {
  readonly services: Copies<ServiceSpec>
  readonly routes: Copies<HttpRouteSpec>
  readonly tcpRoutes: Copies<TcpRouteSpec>
}

interface Copies<T> {
  readonly from: readonly T[]
  readonly to: readonly T[]
}

const none: Copies<never> = { from: [], to: [] }

/**
 * `items` (in `order`) qualified by `copy`, each taking its copy from `memo` when the same object was there
 * last time (`memo.from` is in the same order, so one walk finds it). Returns the copies, in a list of their own.
 */
function qualifyAll<T>(
  items: readonly T[],
  memo: Copies<T>,
  order: (a: T, b: T) => number,
  copy: (item: T) => T,
): Copies<T> {
  const to: T[] = new Array<T>(items.length)
  const from = memo.from
  let j = 0
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T
    let hit: T | undefined
    if (j < from.length && from[j] === item) {
      // In step with last time (the common case: a change adds, drops or replaces a few items).
      hit = memo.to[j]
      j++
    } else {
      while (j < from.length && order(from[j] as T, item) < 0) j++
      for (let k = j; k < from.length && order(from[k] as T, item) === 0; k++) {
        if (from[k] === item) {
          hit = memo.to[k]
          break
        }
      }
    }
    to[i] = hit ?? copy(item)
  }
  return { from: items, to }
}

/**
 * The providers' lists of one kind, in order, as one list. When only one provider has any (the usual case: the
 * Consul catalog, or the config file alone) that is its list itself, shared: the merged snapshot and the memo
 * hold the same copies, and nothing mutates either. At 10,000 services a merge by pushes made every list again,
 * grown step by step: 0.8 MB of garbage per change (an allocation profile of `consul-scale`), most of what grew
 * V8's young generation during a burst of changes.
 */
function joined<T>(parts: readonly (readonly T[])[]): readonly T[] {
  let only: readonly T[] = []
  let total = 0
  let nonEmpty = 0
  for (const p of parts) {
    if (p.length === 0) continue
    only = p
    total += p.length
    nonEmpty++
  }
  if (nonEmpty <= 1) return only
  const out = new Array<T>(total)
  let i = 0
  for (const p of parts) for (let k = 0; k < p.length; k++) out[i++] = p[k] as T
  return out
}

export function merge(inputs: readonly ProviderSnapshot[], memo?: MergeMemo): Snapshot {
  const services: (readonly ServiceSpec[])[] = []
  const routes: (readonly HttpRouteSpec[])[] = []
  const tcpRoutes: (readonly TcpRouteSpec[])[] = []
  let noRoutePage = ''
  for (const { provider, snapshot, qualified } of inputs) {
    if (noRoutePage === '' && snapshot.noRoutePage !== undefined) noRoutePage = snapshot.noRoutePage
    const c = canonical(snapshot)
    if (provider === unqualifiedProvider || qualified === true) {
      if (qualified === true) memo?.delete(provider)
      services.push(c.services)
      routes.push(c.routes)
      tcpRoutes.push(c.tcpRoutes)
      continue
    }
    const last = memo?.get(provider)
    const s = qualifyAll(c.services, last?.services ?? none, cmpService, (v) => ({
      ...v,
      name: qualify(v.name, provider),
    }))
    // Routes name their service with the service copy's string (one string per service, not one per route),
    // found by name in the services (in canonical order: by name) when a route is copied.
    const name = (n: string): string => copyName(s, n) ?? qualify(n, provider)
    const r = qualifyAll(c.routes, last?.routes ?? none, cmpRoute, (v) => ({
      ...v,
      service: name(v.service),
    }))
    const t = qualifyAll(c.tcpRoutes, last?.tcpRoutes ?? none, cmpTcp, (v) => ({
      ...v,
      service: name(v.service),
    }))
    memo?.set(provider, { services: s, routes: r, tcpRoutes: t })
    services.push(s.to)
    routes.push(r.to)
    tcpRoutes.push(t.to)
  }
  const merged = { services: joined(services), routes: joined(routes), tcpRoutes: joined(tcpRoutes) }
  return noRoutePage === '' ? merged : { ...merged, noRoutePage }
}

/** The qualified name of the copy of service `name` among `services` (sorted by name), if there is one. */
function copyName(services: Copies<ServiceSpec>, name: string): string | undefined {
  const i = lowerBound(services.from, name, nameOf)
  return services.from[i]?.name === name ? services.to[i]?.name : undefined
}

function nameOf(s: { readonly name: string }): string {
  return s.name
}

/**
 * The same snapshot with services, servers and routes in a canonical order (objects shared). Arrays already in
 * order are kept (checked in one pass, the common case for the Consul provider's output), and a snapshot that
 * is already canonical is returned as it is. `base`: the provider's previous canonical snapshot; when `s` keeps
 * most of its objects, only the objects `s` adds are checked against their neighbours (the kept ones are in
 * the base's order, which is canonical), not every pair: a pass of identity checks instead of 30,000 string
 * comparisons at 10,000 services.
 */
export function canonical(s: Snapshot, base?: Snapshot): Snapshot {
  if (known.has(s)) return s
  if (base !== undefined && known.has(base) && inOrderFrom(base, s)) {
    known.add(s)
    return s
  }
  const c = sorted(s)
  known.add(c)
  return c
}

/** Whether `s` is canonical given that `base` is: each object it adds is in order with its neighbours. */
function inOrderFrom(base: Snapshot, s: Snapshot): boolean {
  const services = diffList(base.services, s.services).added
  if (services.length > s.services.length / 4) return false
  for (const [, svc] of services) if (!isSorted(svc.servers, cmpServer)) return false
  return (
    addedInOrder(s.services, services, cmpService) &&
    addedInOrder(s.routes, diffList(base.routes, s.routes).added, cmpRoute) &&
    addedInOrder(s.tcpRoutes, diffList(base.tcpRoutes, s.tcpRoutes).added, cmpTcp)
  )
}

function addedInOrder<T>(
  list: readonly T[],
  added: readonly (readonly [number, T])[],
  c: (x: T, y: T) => number,
): boolean {
  for (const [i, item] of added) {
    if (i > 0 && c(list[i - 1] as T, item) > 0) return false
    if (i + 1 < list.length && c(item, list[i + 1] as T) > 0) return false
  }
  return true
}

/**
 * Snapshots canonical() returned: the watcher canonicalizes a provider's snapshot when it arrives and merge
 * does again at every publication; at 10,000 services the order checks are 30,000 string comparisons each time.
 */
const known = new WeakSet<Snapshot>()

function sorted(s: Snapshot): Snapshot {
  let services: readonly ServiceSpec[] = s.services
  let copied = false
  for (let i = 0; i < services.length; i++) {
    const svc = services[i] as ServiceSpec
    if (isSorted(svc.servers, cmpServer)) continue
    if (!copied) {
      services = services.slice()
      copied = true
    }
    ;(services as ServiceSpec[])[i] = { ...svc, servers: svc.servers.slice().sort(cmpServer) }
  }
  if (!isSorted(services, cmpService)) services = services.slice().sort(cmpService)
  const routes = isSorted(s.routes, cmpRoute) ? s.routes : s.routes.slice().sort(cmpRoute)
  const tcpRoutes = isSorted(s.tcpRoutes, cmpTcp) ? s.tcpRoutes : s.tcpRoutes.slice().sort(cmpTcp)
  if (services === s.services && routes === s.routes && tcpRoutes === s.tcpRoutes) return s
  return s.noRoutePage === undefined
    ? { services, routes, tcpRoutes }
    : { services, routes, tcpRoutes, noRoutePage: s.noRoutePage }
}

function isSorted<T>(a: readonly T[], c: (x: T, y: T) => number): boolean {
  for (let i = 1; i < a.length; i++) if (c(a[i - 1] as T, a[i] as T) > 0) return false
  return true
}

function cmpServer(a: { readonly name: string }, b: { readonly name: string }): number {
  return cmp(a.name, b.name)
}
const cmpService = cmpServer

function cmpRoute(a: HttpRouteSpec, b: HttpRouteSpec): number {
  return cmp(a.host, b.host) || cmp(a.path, b.path)
}

function cmpTcp(a: TcpRouteSpec, b: TcpRouteSpec): number {
  return a.port - b.port || cmp(a.serverName, b.serverName) || cmp(a.service, b.service)
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
