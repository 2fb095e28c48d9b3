/**
 * A route table updated for a change instead of built again (no I/O): `updateTable(prev, specs, removed, added)`
 * rebuilds only the host keys whose specs the change removes or adds (their routes, tries and exact-host
 * entries) and keeps everything else. The result is the table `buildTable(specs)` makes, up to route ids:
 * `describeTable` and every lookup give the same answers (test/fuzz/table-delta.fuzz.test.ts checks this
 * against a full build).
 *
 * It takes `prev` over: the exact-host Map, the host states and the route list are updated in place and shared
 * with the result, and `prev` must not be used again. Copying them instead cost 10–28 ms per change at 10,000
 * hosts on the bench VM (a Map of 30,000 keys), more than the rest of the update; a lookup reads the table
 * synchronously, so the Worker calls this right before it swaps the new table in (process/worker.ts `apply`),
 * with no await between, and no request sees a table half updated.
 *
 * Cost: the touched hosts' routes, or for a host of PATCH_FROM routes or more (the catch-all host of fabio's path
 * routes) whose routes all sit in its plain trie, the changed routes only: `patchHost` patches its trie path by
 * path and keeps its other routes as they are. A change of a wildcard or glob host (whose specificity order spans
 * every pattern) or of a host with routes on one path twice (first one wins: needs the input order) falls back to
 * a full `buildTable`.
 *
 * Route ids stay dense (`routes[r.id] === r`): new routes take the ids the removed ones freed; when fewer are
 * added than removed, the routes holding the highest ids move into the gaps, which makes those routes again (and
 * their whole host, when it cannot be patched).
 */
import type { HttpRouteSpec } from '../model/snapshot.js'
import { isGlob, pathGlob } from './glob.js'
import { isWildcardHost, normalizeRouteKey } from './host.js'
import { trieHas, trieWith, trieWithout, type PathNode } from './trie.js'
import {
  bareOrEntry,
  buildTable,
  hostRoutes,
  isHostGlob,
  makeRoute,
  NO_ROUTES,
  splitKey,
  type HostEntry,
  type HostRoutes,
  type HostState,
  type Route,
  type RouteTable,
  type TableOptions,
} from './table.js'

function keyOf(spec: HttpRouteSpec): string {
  return spec.host === '' ? '' : normalizeRouteKey(spec.host)
}

/** A host key whose change needs a full build: wildcards and globs are ordered against each other. */
function isPattern(key: string): boolean {
  return key !== '' && (isWildcardHost(key) || isHostGlob(splitKey(key).name))
}

