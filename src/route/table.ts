/**
 * The HTTP routing table: built by a pure function (`buildTable`), or updated for a change by `updateTable`
 * (update.ts, which rebuilds only the host keys the change touches), swapped in by the worker, read by
 * `lookupHttp` (lookup.ts) on every request. Pure: no I/O, no logging, no metrics.
 *
 *
 * Build never throws on user data (validation happens in config/ and provider/). Hosts are normalised, so
 * `Example.COM:80` and `example.com` are one host. When two specs have the same normalised host and the same
 * path, the first one wins and the later ones are listed in `ignored` for the caller to report.
 * Route paths are used verbatim. `url` is an origin-form request target (`/a/b?x=1`), matched in its normal form
 * (`normalizePath`: dot segments removed, `//` collapsed, `;params` dropped, escaped unreserved chars decoded);
 * other forms such as `http://host/a` or `*` only match a path that starts the same way.
 */

import type { HttpRouteSpec, PathMatch, Redirect } from '../model/snapshot.js'
import {
  compareWildcardHosts,
  isWildcardHost,
  normalizeRouteKey,
  portStart,
  WildcardIndexBuilder,
  type WildcardIndex,
} from './host.js'
import type { PathNode } from './trie.js'
import { KIND_EXACT, KIND_PREFIX, KIND_SEGMENT, PathTrieBuilder } from './trie.js'
import { hostGlob, isGlob, pathGlob } from './glob.js'
import { CidrSet, parseCidr } from '../net/cidr.js'

export const CH_DOT = 46

export const NO_ROUTES: readonly Route[] = []

/** One route, prebuilt at build time; lookup returns these objects as they are. */
export interface Route {
  /** Position in `RouteTable.routes` (0-based, in input order among the routes kept). */
  readonly id: number
  /**
   * Route host as a table key: exact (`example.com`, `example.com:8080`, `example.com:80` = plain HTTP only),
   * wildcard (`*.example.com`, `*:80`), another glob (`api-*.example.{com,net}`) or '' (catch-all).
   */
  readonly host: string
  readonly path: string
  readonly service: string
  readonly strip: string
  readonly prepend: string
  /** `prepend` without a trailing '/', ready to put before the (leading-'/') request path. */
  readonly prependPath: string
  readonly hostHeader: string
  readonly redirect: Redirect | null
  readonly source: string
  /** Client networks allowed (null = everyone) and denied (null = none), prebuilt from the spec. */
  readonly allow: CidrSet | null
  readonly deny: CidrSet | null
  /** The valid CIDRs behind `allow` and `deny`, as written (for the admin API and explain). */
  readonly allowList: readonly string[]
  readonly denyList: readonly string[]
  /** How `path` is matched: the route's own `pathMatch`, else the table's. */
  readonly pathMatch: PathMatch
  /** The trie rule (trie.ts KIND_*), for prefix, segment and literal glob routes. */
  readonly matchKind: number
  /** fabio's order among the routes of one host: paths in reverse string order, the highest rank first. */
  readonly rank: number
  /** The compiled pattern of a glob route with glob syntax, else null. */
  readonly glob: RegExp | null
  /** `http.auth` scheme name the client must pass ('' = none). */
  readonly auth: string
  /** `Strict-Transport-Security` for responses on TLS listeners ('' = none). */
  readonly hsts: string
}

export interface TableOptions {
  readonly pathMatch: PathMatch
}

/** The routes of one host: a trie (prefix, segment, literal globs), a folded trie (iprefix) and glob patterns. */
export interface HostRoutes {
  readonly trie: PathNode<Route> | null
  readonly itrie: PathNode<Route> | null
  /** Glob routes with glob syntax, highest rank first. */
  readonly globs: readonly Route[]
}

/**
 * One host name's routes: its own fields are the portless routes (one object less to reach on the common path);
 * `plain` and `tls` hold those written with `:80` (plain HTTP only) or `:443` (TLS only).
 */
export interface HostEntry extends HostRoutes {
  readonly plain: HostRoutes | null
  readonly tls: HostRoutes | null
  /** For wildcard and glob hosts: fabio's specificity order among them, the highest first. */
  readonly rank: number
}

/** A host pattern with glob syntax other than a leading '*' (`api-*.example.com`, `{a,b}.example.com`). */
export interface GlobHost {
  readonly pattern: string
  readonly re: RegExp
  /** Non-default port the pattern was written with ('' = none). */
  readonly port: string
  readonly entry: HostEntry
}

