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
 * Cost: the touched hosts' routes. A change of a wildcard or glob host (whose specificity order spans every
 * pattern) or of a host with routes on one path twice (first one wins: needs the input order) falls back to a
 * full `buildTable`.
 *
 * Route ids stay dense (`routes[r.id] === r`): new routes take the ids the removed ones freed; when fewer are
 * added than removed, the routes holding the highest ids move into the gaps, which rebuilds their hosts too.
 */
import type { HttpRouteSpec } from '../model/snapshot.js'
import { isGlob, pathGlob } from './glob.js'
import { isWildcardHost, normalizeRouteKey } from './host.js'
import type { PathNode } from './trie.js'
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
): RouteTable {
  if (options.pathMatch !== prev.pathMatch) return buildTable(specs, options)
  // The new spec list of each touched host key: its old one without the removed specs, plus the added ones.
  const lists = new Map<string, HttpRouteSpec[]>()
  const gone = new Set(removed)
  for (const list of [removed, added]) {
    for (let i = 0; i < list.length; i++) {
      const key = keyOf(list[i] as HttpRouteSpec)
      if (isPattern(key)) return buildTable(specs, options)
      if (lists.has(key)) continue
      const old = prev.hosts.get(key)?.specs ?? NO_SPECS
      const kept: HttpRouteSpec[] = []
      for (let j = 0; j < old.length; j++)
        if (!gone.has(old[j] as HttpRouteSpec)) kept.push(old[j] as HttpRouteSpec)
      lists.set(key, kept)
    }
  }
  for (let i = 0; i < added.length; i++) {
    const s = added[i] as HttpRouteSpec
    ;(lists.get(keyOf(s)) as HttpRouteSpec[]).push(s)
  }
  // Which specs become routes (the first per path; glob paths that compile), per touched host.
  const ignoredNow: HttpRouteSpec[] = []
  const kept = new Map<string, { specs: HttpRouteSpec[]; make: HttpRouteSpec[]; globs: (RegExp | null)[] }>()
  let freed = 0
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
  }

  // Ids: the touched hosts' old ids are free; the routes above the new length move into the lowest free ones.
  let made = 0
  for (const k of kept.values()) made += k.make.length
  const length = prev.routes.length - freed + made
  const free: number[] = []
  for (const key of kept.keys()) for (const r of prev.hosts.get(key)?.routes ?? NO_ROUTES) free.push(r.id)
  free.sort((a, b) => a - b)
  const moving = new Map<string, Map<number, number>>()
  let f = 0
  if (length < prev.routes.length) {
    for (let id = length; id < prev.routes.length; id++) {
      const r = prev.routes[id] as Route
      if (lists.has(r.host)) continue
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
  // Hosts whose routes move to a lower id: the same routes again with the new ids.
  for (const [key, m] of moving) {
    const h = prev.hosts.get(key) as HostState
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
  for (const key of [...kept.keys(), ...moving.keys()]) {
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