export function updateTable(
  prev: RouteTable,
  specs: readonly HttpRouteSpec[],
  removed: readonly HttpRouteSpec[],
  added: readonly HttpRouteSpec[],
  options: TableOptions,
  patchFrom = PATCH_FROM,
): RouteTable {
  if (options.pathMatch !== prev.pathMatch) return buildTable(specs, options)
  // What the change removes and adds at each host key it touches.
  const touched = new Map<string, Touch>()
  for (let i = 0; i < removed.length + added.length; i++) {
    const adds = i >= removed.length
    const s = (adds ? added[i - removed.length] : removed[i]) as HttpRouteSpec
    const key = keyOf(s)
    if (isPattern(key)) return buildTable(specs, options)
    let t = touched.get(key)
    if (t === undefined) touched.set(key, (t = { removed: [], added: [] }))
    ;(adds ? t.added : t.removed).push(s)
  }
  const gone = new Set(removed)
  // A large host with a few specs changed is patched (`patchHost`); any other touched host is built again, from
  // its new spec list: its old one without the removed specs, plus the added ones.
  const patches = new Map<string, Touch>()
  const lists = new Map<string, HttpRouteSpec[]>()
  for (const [key, t] of touched) {
    const old = prev.hosts.get(key)
    if (old !== undefined && patchable(old, t, options, patchFrom)) {
      patches.set(key, t)
      continue
    }
    const oldSpecs = old?.specs ?? NO_SPECS
    const list: HttpRouteSpec[] = []
    for (let j = 0; j < oldSpecs.length; j++)
      if (!gone.has(oldSpecs[j] as HttpRouteSpec)) list.push(oldSpecs[j] as HttpRouteSpec)
    for (const s of t.added) list.push(s)
    lists.set(key, list)
  }
  // Which specs become routes (the first per path; glob paths that compile), per host built again.
  const ignoredNow: HttpRouteSpec[] = []
  const kept = new Map<string, { specs: HttpRouteSpec[]; make: HttpRouteSpec[]; globs: (RegExp | null)[] }>()
  let freed = 0
  let made = 0
  for (const [key, list] of lists) {
    const make: HttpRouteSpec[] = []
    const globs: (RegExp | null)[] = []
    const paths = new Set<string>()
    for (let j = 0; j < list.length; j++) {
      const spec = list[j] as HttpRouteSpec
      if (paths.has(spec.path)) return buildTable(specs, options)
      paths.add(spec.path)
      let glob: RegExp | null = null
      if ((spec.pathMatch ?? options.pathMatch) === 'glob' && isGlob(spec.path)) {
        try {
          glob = pathGlob(spec.path)
        } catch {
          ignoredNow.push(spec)
          continue
        }
      }
      make.push(spec)
      globs.push(glob)
    }
    kept.set(key, { specs: list, make, globs })
    freed += prev.hosts.get(key)?.routes.length ?? 0
    made += make.length
  }

  // Ids: the rebuilt hosts' old ids and the patched hosts' removed routes' ids are free; the routes above the new
  // length move into the lowest free ones.
  const free: number[] = []
  const goneIds = new Set<number>()
  for (const key of kept.keys()) for (const r of prev.hosts.get(key)?.routes ?? NO_ROUTES) free.push(r.id)
  for (const [key, t] of patches) {
    const old = prev.hosts.get(key) as HostState
    for (const s of t.removed) {
      const r = old.routes[old.specs.indexOf(s)] as Route
      free.push(r.id)
      goneIds.add(r.id)
    }
    freed += t.removed.length
    made += t.added.length
  }
  const length = prev.routes.length - freed + made
  free.sort((a, b) => a - b)
  const moving = new Map<string, Map<number, number>>()
  let f = 0
  if (length < prev.routes.length) {
    for (let id = length; id < prev.routes.length; id++) {
      const r = prev.routes[id] as Route
      if (lists.has(r.host) || goneIds.has(id)) continue
      while ((free[f] as number) >= length) f++
      let m = moving.get(r.host)
      if (m === undefined) moving.set(r.host, (m = new Map()))
      m.set(id, free[f++] as number)
    }
  }
  const ids: number[] = []
  for (; f < free.length; f++) if ((free[f] as number) < length) ids.push(free[f] as number)
  for (let id = prev.routes.length; id < length; id++) ids.push(id)

  const routes = prev.routes as Route[]
  const hosts = prev.hosts as Map<string, HostState>
  let nextId = 0
  for (const [key, k] of kept) {
    const rs: Route[] = []
    for (let j = 0; j < k.make.length; j++) {
      const spec = k.make[j] as HttpRouteSpec
      const r = makeRoute(
        ids[nextId++] as number,
        key,
        spec,
        spec.pathMatch ?? options.pathMatch,
        k.globs[j] ?? null,
      )
      routes[r.id] = r
      rs.push(r)
    }
    if (k.specs.length === 0) hosts.delete(key)
    // Exact-size copies of lists grown by push, as buildTable keeps them.
    else hosts.set(key, { specs: k.specs.slice(), routes: rs.slice(), built: hostRoutes(rs) })
  }
  for (const [key, t] of patches) {
    const addIds = ids.slice(nextId, (nextId += t.added.length))
    const h = patchHost(
      prev.hosts.get(key) as HostState,
      key,
      t.removed,
      t.added,
      addIds,
      moving.get(key),
      routes,
      options,
    )
    if (h === null) hosts.delete(key)
    else hosts.set(key, h)
  }
  // Hosts whose routes move to a lower id: the moved routes with their new ids (their whole host again when it
  // cannot be patched).
  for (const [key, m] of moving) {
    if (patches.has(key)) continue
    const h = prev.hosts.get(key) as HostState
    if (patchable(h, NO_TOUCH, options, 0)) {
      hosts.set(key, patchHost(h, key, NO_SPECS, NO_SPECS, [], m, routes, options) as HostState)
      continue
    }
    const byPath = new Map<string, HttpRouteSpec>()
    for (const s of h.specs) if (!byPath.has(s.path)) byPath.set(s.path, s)
    const rs: Route[] = []
    for (const old of h.routes) {
      const spec = byPath.get(old.path) as HttpRouteSpec
      const r = makeRoute(m.get(old.id) ?? old.id, key, spec, old.pathMatch, old.glob)
      routes[r.id] = r
      rs.push(r)
    }
    hosts.set(key, { specs: h.specs, routes: rs.slice(), built: hostRoutes(rs) })
  }
  routes.length = length

  // Exact-host entries of every touched name (a name's `:80` and `:443` keys share its entry).
  const exact = prev.exact as Map<string, PathNode<Route> | HostEntry>
  let catchAll = prev.catchAll
  const names = new Set<string>()
  for (const key of [...kept.keys(), ...patches.keys(), ...moving.keys()]) {
    if (key === '') {
      catchAll = hosts.get('')?.built ?? null
      continue
    }
    const { name, port } = splitKey(key)
    names.add(port === '' || port === '80' || port === '443' ? name : key)
  }
  for (const name of names) {
    const { port } = splitKey(name)
    const any = hosts.get(name)?.built ?? null
    const plain = port === '' ? (hosts.get(name + ':80')?.built ?? null) : null
    const tls = port === '' ? (hosts.get(name + ':443')?.built ?? null) : null
    const aliases = port === '' ? [name, name + ':80', name + ':443'] : [name]
    if (any === null && plain === null && tls === null) {
      for (const a of aliases) exact.delete(a)
      continue
    }
    const value = bareOrEntry(entryOf(any, plain, tls))
    for (const a of aliases) exact.set(a, value)
  }

  const ignored: HttpRouteSpec[] = []
  for (const s of prev.ignored) if (!lists.has(keyOf(s))) ignored.push(s)
  for (const s of ignoredNow) ignored.push(s)
  let prefixOnly = true
  for (let i = 0; i < routes.length; i++) if ((routes[i] as Route).pathMatch !== 'prefix') prefixOnly = false
  return {
    pathMatch: prev.pathMatch,
    size: routes.length,
    routes,
    ignored,
    exact,
    wildcards: prev.wildcards,
    portWildcards: prev.portWildcards,
    globs: prev.globs,
    catchAll,
    hostless:
      exact.size === 0 &&
      prev.wildcards.size === 0 &&
      prev.portWildcards.size === 0 &&
      prev.globs.length === 0,
    prefixOnly,
    hosts,
  }
}

