/**
 * Consul catalog + health JSON → Snapshot (STYLE §6). Pure and fixture-tested: client.ts fetches, this decides.
 *
 * Per instance of `/v1/health/service/<name>` (Consul's `CheckServiceNode`):
 * - checks considered: the node's checks (`ServiceID` '') and the instance's own (`ServiceID` = `Service.ID`);
 * - dropped when the node is in maintenance (`_node_maintenance`) or the instance is (`_service_maintenance:<id>`);
 * - status = the worst of those checks (critical > warning > passing), Consul's own aggregation (what
 *   `?passing` filters on). fabio instead keeps an instance when any one service check passes, so a critical
 *   check can be outvoted; we don't;
 * - an instance with no service-level check is routed only with `routeWithoutChecks` (fabio never routes it);
 *   node checks (serfHealth, maintenance) still apply to it;
 * - routed when its status is in `status` (`passing`, optionally `warning`);
 * - address = `Service.Address`, or `Node.Address` when empty (Consul's documented fallback);
 * - dynamic weight = `Service.Weights.Passing` (or `.Warning` for a warning instance), default 1;
 * - each `urlprefix-` tag is one route (tags.ts); every other tag becomes a target tag for `route del/weight`.
 * Then the route commands from the KV prefix are applied, key by key in key order, line by line (routecmd.ts),
 * and the IR becomes the Snapshot. Problems (a bad tag, a bad KV line) drop only what they concern and are
 * returned for the caller to log and count.
 */
import type { ConsulStatus } from '../../config/types.js'
import type {
  HttpRouteSpec,
  ServerSpec,
  ServiceDefaults,
  ServiceSpec,
  Snapshot,
  TcpRouteSpec,
} from '../../model/snapshot.js'
import {
  addTargetAt,
  applyCommands,
  parseCommands,
  newSnapshotMemo,
  srcKey,
  toSnapshot,
  resetMemo,
  httpRoute,
  scaleWeights,
  serviceSpec,
  type Ir,
  type ToSnapshotOptions,
  type ParseResult,
  type SnapshotMemo,
  type Target,
} from '../../fabio/routecmd.js'
import { defaultOpts, parseTag, type Src, type TagResult } from '../../fabio/tags.js'

export interface ConsulCheck {
  readonly Node?: string
  readonly CheckID: string
  readonly Name?: string
  readonly Status: string
  readonly ServiceID?: string
  readonly ServiceName?: string
}

export interface HealthEntry {
  readonly Node: { readonly Node: string; readonly Address: string; readonly Datacenter?: string }
  readonly Service: {
    readonly ID: string
    readonly Service: string
    readonly Tags: readonly string[] | null
    readonly Address: string
    readonly Port: number
    readonly Weights?: { readonly Passing: number; readonly Warning: number } | null
  }
  readonly Checks: readonly ConsulCheck[] | null
  /** The instance's status, computed from its checks by minimalEntries (which then keeps no checks). */
  readonly status?: InstanceStatus
}

/**
 * The part of a `/v1/health/service/<name>` answer that build reads, as new small objects: the provider keeps
 * this, not the parsed answer (real answers also carry Meta, TaggedAddresses, Proxy, Connect, check
 * definitions and outputs, which lb never reads and which at 10,000 services would stay in memory). Entries
 * without a usable `Service` are skipped. The checks are reduced to the instance's status (`status`, what
 * build reads of them), instances of one answer share equal tag lists and service names, and the usual
 * weights `{1, 1}` are one shared object: 30,000 instances are then about half the memory.
 */