/**
 * An immutable routing table. `pathMatch`, `size`, `routes` and `ignored` are for callers; the remaining
 * fields are the lookup structures, to be used through `lookupHttp` only.
 */
export interface RouteTable {
  readonly pathMatch: PathMatch
  /** Number of routes in the table. */
  readonly size: number
  /** Every route, indexed by `Route.id`. */
  readonly routes: readonly Route[]
  /** Specs dropped because an earlier spec had the same normalised host and path. */
  readonly ignored: readonly HttpRouteSpec[]
  /**
   * Exact hosts, each under `host`, `host:80` and `host:443` (the last two only for hosts without a port). A host
   * whose routes are all in its trie (no `:80`/`:443` variants, iprefix or glob routes: the usual case) maps to
   * the trie's root itself, one object less to reach per lookup (measured: 35–50 ns at 10k hosts, where each
   * object is a likely cache miss).
   */
  readonly exact: ReadonlyMap<string, PathNode<Route> | HostEntry>
  /**
   * Wildcard hosts without a non-default port. Like `exact`, a bare trie root when that is all the host has and
   * the table has no other glob hosts (whose order against the wildcards needs the entries' ranks).
   */
  readonly wildcards: WildcardIndex<PathNode<Route> | HostEntry>
  /** Wildcard hosts with a non-default port, by port. */
  readonly portWildcards: ReadonlyMap<string, WildcardIndex<PathNode<Route> | HostEntry>>
  /** Other glob hosts, highest rank first. */
  readonly globs: readonly GlobHost[]
  /** Routes without a host, or null. */
  readonly catchAll: HostRoutes | null
  /** True when every route is a catch-all route: lookup then skips the Host header entirely. */
  readonly hostless: boolean
  /** Every route matches by plain prefix (the default): tries are walked by trie.ts `longestPrefix`. */
  readonly prefixOnly: boolean
  /** What each host key was built from, for `updateTable` (update.ts) to rebuild only the hosts a change touches. */
  readonly hosts: ReadonlyMap<string, HostState>
}

/** One host key's part of a table: its specs in input order (ignored ones too), its routes and their tries. */
export interface HostState {
  readonly specs: readonly HttpRouteSpec[]
  readonly routes: readonly Route[]
  readonly built: HostRoutes
}

interface HostBuild {
  readonly key: string
  /** Made as `[first]` (exact size: most hosts have one route), pushed to from the second on. */
  specs: HttpRouteSpec[]
  /** NO_ROUTES_YET until the first route, then as `specs`. */
  routes: Route[]
  /** The routes' paths once there are PATH_SET of them (before that, `routes` is searched). */
  paths: Set<string> | null
}

function exactList<T>(list: T[]): T[] {
  return list.length === 1 ? list : list.slice()
}

/** Routes of one host from which duplicate paths are found with a Set (most hosts have 1–3). */
const PATH_SET = 8

/** Whether host `b` has a route for `path` already. */
function hasPath(b: HostBuild, path: string): boolean {
  if (b.paths !== null) return b.paths.has(path)
  const routes = b.routes
  for (let i = 0; i < routes.length; i++) if ((routes[i] as Route).path === path) return true
  return false
}

/** A host's routes before its first one (never written to: `addPath` replaces it). */
const NO_ROUTES_YET: Route[] = []

function addPath(b: HostBuild, route: Route): void {
  if (b.routes === NO_ROUTES_YET) b.routes = [route]
  else b.routes.push(route)
  if (b.paths !== null) b.paths.add(route.path)
  else if (b.routes.length >= PATH_SET) b.paths = new Set(b.routes.map((r) => r.path))
}

/** One host name's routes, by port kind, with its name and port parts. */
interface EntryBuild {
  any: HostRoutes | null
  plain: HostRoutes | null
  tls: HostRoutes | null
  readonly name: string
  readonly port: string
}

/** Whether a host name (no port) is a glob pattern; `[v6]` literals are not. */
export function isHostGlob(name: string): boolean {
  return name.charCodeAt(0) !== 91 /* [ */ && isGlob(name)
}

/** Splits a route key into its name and its port ('' = none). */
export function splitKey(key: string): { name: string; port: string } {
  const at = portStart(key)
  return { name: key.slice(0, at), port: at === key.length ? '' : key.slice(at + 1) }
}

