/**
 * Consul catalog + health JSON -> Snapshot. Pure and fixture-tested (test/provider/consul/build.test.ts):
 * client.ts fetches, consul.ts watches, this decides. entries.ts reads the health answers and each instance's
 * status, targets.ts turns one service's instances into routing targets (or straight into its part of the
 * snapshot); here the services' targets go into one table, the route commands from the KV prefix are applied,
 * key by key in key order, line by line (fabio/routecmd.ts), and the table becomes the Snapshot. Problems (a bad
 * tag, a bad KV line) drop only what they concern and are returned for the caller to log and count.
 */
import type {
  HttpRouteSpec,
  ServiceDefaults,
  ServiceSpec,
  Snapshot,
  TcpRouteSpec,
} from '../../model/snapshot.js'
import { applyCommands, parseCommands, type Ir, type ParseResult } from '../../fabio/routecmd.js'
import {
  newSnapshotMemo,
  toSnapshot,
  resetMemo,
  type ToSnapshotOptions,
  type SnapshotMemo,
} from '../../fabio/snapshot.js'
import type { HealthEntry } from './entries.js'
import { firstAtLeast, lowerBound } from '../sorted.js'
import {
  type BuildOptions,
  type BuildProblem,
  type ServiceTargets,
  itemsOf,
  pieceOf,
  SOURCE,
  targetsOf,
  addTargets,
} from './targets.js'

export interface KvPair {
  readonly key: string
  readonly value: string
}

export interface BuildInput {
  /** Service name → instances (the `/v1/health/service/<name>` body), for every routed service. */
  readonly health: ReadonlyMap<string, readonly HealthEntry[]>
  /** Route command keys under the KV prefix, sorted by key. */
  readonly kv: readonly KvPair[]
}

export interface BuildResult {
  readonly snapshot: Snapshot
  readonly problems: readonly BuildProblem[]
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
  /** The last result when `ownedBuild` or `patchOwned` made it (null after an IR build): what a patch starts from. */
  owned: (BuildResult & { readonly defaults: ServiceDefaults }) | null
}

export function newBuildCache(): BuildCache {
  return {
    services: new Map(),
    commands: new Map(),
    names: { unsorted: [], sorted: [] },
    snapshot: newSnapshotMemo(),
    owned: null,
  }
}

/** toSnapshot's options for a build with `o`. */
function snapshotOptions(o: BuildOptions): ToSnapshotOptions {
  return o.suffix === undefined
    ? { defaults: o.defaults, source: SOURCE }
    : { defaults: o.defaults, source: SOURCE, suffix: o.suffix }
}

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
export function buildSnapshot(
  input: BuildInput,
  o: BuildOptions,
  cache?: BuildCache,
  changed?: ReadonlySet<string> | null,
): BuildResult {
  if (input.kv.length === 0) {
    const owned =
      (changed != null && cache !== undefined ? patchOwned(input, o, cache, changed) : null) ??
      ownedBuild(input, o, cache)
    if (cache !== undefined) cache.owned = owned === null ? null : { ...owned, defaults: o.defaults }
    if (owned !== null) return owned
  } else if (cache !== undefined) cache.owned = null
  return irBuild(input, o, cache)
}

/** Above this many changed services a patch is not tried (ownedBuild's one pass is as cheap). */
const PATCH_MAX = 64

/**
 * `ownedBuild`'s result for `input` from the cache's last one, when only the services named in `changed` can
 * differ from the input it was built from (the provider's promise): their old parts are taken out of the
 * sorted lists and their new ones put in (binary search by route source and service name), so a change to one
 * service of 10,000 costs that service, not a pass over all of them (5 ms at 10,000 services). The same result
 * as `ownedBuild` (test/fuzz/consul-build.fuzz.test.ts); null when it cannot tell (no last result, other
 * defaults, a part not where it should be, a key or name now fed twice): the caller builds it all.
 */