export function minimalEntries(raw: readonly unknown[]): HealthEntry[] {
  const out: HealthEntry[] = []
  let lastTags: readonly string[] | null = null
  let lastName = ''
  for (const item of raw) {
    if (typeof item !== 'object' || item === null) continue
    const e = item as { Node?: Record<string, unknown>; Service?: Record<string, unknown>; Checks?: unknown }
    const n = e.Node ?? {}
    const sv = e.Service
    if (typeof sv !== 'object' || sv === null || typeof sv.ID !== 'string') continue
    const w = sv.Weights as { Passing?: unknown; Warning?: unknown } | null | undefined
    const checks: ConsulCheck[] = []
    if (Array.isArray(e.Checks)) {
      for (const c of e.Checks as Record<string, unknown>[]) {
        if (typeof c !== 'object' || c === null) continue
        checks.push({
          CheckID: str(c.CheckID),
          Status: str(c.Status),
          ServiceID: str(c.ServiceID),
        })
      }
    }
    let tags: readonly string[] = Array.isArray(sv.Tags)
      ? (sv.Tags as unknown[]).filter((t): t is string => typeof t === 'string')
      : noTags
    if (lastTags !== null && sameTagList(lastTags, tags)) tags = lastTags
    else lastTags = tags
    let name = str(sv.Service)
    if (name === lastName) name = lastName
    else lastName = name
    out.push({
      Node: { Node: shared(str(n.Node)), Address: shared(str(n.Address)) },
      Service: {
        ID: sv.ID,
        Service: name,
        Tags: tags,
        Address: str(sv.Address),
        Port: typeof sv.Port === 'number' ? sv.Port : 0,
        Weights:
          w !== null &&
          typeof w === 'object' &&
          typeof w.Passing === 'number' &&
          typeof w.Warning === 'number'
            ? w.Passing === 1 && w.Warning === 1
              ? unitWeights
              : { Passing: w.Passing, Warning: w.Warning }
            : null,
      },
      Checks: noChecks,
      status: statusOf(sv.ID, checks),
    })
  }
  return out
}

/**
 * One string object per distinct node name and node address: every instance on a node repeats them, and each
 * answer's JSON.parse makes new copies. Bounded: cleared when it holds 10,000 strings.
 */
const nodeStrings = new Map<string, string>()

function shared(s: string): string {
  const known = nodeStrings.get(s)
  if (known !== undefined) return known
  if (nodeStrings.size >= 10_000) nodeStrings.clear()
  nodeStrings.set(s, s)
  return s
}

const noTags: readonly string[] = Object.freeze([])
const noChecks: readonly ConsulCheck[] = Object.freeze([])
const unitWeights = Object.freeze({ Passing: 1, Warning: 1 })

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

/**
 * Check a parsed `/v1/health/service/<name>` body against the fields build reads: a list of entries with
 * `Node.{Node,Address}`, `Service.{ID,Service,Address,Port}` (`Tags` a string list or null, `Weights` numbers or
 * null) and `Checks` null or a list of `{CheckID, Status}` strings. Returns the list, or why it is not one; a
 * caller keeps its last good state instead of building from a body Consul would never send.
 */