export function buildTable(specs: readonly HttpRouteSpec[], options: TableOptions): RouteTable {
  const hosts = new Map<string, HostBuild>()
  const routes: Route[] = []
  const ignored: HttpRouteSpec[] = []
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]
    if (spec === undefined) continue
    const key = spec.host === '' ? '' : normalizeRouteKey(spec.host)
    let b = hosts.get(key)
    if (b === undefined) {
      b = { key, specs: [spec], routes: NO_ROUTES_YET, paths: null }
      hosts.set(key, b)
    } else b.specs.push(spec)
    const pathMatch = spec.pathMatch ?? options.pathMatch
    let glob: RegExp | null = null
    if (pathMatch === 'glob' && isGlob(spec.path)) {
      try {
        glob = pathGlob(spec.path)
      } catch {
        // Providers and config validate globs first; one that does not compile cannot match anything.
        ignored.push(spec)
        continue
      }
    }
    if (hasPath(b, spec.path)) {
      ignored.push(spec)
      continue
    }
    const route = makeRoute(routes.length, key, spec, pathMatch, glob)
    routes.push(route)
    addPath(b, route)
  }

  // Entries per host name; the variants `:80` and `:443` share the entry of their name.
  const entries = new Map<string, EntryBuild>()
  let catchAll: HostRoutes | null = null
  const states = new Map<string, HostState>()
  for (const b of hosts.values()) {
    const hr = hostRoutes(b.routes)
    // The table keeps each host's lists: a list of one was made at its exact size, a longer one grew by push
    // (room for 17 and up) and is kept as an exact copy; none is shared (updateTable changes them in place).
    states.set(b.key, { specs: exactList(b.specs), routes: exactList(b.routes), built: hr })
    if (b.key === '') {
      catchAll = hr
      continue
    }
    const { name, port } = splitKey(b.key)
    const dflt = port === '' || port === '80' || port === '443'
    const entryKey = dflt ? name : b.key
    let e = entries.get(entryKey)
    if (e === undefined) {
      e = { any: null, plain: null, tls: null, name, port: dflt ? '' : port }
      entries.set(entryKey, e)
    }
    if (port === '80') e.plain = hr
    else if (port === '443') e.tls = hr
    else e.any = hr
  }

  // Wildcard and glob names, in fabio's specificity order (reversed name, descending): a rank each.
  const patterns: string[] = []
  for (const [key, e] of entries) if (isWildcardHost(key) || isHostGlob(e.name)) patterns.push(key)
  patterns.sort(compareWildcardHosts)
  const rankOf = new Map<string, number>()
  for (let i = 0; i < patterns.length; i++) rankOf.set(patterns[i] as string, patterns.length - i)

  const exact = new Map<string, PathNode<Route> | HostEntry>()
  const wildcards = new WildcardIndexBuilder<PathNode<Route> | HostEntry>()
  const portWildcards = new Map<string, WildcardIndexBuilder<PathNode<Route> | HostEntry>>()
  const globs: GlobHost[] = []
  let globHosts = false
  for (const e of entries.values()) {
    const name = e.name
    if (isHostGlob(name) && !(name.charCodeAt(0) === 42 && !isHostGlob(name.slice(1)))) globHosts = true
  }
  for (const [key, e] of entries) {
    const entry: HostEntry = {
      trie: e.any === null ? null : e.any.trie,
      itrie: e.any === null ? null : e.any.itrie,
      globs: e.any === null ? NO_ROUTES : e.any.globs,
      plain: e.plain,
      tls: e.tls,
      rank: rankOf.get(key) ?? 0,
    }
    const { name, port } = e
    const suffix = name.slice(1)
    if (name.charCodeAt(0) === 42 /* * */ && !isHostGlob(suffix)) {
      let index = port === '' ? wildcards : portWildcards.get(port)
      if (index === undefined) {
        index = new WildcardIndexBuilder<PathNode<Route> | HostEntry>()
        portWildcards.set(port, index)
      }
      index.insert(suffix, globHosts ? entry : bareOrEntry(entry))
    } else if (isHostGlob(name)) {
      try {
        globs.push({ pattern: key, re: hostGlob(name), port, entry })
      } catch {
        // Validated before; a host pattern that does not compile matches nothing.
      }
    } else {
      const value = bareOrEntry(entry)
      exact.set(key, value)
      if (port === '') {
        exact.set(key + ':80', value)
        exact.set(key + ':443', value)
      }
    }
  }
  globs.sort((a, b) => b.entry.rank - a.entry.rank)
  const frozenPortWildcards = new Map<string, WildcardIndex<PathNode<Route> | HostEntry>>()
  for (const [port, builder] of portWildcards) frozenPortWildcards.set(port, builder.finish())
  const frozenWildcards = wildcards.finish()

  return {
    pathMatch: options.pathMatch,
    size: routes.length,
    routes,
    ignored,
    exact,
    wildcards: frozenWildcards,
    portWildcards: frozenPortWildcards,
    globs,
    catchAll,
    hostless:
      exact.size === 0 && frozenWildcards.size === 0 && frozenPortWildcards.size === 0 && globs.length === 0,
    prefixOnly: routes.every((r) => r.pathMatch === 'prefix'),
    hosts: states,
  }
}