function patchOwned(
  input: BuildInput,
  o: BuildOptions,
  cache: BuildCache,
  changed: ReadonlySet<string>,
): BuildResult | null {
  const last = cache.owned
  if (last === null || last.defaults !== o.defaults || changed.size > PATCH_MAX) return null
  if (changed.size === 0) return last
  const options = snapshotOptions(o)
  const routes = newPatch<HttpRouteSpec>()
  const tcpRoutes = newPatch<TcpRouteSpec>()
  const specs = newPatch<ServiceSpec>()
  let problems = last.problems.filter((p) => !changed.has(p.service))
  const services = cache.services
  for (const name of changed) {
    const old = services.get(name)?.piece ?? null
    if (old !== null) {
      pushAll(routes.out, old.routes)
      pushAll(tcpRoutes.out, old.tcpRoutes)
      pushAll(specs.out, old.services)
    }
    const entries = input.health.get(name)
    if (entries === undefined) {
      services.delete(name)
      continue
    }
    const hit = targetsOf(name, entries, o, services)
    for (const p of hit.problems) problems.push(p)
    const piece = partOf(name, hit, o, options)
    hit.items = null
    pushAll(routes.in, piece.routes)
    pushAll(tcpRoutes.in, piece.tcpRoutes)
    pushAll(specs.in, piece.services)
  }
  const nextRoutes = patched(last.snapshot.routes, routes, sourceOf)
  const nextTcp = patched(last.snapshot.tcpRoutes, tcpRoutes, sourceOf)
  const nextSpecs = patched(last.snapshot.services, specs, nameOf)
  if (nextRoutes === null || nextTcp === null || nextSpecs === null) return null
  // ownedBuild lists problems by service name (stable: a service's own order kept).
  if (problems.length > 0)
    problems = problems.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
  return { snapshot: { services: nextSpecs, routes: nextRoutes, tcpRoutes: nextTcp }, problems }
}

/** What a patch takes out of one sorted list (`out`, objects in it) and puts in (`in`). */
interface Patch<T> {
  readonly out: T[]
  readonly in: T[]
}

function newPatch<T>(): Patch<T> {
  return { out: [], in: [] }
}

function pushAll<T>(to: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) to.push(items[i] as T)
}

/**
 * `list` (sorted by `key`, keys unique) with `p.out` taken out and `p.in` put in at their places, as a new list
 * made once at its size: taken out and put in by splices on a copy, an added item grew the copy again (at
 * 10,000 services 0.4 MB of garbage per change, an allocation profile of `consul-scale`). `list` itself when the
 * patch is empty; null when an item to take out is not where its key is, or a key would be there twice.
 */
function patched<T>(list: readonly T[], p: Patch<T>, key: (x: T) => string): readonly T[] | null {
  if (p.out.length === 0 && p.in.length === 0) return list
  const gone: number[] = []
  for (const item of p.out) {
    const i = lowerBound(list, key(item), key)
    if (list[i] !== item) return null
    gone.push(i)
  }
  gone.sort(ascending)
  for (let k = 1; k < gone.length; k++) if (gone[k] === gone[k - 1]) return null
  const adds = p.in.length < 2 ? p.in : p.in.slice().sort((a, b) => compareKeys(key(a), key(b)))
  // Where each added item goes in `list` (ascending, as the adds are sorted by key).
  const at: number[] = []
  for (let k = 0; k < adds.length; k++) {
    const item = adds[k] as T
    const i = lowerBound(list, key(item), key)
    if (k > 0 && key(adds[k - 1] as T) === key(item)) return null
    // A key equal to a kept item's would be there twice; equal to one taken out's, it replaces it.
    if (i < list.length && key(list[i] as T) === key(item) && !has(gone, i)) return null
    at.push(i)
  }
  const out = new Array<T>(list.length - gone.length + adds.length)
  let o = 0
  let g = 0
  let a = 0
  for (let i = 0; i < list.length; i++) {
    while (a < adds.length && at[a] === i) out[o++] = adds[a++] as T
    if (gone[g] === i) g++
    else out[o++] = list[i] as T
  }
  while (a < adds.length) out[o++] = adds[a++] as T
  return out
}

/** Whether the ascending list `xs` holds `x`. */
function has(xs: readonly number[], x: number): boolean {
  return xs[firstAtLeast(xs, x)] === x
}

function ascending(a: number, b: number): number {
  return a - b
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
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
  const options = snapshotOptions(o)
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
    const part = partOf(name, hit, o, options)
    if (services !== undefined) hit.items = null
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

/** Service `name`'s part of the snapshot (`hit.piece`), built from its targets and kept when missing or stale. */
function partOf(
  name: string,
  hit: ServiceTargets,
  o: BuildOptions,
  options: ToSnapshotOptions,
): ReturnType<typeof pieceOf> {
  let piece = hit.piece
  if (piece === null || piece.defaults !== o.defaults) {
    const ir: Ir = new Map()
    addTargets(ir, itemsOf(name, hit, o))
    piece = pieceOf(toSnapshot(ir, options), o.defaults)
    hit.piece = piece
  }
  return piece
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
  const snapshot = toSnapshot(ir, snapshotOptions(o), cache?.snapshot)
  if (cache !== undefined) cache.commands = commands
  return { snapshot, problems }
}