export function healthEntries(data: unknown): readonly HealthEntry[] | string {
  if (!Array.isArray(data)) return 'not a list'
  for (let i = 0; i < data.length; i++) {
    const why = entryProblem(data[i])
    if (why !== '') return `entry ${i}: ${why}`
  }
  return data as HealthEntry[]
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function entryProblem(e: unknown): string {
  if (!isObject(e)) return 'not an object'
  const n = e.Node
  if (!isObject(n) || typeof n.Node !== 'string' || typeof n.Address !== 'string')
    return 'Node.Node and Node.Address must be strings'
  const s = e.Service
  if (
    !isObject(s) ||
    typeof s.ID !== 'string' ||
    typeof s.Service !== 'string' ||
    typeof s.Address !== 'string' ||
    typeof s.Port !== 'number'
  )
    return 'Service.ID, .Service, .Address must be strings and .Port a number'
  if (s.Tags !== null && s.Tags !== undefined) {
    if (!Array.isArray(s.Tags) || s.Tags.some((t) => typeof t !== 'string'))
      return 'Service.Tags must be a list of strings'
  }
  const w = s.Weights
  if (
    w !== null &&
    w !== undefined &&
    (!isObject(w) || typeof w.Passing !== 'number' || typeof w.Warning !== 'number')
  )
    return 'Service.Weights must hold numbers'
  const checks = e.Checks
  if (checks !== null && checks !== undefined) {
    if (!Array.isArray(checks)) return 'Checks must be a list'
    for (const c of checks) {
      if (!isObject(c) || typeof c.CheckID !== 'string' || typeof c.Status !== 'string')
        return 'every check needs CheckID and Status strings'
      if (c.ServiceID !== undefined && c.ServiceID !== null && typeof c.ServiceID !== 'string')
        return 'check ServiceID must be a string'
    }
  }
  return ''
}

export interface KvPair {
  readonly key: string
  readonly value: string
}

export interface BuildOptions {
  readonly tagPrefix: string
  readonly status: readonly ConsulStatus[]
  readonly routeWithoutChecks: boolean
  /** Datacenter for ${DC}. */
  readonly dc: string
  readonly defaults: ServiceDefaults
}

export interface BuildInput {
  /** Service name → instances (the `/v1/health/service/<name>` body), for every routed service. */
  readonly health: ReadonlyMap<string, readonly HealthEntry[]>
  /** Route command keys under the KV prefix, sorted by key. */
  readonly kv: readonly KvPair[]
}

export interface BuildProblem {
  /** `service/instance tag "..."` or `kv <key>:<line>`. */
  readonly where: string
  readonly reason: string
  /** true: something was dropped; false: a warning (something ignored). */
  readonly dropped: boolean
  /** A service tag, or a route command line (KV). */
  readonly kind: 'tag' | 'command'
  /** The service whose tag it is ('' for commands). */
  readonly service: string
}

export interface BuildResult {
  readonly snapshot: Snapshot
  readonly problems: readonly BuildProblem[]
}

export type InstanceStatus = 'passing' | 'warning' | 'critical' | 'maintenance' | 'nochecks'

const rank: Readonly<Record<string, number>> = { passing: 0, warning: 1, critical: 2 }

const maintPrefix = '_service_maintenance:'

/** The routing status of one instance (see the module comment). */
export function instanceStatus(e: HealthEntry): InstanceStatus {
  return e.status ?? statusOf(e.Service.ID, e.Checks ?? noChecks)
}

/** The status of instance `id` with `checks` (its node's and its own). */
function statusOf(id: string, checks: readonly ConsulCheck[]): InstanceStatus {
  let worst = 0
  let serviceChecks = 0
  for (const c of checks) {
    const sid = c.ServiceID ?? ''
    if (c.CheckID === '_node_maintenance') return 'maintenance'
    const cid = c.CheckID
    // `_service_maintenance:<id>`, compared without building the string for every check.
    if (cid.length === maintPrefix.length + id.length && cid.startsWith(maintPrefix) && cid.endsWith(id))
      return 'maintenance'
    if (sid !== '' && sid !== id) continue
    if (sid === id) serviceChecks++
    worst = Math.max(worst, rank[c.Status] ?? 2)
  }
  if (worst === 2) return 'critical'
  if (serviceChecks === 0) return 'nochecks'
  return worst === 1 ? 'warning' : 'passing'
}

/** Whether an instance with this status is routed, and with which dynamic weight. -1 = not routed. */
function routedWeight(e: HealthEntry, status: InstanceStatus, o: BuildOptions): number {
  const w = e.Service.Weights
  switch (status) {
    case 'passing':
      return w?.Passing ?? 1
    case 'warning':
      return o.status.includes('warning') ? (w?.Warning ?? 1) : -1
    case 'nochecks':
      return o.routeWithoutChecks ? (w?.Passing ?? 1) : -1
    default:
      return -1
  }
}

/**
 * Reused between builds by the caller (the provider), so that a rebuild after one service changed costs about
 * that service, not all of them. Purely a cache: results are equal without it.
 * - `services`: per service, keyed on the identity of its entries array (the provider replaces the array only
 *   when that service's payload changed): its part of the snapshot (`Piece`, while it owns its routes) and, while
 *   KV commands need them, its instances' targets, so unchanged services are neither re-parsed nor rebuilt and
 *   keep their objects;
 * - `commands`: each KV value's parsed commands, keyed on the text;
 * - `names`: the service names, sorted once per change of the name set;
 * - `snapshot`: routecmd.ts SnapshotMemo for the IR build: routes whose targets are the same objects reuse last
 *   time's route and service objects, so an unchanged part of the snapshot is the same objects as before.
 */
export interface BuildCache {
  services: Map<string, ServiceTargets>
  commands: Map<string, ParseResult>
  names: { unsorted: string[]; sorted: string[] }
  readonly snapshot: SnapshotMemo
}

export function newBuildCache(): BuildCache {
  return {
    services: new Map(),
    commands: new Map(),
    names: { unsorted: [], sorted: [] },
    snapshot: newSnapshotMemo(),
  }
}

/** One service's routing targets: parallel lists (item i = route key i, source i, target i), not an object each. */
interface Items {
  readonly itemKeys: readonly string[]
  readonly srcs: readonly Src[]
  readonly targets: readonly Target[]
}

/** What the cache keeps of one service. */
interface ServiceTargets {
  readonly entries: readonly HealthEntry[]
  /**
   * Its targets; null once its `piece` is built and no KV commands are in use: the piece is all a build then
   * needs, and the targets (an object per instance, lists per service) would only take memory. An IR build
   * (KV commands, shared keys) parses them again from `entries` and keeps them while it is needed.
   */
  items: Items | null
  readonly problems: readonly BuildProblem[]
  /** This service's part of a snapshot when it owns its routes alone (see `ownedBuild`), built on first use. */
  piece: Piece | null
}

/** `st`'s items, parsed again from its entries when the cache dropped them. */
function itemsOf(name: string, st: ServiceTargets, o: BuildOptions): Items {
  if (st.items === null) st.items = serviceTargets(name, st.entries, o).items
  return st.items as Items
}

/** toSnapshot over one service's targets (exact-size lists), and the defaults it was built with. */
interface Piece extends Snapshot {
  readonly defaults: ServiceDefaults
}

const noRoutes: readonly never[] = Object.freeze([])

function pieceOf(snapshot: Snapshot, defaults: ServiceDefaults): Piece {
  const { routes, tcpRoutes, services } = snapshot
  return {
    defaults,
    routes: routes.length === 0 ? noRoutes : routes.slice(),
    tcpRoutes: tcpRoutes.length === 0 ? noRoutes : tcpRoutes.slice(),
    services,
  }
}

const SOURCE = 'consul'
/** Where the route key starts in a route's source (`consul:<key>`). */
const KEY_AT = SOURCE.length + 1
const CH_SLASH = 0x2f

function sourceOf(r: { readonly source: string }): string {
  return r.source
}

function nameOf(s: ServiceSpec): string {
  return s.name
}

/** The map's keys sorted; the cached sort when the keys are the same, in the same order, as last time. */
function sortedNames(health: ReadonlyMap<string, unknown>, cache: BuildCache | undefined): readonly string[] {
  if (cache === undefined) return [...health.keys()].sort()
  const prev = cache.names.unsorted
  if (prev.length === health.size) {
    let i = 0
    let same = true
    for (const k of health.keys()) {
      if (prev[i++] !== k) {
        same = false
        break
      }
    }
    if (same) return cache.names.sorted
  }
  const unsorted = [...health.keys()]
  cache.names = { unsorted, sorted: unsorted.slice().sort() }
  return cache.names.sorted
}

/**
 * The snapshot of the Consul catalog `input`. One result, two ways to it:
 * - `irBuild`, the general build (fabio's model: every target in one table, the KV route commands applied,
 *   then toSnapshot over the whole table);
 * - `ownedBuild`, when there are no KV commands and no route key or service name is fed by two services (the
 *   usual catalog): each service's part of the snapshot is built alone and kept in the cache, so a rebuild
 *   reuses every unchanged service whole; and within it `plainService`, which builds the usual service's part
 *   straight from its instances, without targets, an IR or toSnapshot.
 * They are kept because of what they save, measured with bench/consul-rebuild.ts's data (10,000 services × 3
 * instances, 20,000 routes) with buildSnapshot forced onto fewer paths: medians of three interleaved rounds,
 * wall / CPU ms, 2026-12-06, 2-core AMD EPYC VM, Node 24.21.0, load average 1.4–2.6 from other work:
 *
 *   paths                             cold (fresh cache)   one service changed   one service added
 *   ownedBuild, plainService, irBuild 48–84 / 57–94        6.9–7.2 / 11–13       5.9–10.5 / 10–16
 *   ownedBuild (no plainService)      97–163 / 148–209     8.0–14.5 / 14–26      7.0–13.2 / 12–13
 *   irBuild only                      217–303 / 257–366    52–79 / 60–102        56–99 / 85–134
 *
 * A third path, patching the last snapshot in place when a service changed without changing its routes, was
 * removed: next to ownedBuild's cached parts it saved nothing measurable (one service changed, load average
 * below 1.6: 4.8–6.0 ms wall with it, 4.9–8.9 without). The property tests (test/fuzz/consul-build.fuzz.test.ts)
 * hold every path to irBuild's result.
 */
export function buildSnapshot(input: BuildInput, o: BuildOptions, cache?: BuildCache): BuildResult {
  if (input.kv.length === 0) {
    const owned = ownedBuild(input, o, cache)
    if (owned !== null) return owned
  }
  return irBuild(input, o, cache)
}

/** The service of `name` with `entries`: from the cache while its entries array is the same, else parsed. */
function targetsOf(
  name: string,
  entries: readonly HealthEntry[],
  o: BuildOptions,
  services: Map<string, ServiceTargets> | undefined,
): ServiceTargets {
  let hit = services?.get(name)
  if (hit === undefined || hit.entries !== entries) {
    hit = plainService(name, entries, o) ?? serviceTargets(name, entries, o)
    services?.set(name, hit)
  }
  return hit
}

/**
 * The usual service, built straight into its snapshot part without targets, an IR or toSnapshot: every routed
 * instance carries the same tags, each routing tag is an HTTP route without options (`urlprefix-host/path`),
 * no tag is malformed, and no two instances share an id or an address:port. Then every route of the service
 * has the same server list (the routed instances by id, with their dynamic weights), so the part is one
 * service spec named after the service and one route per distinct key, which is what toSnapshot makes of
 * those targets. null for anything else (the general path decides). Its items are left null: an IR build
 * parses them from the entries when it needs them.
 */
function plainService(name: string, entries: readonly HealthEntry[], o: BuildOptions): ServiceTargets | null {
  let tags: readonly string[] | null = null
  // Scratch lists (plainService is not re-entered): a build calls it 10,000 times.
  const routed = scratchEntries
  const dynWeights = scratchWeights
  const keys = scratchKeys
  const srcs = scratchSrcs
  routed.length = 0
  dynWeights.length = 0
  keys.length = 0
  srcs.length = 0
  for (const e of entries) {
    const dynWeight = routedWeight(e, instanceStatus(e), o)
    if (dynWeight < 0) continue
    const t = e.Service.Tags ?? noTags
    if (tags === null) tags = t
    else if (!sameTagList(tags, t)) return null
    routed.push(e)
    dynWeights.push(dynWeight)
  }
  for (const tag of tags ?? noTags) {
    const r = parseTag(tag, o.tagPrefix, o.dc)
    if (r === null) continue
    if (!r.ok || r.route.warnings.length > 0) return null
    const { src, opts, weight } = r.route
    if (opts !== defaultOpts || weight !== 0 || src.kind !== 'http') return null
    const key = srcKey(src)
    if (keys.includes(key)) return null
    keys.push(key)
    srcs.push(src)
  }
  const n = routed.length
  const servers = new Array<ServerSpec>(n)
  const weights = dynWeights
  scaleWeights(weights, false)
  for (let i = 0; i < n; i++) {
    const e = routed[i] as HealthEntry
    const host = e.Service.Address !== '' ? e.Service.Address : e.Node.Address
    servers[i] = {
      name: flat(e.Node.Node, '/', e.Service.ID),
      host,
      port: e.Service.Port,
      weight: weights[i] as number,
      backup: false,
      maxconn: 0,
      state: 'up',
    }
  }
  // toSnapshot orders servers by id and keeps one of a repeated id; addTargetAt keeps one of a repeated
  // address:port. Both are left to the general path.
  servers.sort(byServerName)
  for (let i = 1; i < n; i++)
    if ((servers[i - 1] as ServerSpec).name === (servers[i] as ServerSpec).name) return null
  if (repeatsAddress(servers)) return null
  // Routes in key order (a service has one or two keys, rarely more: an insertion sort of both lists).
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i] as string
    const src = srcs[i] as HttpSrc
    let j = i - 1
    for (; j >= 0 && (keys[j] as string) > k; j--) {
      keys[j + 1] = keys[j] as string
      srcs[j + 1] = srcs[j] as HttpSrc
    }
    keys[j + 1] = k
    srcs[j + 1] = src
  }
  const routes = new Array<HttpRouteSpec>(keys.length)
  for (let i = 0; i < keys.length; i++)
    routes[i] = httpRoute(srcs[i] as HttpSrc, defaultOpts, name, null, flat(SOURCE, ':', keys[i] as string))
  const services = routes.length === 0 ? [] : [serviceSpec(name, o.defaults, 'http', false, servers)]
  return {
    entries,
    items: null,
    problems: noProblems,
    piece: {
      defaults: o.defaults,
      routes: routes.length === 0 ? noRoutes : routes,
      tcpRoutes: noRoutes,
      services,
    },
  }
}