const NO_SPECS: readonly HttpRouteSpec[] = []

/** The specs a change removes and adds at one host key. */
interface Touch {
  readonly removed: HttpRouteSpec[]
  readonly added: HttpRouteSpec[]
}

const NO_TOUCH: Touch = { removed: [], added: [] }
const NO_MOVES: ReadonlyMap<number, number> = new Map()

/**
 * Routes a host needs before a change there patches it (`patchHost`) instead of building it again: building the
 * catch-all host of 10,000 Consul services with a path route each (`urlprefix-/svc`) made 10,000 routes and their
 * trie per change, and the single process read 283.6–294.6 MB right after 100 such changes (bench/RESULTS.md,
 * consul-scale `--path-routes`).
 */
export const PATCH_FROM = 64

/** Changes of more than this many specs (or a sixteenth of the host's routes, if more) build the host again. */
const PATCH_MAX = 16

/**
 * Whether `t` can patch host `old`: every route of it is in its plain trie (no `iprefix` or glob patterns, whose
 * order spans the host) and none was left out (a path twice, where input order decides), and so are the added
 * specs, each on a path of its own.
 */
function patchable(old: HostState, t: Touch, options: TableOptions, from: number): boolean {
  const n = old.routes.length
  if (n < from || old.specs.length !== n || old.built.itrie !== null || old.built.globs.length > 0)
    return false
  if (t.removed.length + t.added.length > Math.max(PATCH_MAX, n >> 4)) return false
  const freed = new Set<string>()
  for (const s of t.removed) {
    if (!old.specs.includes(s)) return false
    freed.add(s.path)
  }
  const paths = new Set<string>()
  for (const s of t.added) {
    const match = s.pathMatch ?? options.pathMatch
    if (match === 'iprefix' || (match === 'glob' && isGlob(s.path)) || s.path.includes('?')) return false
    if (paths.has(s.path) || (!freed.has(s.path) && trieHas(old.built.trie, s.path))) return false
    paths.add(s.path)
  }
  return true
}