/** The entry's trie root when that is all it has (see `RouteTable.exact`), else the entry. */
export function bareOrEntry(e: HostEntry): PathNode<Route> | HostEntry {
  return e.plain === null && e.tls === null && e.itrie === null && e.globs.length === 0 && e.trie !== null
    ? e.trie
    : e
}

/** The lookup structures of one host's routes; ranks follow fabio's order (paths in reverse string order). */
export function hostRoutes(list: Route[]): HostRoutes {
  if (list.length === 1) (list[0] as { rank: number }).rank = 1
  else {
    const order = list.slice().sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : a.id - b.id))
    for (let i = 0; i < order.length; i++) (order[i] as { rank: number }).rank = order.length - i
  }
  const trie = new PathTrieBuilder<Route>()
  let itrie: PathTrieBuilder<Route> | null = null // made for the first `iprefix` route (rare)
  let globs: Route[] | null = null // made for the first glob route (rare)
  for (const r of list) {
    if (r.glob !== null) (globs ??= []).push(r)
    else if (r.pathMatch === 'iprefix')
      (itrie ??= new PathTrieBuilder<Route>()).insert(r.path.toLowerCase(), r)
    else trie.insert(r.path, r)
  }
  if (globs !== null) globs.sort((a, b) => b.rank - a.rank)
  return {
    trie: trie.size === 0 ? null : trie.finish(),
    itrie: itrie === null || itrie.size === 0 ? null : itrie.finish(),
    globs: globs ?? NO_ROUTES,
  }
}

function matchKindOf(pathMatch: PathMatch): number {
  return pathMatch === 'segment' ? KIND_SEGMENT : pathMatch === 'glob' ? KIND_EXACT : KIND_PREFIX
}

export function makeRoute(
  id: number,
  host: string,
  spec: HttpRouteSpec,
  pathMatch: PathMatch,
  glob: RegExp | null,
): Route {
  return {
    id,
    host,
    path: spec.path,
    service: spec.service,
    strip: spec.strip,
    prepend: spec.prepend,
    prependPath: spec.prepend.endsWith('/') ? spec.prepend.slice(0, -1) : spec.prepend,
    hostHeader: spec.hostHeader,
    redirect: spec.redirect,
    source: spec.source,
    allow: cidrSetOrNull(spec.allow),
    deny: cidrSetOrNull(spec.deny),
    allowList: validCidrs(spec.allow),
    denyList: validCidrs(spec.deny),
    pathMatch,
    matchKind: matchKindOf(pathMatch),
    rank: 0,
    glob,
    auth: spec.auth ?? '',
    hsts: spec.hsts ?? '',
  }
}

/**
 * Providers validate CIDRs before emitting them; an invalid entry here is dropped rather than thrown. A non-empty
 * list whose entries are all invalid gives an empty set, so an `allow` list fails closed.
 */
function cidrSetOrNull(list: readonly string[] | undefined): CidrSet | null {
  if (list === undefined || list.length === 0) return null
  return new CidrSet(validCidrs(list))
}

/** Shared by every route without an ACL, so the common case allocates no list. */
const NO_CIDRS: readonly string[] = []

function validCidrs(list: readonly string[] | undefined): readonly string[] {
  if (list === undefined || list.length === 0) return NO_CIDRS
  const valid: string[] = []
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as string
    if (parseCidr(c).ok) valid.push(c)
  }
  return valid
}