type HttpSrc = Extract<Src, { kind: 'http' }>

const scratchEntries: HealthEntry[] = []
const scratchWeights: number[] = []
const scratchKeys: string[] = []
const scratchSrcs: HttpSrc[] = []

/** Whether two servers have the same host and port (pairwise for a few, a Set for many). */
function repeatsAddress(servers: readonly ServerSpec[]): boolean {
  const n = servers.length
  if (n > 16) {
    const seen = new Set<string>()
    for (const v of servers) seen.add(`${v.port} ${v.host}`)
    return seen.size !== n
  }
  for (let i = 0; i < n; i++) {
    const a = servers[i] as ServerSpec
    for (let j = i + 1; j < n; j++) {
      const b = servers[j] as ServerSpec
      if (a.port === b.port && a.host === b.host) return true
    }
  }
  return false
}

function byServerName(a: ServerSpec, b: ServerSpec): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/**
 * The full build when every service owns its routes alone (no KV commands, no route key or service name fed by
 * two services), which is the usual Consul catalog: each service's part is toSnapshot over its own targets
 * (`Piece`, kept with the service, so a later full build reuses every unchanged service whole), and the parts
 * are concatenated and sorted as toSnapshot sorts (routes by key, services by name). Equal to `irBuild`'s
 * result (toSnapshot names a route's service from that route's own targets and the earlier routes of the same
 * service, all inside the part). Returns null when two parts share a route key or a service name: then
 * `irBuild` merges them.
 */