/**
 * Host `old` with `removed` taken out, `add` added (with the ids `addIds`) and the routes in `moved` (old id → new
 * id) made again with their new ids, writing each new route into `routes`: the trie patched path by path (trie.ts
 * `trieWith`, `trieWithout`), the other routes kept as they are, their ranks (fabio's order of the host's paths)
 * shifted by the paths added and removed below theirs. null when nothing is left. Only for hosts `patchable`
 * allows: specs and routes then pair up, position by position. The host's lists are changed in place (the table
 * is taken over, see the module comment): copies were 160 KB of garbage per change at 10,000 routes.
 */
function patchHost(
  old: HostState,
  key: string,
  removed: readonly HttpRouteSpec[],
  add: readonly HttpRouteSpec[],
  addIds: readonly number[],
  moved: ReadonlyMap<number, number> | undefined,
  routes: Route[],
  options: TableOptions,
): HostState | null {
  const specs = old.specs as HttpRouteSpec[]
  const rs = old.routes as Route[]
  let trie = old.built.trie
  const removedPaths: string[] = []
  for (const s of removed) {
    const i = specs.indexOf(s)
    if (i < 0) continue // `patchable` found each one
    const r = rs[i] as Route
    trie = trieWithout(trie, r.path)
    removedPaths.push(r.path)
    specs.splice(i, 1)
    rs.splice(i, 1)
  }
  // A moving route still holds its old id's slot: the ids it moves from are past the table's new length.
  for (const [from, to] of moved ?? NO_MOVES) {
    const r = routes[from] as Route
    const i = rs.indexOf(r)
    const m = makeRoute(to, key, specs[i] as HttpRouteSpec, r.pathMatch, r.glob)
    ;(m as { rank: number }).rank = r.rank
    routes[to] = m
    rs[i] = m
    trie = trieWith(trie, r.path, m)
  }
  const kept = rs.length
  for (let j = 0; j < add.length; j++) {
    const s = add[j] as HttpRouteSpec
    const r = makeRoute(addIds[j] as number, key, s, s.pathMatch ?? options.pathMatch, null)
    routes[r.id] = r
    trie = trieWith(trie, s.path, r)
    specs.push(s)
    rs.push(r)
  }
  if (rs.length === 0) return null
  if (removedPaths.length > 0 || add.length > 0) {
    // Paths are unique in the host: a route's rank is 1 + the number of its host's paths below its own. Indexed
    // loops: this runs once per change, interpreted, where each inner for-of made an iterator per route (about
    // 1 MB of garbage per change at 10,000 routes).
    for (let i = 0; i < kept; i++) {
      const r = rs[i] as Route
      let d = 0
      for (let j = 0; j < removedPaths.length; j++) if ((removedPaths[j] as string) < r.path) d--
      for (let j = 0; j < add.length; j++) if ((add[j] as HttpRouteSpec).path < r.path) d++
      if (d !== 0) (r as { rank: number }).rank += d
    }
    for (let i = kept; i < rs.length; i++) {
      const r = rs[i] as Route
      let below = 0
      for (let j = 0; j < rs.length; j++) if ((rs[j] as Route).path < r.path) below++
      ;(r as { rank: number }).rank = below + 1
    }
  }
  return { specs, routes: rs, built: { trie, itrie: null, globs: NO_ROUTES } }
}

function entryOf(any: HostRoutes | null, plain: HostRoutes | null, tls: HostRoutes | null): HostEntry {
  return {
    trie: any === null ? null : any.trie,
    itrie: any === null ? null : any.itrie,
    globs: any === null ? NO_ROUTES : any.globs,
    plain,
    tls,
    rank: 0,
  }
}