function ownedBuild(input: BuildInput, o: BuildOptions, cache: BuildCache | undefined): BuildResult | null {
  const options: ToSnapshotOptions = { defaults: o.defaults, source: SOURCE }
  const problems: BuildProblem[] = []
  const lowRoutes: HttpRouteSpec[] = []
  const pathRoutes: HttpRouteSpec[] = []
  let routes: HttpRouteSpec[] = []
  const tcpRoutes: TcpRouteSpec[] = []
  const specs: ServiceSpec[] = []
  const services = cache?.services
  for (const name of sortedNames(input.health, cache)) {
    const hit = targetsOf(name, input.health.get(name) ?? [], o, services)
    for (const p of hit.problems) problems.push(p)
    let piece = hit.piece
    if (piece === null || piece.defaults !== o.defaults) {
      const ir: Ir = new Map()
      addTargets(ir, itemsOf(name, hit, o))
      piece = pieceOf(toSnapshot(ir, options), o.defaults)
      hit.piece = piece
    }
    if (services !== undefined) hit.items = null
    const part = piece
    for (let i = 0; i < part.routes.length; i++) {
      const r = part.routes[i] as HttpRouteSpec
      const c = r.source.charCodeAt(KEY_AT)
      ;(c === CH_SLASH ? pathRoutes : c < CH_SLASH ? lowRoutes : routes).push(r)
    }
    for (let i = 0; i < part.tcpRoutes.length; i++) tcpRoutes.push(part.tcpRoutes[i] as TcpRouteSpec)
    for (let i = 0; i < part.services.length; i++) specs.push(part.services[i] as ServiceSpec)
  }
  pruneServices(input, cache)
  // Sources are `consul:<key>`, so source order is key order. The routes were dealt by the key's first char
  // (below '/', e.g. `*.` wildcards; '/' = no host; above, a host): each pile comes in service-name order,
  // which is nearly key order when paths and hosts follow the service names, so each sorts in about one pass;
  // concatenated, they are in key order.
  lowRoutes.sort(bySource)
  pathRoutes.sort(bySource)
  routes.sort(bySource)
  if (lowRoutes.length + pathRoutes.length > 0) routes = [...lowRoutes, ...pathRoutes, ...routes]
  tcpRoutes.sort(bySource)
  specs.sort(byName)
  if (adjacentTwice(routes, sourceOf) || adjacentTwice(tcpRoutes, sourceOf) || adjacentTwice(specs, nameOf))
    return null
  const snapshot: Snapshot = { services: specs, routes, tcpRoutes }
  if (cache !== undefined) {
    cache.commands = new Map()
    // irBuild's per-route memo would only hold on to an older snapshot now.
    if (cache.snapshot.routes.size > 0) resetMemo(cache.snapshot)
  }
  return { snapshot, problems }
}

function bySource(a: { readonly source: string }, b: { readonly source: string }): number {
  return a.source < b.source ? -1 : a.source > b.source ? 1 : 0
}

function byName(a: ServiceSpec, b: ServiceSpec): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/** Whether two neighbours of `list` have the same key. */
function adjacentTwice<T>(list: readonly T[], key: (x: T) => string): boolean {
  for (let i = 1; i < list.length; i++) if (key(list[i - 1] as T) === key(list[i] as T)) return true
  return false
}

/** Forget cached services that are no longer in the input. */
function pruneServices(input: BuildInput, cache: BuildCache | undefined): void {
  const services = cache?.services
  if (services !== undefined && services.size > input.health.size)
    for (const name of services.keys()) if (!input.health.has(name)) services.delete(name)
}

/**
 * The general full build: every service's targets into one IR (fabio's table), the KV route commands applied
 * to it, and toSnapshot over the whole IR (with the cache's per-route memo).
 */
function irBuild(input: BuildInput, o: BuildOptions, cache: BuildCache | undefined): BuildResult {
  const problems: BuildProblem[] = []
  const ir: Ir = new Map()
  const names = sortedNames(input.health, cache)
  const services = cache?.services
  for (const name of names) {
    const hit = targetsOf(name, input.health.get(name) ?? [], o, services)
    for (const p of hit.problems) problems.push(p)
    addTargets(ir, itemsOf(name, hit, o))
  }
  pruneServices(input, cache)
  const commands = new Map<string, ParseResult>()
  for (const { key, value } of input.kv) {
    const parsed = cache?.commands.get(value) ?? parseCommands(value, o.dc)
    commands.set(value, parsed)
    const where = `kv ${key}`
    for (const p of parsed.problems)
      problems.push({
        where: `${where}:${p.line}`,
        reason: p.reason,
        dropped: true,
        kind: 'command',
        service: '',
      })
    for (const p of parsed.warnings)
      problems.push({
        where: `${where}:${p.line}`,
        reason: p.reason,
        dropped: false,
        kind: 'command',
        service: '',
      })
    for (const p of applyCommands(ir, parsed.commands, value)) {
      problems.push({
        where: `${where}:${p.line}`,
        reason: p.reason,
        dropped: true,
        kind: 'command',
        service: '',
      })
    }
  }
  const snapshot = toSnapshot(ir, { defaults: o.defaults, source: SOURCE }, cache?.snapshot)
  if (cache !== undefined) cache.commands = commands
  return { snapshot, problems }
}

function addTargets(ir: Ir, items: Items): void {
  const { itemKeys, srcs, targets } = items
  for (let i = 0; i < itemKeys.length; i++)
    addTargetAt(ir, itemKeys[i] as string, srcs[i] as Src, targets[i] as Target)
}

/** The tags of `tags` that are not routing tags. */
function plainTags(tags: readonly string[], prefix: string): readonly string[] {
  const list: string[] = []
  for (const t of tags) if (!t.trim().startsWith(prefix)) list.push(t)
  return list.slice()
}

function sameTagList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A tag's parse and its route key, computed once per distinct tag of a service. */
interface ParsedTag {
  readonly tag: string
  readonly r: TagResult | null
  readonly key: string
}

const noProblems: readonly BuildProblem[] = Object.freeze([])

/**
 * The routing targets of one service's instances. Each distinct tag is parsed once, and instances with the
 * same tag list (the usual case) share one plain-tag list; both lookups are linear scans over the few distinct
 * tags of one service, cheaper than a Map per service at 10,000 services.
 */
function serviceTargets(name: string, entries: readonly HealthEntry[], o: BuildOptions): ServiceTargets {
  const itemKeys: string[] = []
  const srcs: Src[] = []
  const targets: Target[] = []
  let problems: BuildProblem[] | null = null
  const parsedTags: ParsedTag[] = []
  let lastTags: readonly string[] | null = null
  let lastPlain: readonly string[] = []
  for (const e of entries) {
    const status = instanceStatus(e)
    const dynWeight = routedWeight(e, status, o)
    if (dynWeight < 0) continue
    const host = e.Service.Address !== '' ? e.Service.Address : e.Node.Address
    const tags = e.Service.Tags ?? []
    if (lastTags === null || !sameTagList(lastTags, tags)) {
      lastPlain = plainTags(tags, o.tagPrefix)
      lastTags = tags
    }
    const plain = lastPlain
    const id = `${e.Node.Node}/${e.Service.ID}`
    const h = host.includes(':') ? `[${host}]` : host
    /**
     * The instance's last target: its routes usually differ only in the source (same options, same weight), and
     * then share one Target object (a Target says nothing about the route it is in).
     */
    let last: Target | null = null
    for (const tag of tags) {
      let c: ParsedTag | undefined
      for (let i = 0; i < parsedTags.length; i++) {
        if ((parsedTags[i] as ParsedTag).tag === tag) {
          c = parsedTags[i]
          break
        }
      }
      if (c === undefined) {
        const parsed = parseTag(tag, o.tagPrefix, o.dc)
        c = { tag, r: parsed, key: parsed !== null && parsed.ok ? srcKey(parsed.route.src) : '' }
        parsedTags.push(c)
      }
      const r = c.r
      if (r === null) continue
      if (!r.ok) {
        ;(problems ??= []).push({
          where: `${name} ${id} tag "${tag}"`,
          reason: r.reason,
          dropped: true,
          kind: 'tag',
          service: name,
        })
        continue
      }
      for (const w of r.route.warnings)
        (problems ??= []).push({
          where: `${name} ${id} tag "${tag}"`,
          reason: w,
          dropped: false,
          kind: 'tag',
          service: name,
        })
      const opts = r.route.opts
      itemKeys.push(c.key)
      srcs.push(r.route.src)
      if (last === null || last.opts !== opts || last.fixedWeight !== r.route.weight) {
        const scheme: string = opts.redirect !== null ? 'redirect' : opts.proto
        last = {
          service: name,
          id,
          dst:
            opts.redirect !== null
              ? opts.redirect.url
              : `${scheme}://${h}:${e.Service.Port}${scheme === 'tcp' ? '' : '/'}`,
          host,
          port: e.Service.Port,
          fixedWeight: r.route.weight,
          dynWeight,
          tags: plain,
          opts,
        }
      }
      targets.push(last)
    }
  }
  // Exact-size copies: a list filled by push keeps room for 17 entries, and these stay in the build cache.
  return {
    entries,
    items: { itemKeys: itemKeys.slice(), srcs: srcs.slice(), targets: targets.slice() },
    problems: problems ?? noProblems,
    piece: null,
  }
}

/**
 * `a + sep + b` as one flat string. A template literal of 13 chars or more makes a cons string, which V8
 * flattens (a second copy) the first time it is compared or hashed, and both stay alive; these names and route
 * sources are compared (sorts) and hashed (the worker's maps) right away.
 */
function flat(a: string, sep: string, b: string): string {
  flatParts[0] = a
  flatParts[1] = b
  return flatParts.join(sep)
}
const flatParts: string[] = ['', '']
