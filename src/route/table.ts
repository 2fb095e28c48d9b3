/**
 * The HTTP routing table: built once per snapshot by a pure function, swapped whole by the worker,
 * read by `lookupHttp` on every request (STYLE §1, §2). Pure: no I/O, no logging, no metrics.
 *
 * Lookup order for a request `host`, `url` (fabio `Table.Lookup`, without the per-request glob scan):
 *
 * 1. Exact host. The raw Host header is tried first as a Map key: every exact host is stored under `host`,
 *    `host:80` and `host:443`, so the common case needs no normalisation and allocates nothing. On a miss, a
 *    host with upper-case letters, a trailing dot or an empty port is normalised (`normalizeHost`) and tried
 *    again.
 * 2. A request host with a non-default port (`example.com:8080`) first tries routes configured with that port:
 *    the exact `example.com:8080`, then wildcards with `:8080`. If none of them has a matching path, the host is
 *    tried without the port, as in 1 and 3. (fabio has no such fallback: it only matches `host:port` keys.)
 * 3. Wildcard hosts (`*.example.com`), most specific first (`compareWildcardHosts`). `*` stands for one or more
 *    labels: `a.example.com`, `a.b.example.com`, never the bare `example.com` (fabio's glob also matches
 *    `.example.com`; we do not). In general `*<suffix>` matches a name that ends with `<suffix>` and has at least
 *    one more char, so `*` alone matches any non-empty host. A '*' anywhere but first is a literal char.
 *    Found through a suffix index (host.ts `matchWildcard`), so the cost does not grow with the number of
 *    wildcard hosts.
 * 4. The catch-all host '' (routes without a host), also used when the Host header is missing or empty.
 *
 * Within one host the longest configured path matching `url` up to its '?' wins (`pathMatch` picks the rule:
 * see `pathMatchers` in trie.ts). A host whose routes have no matching path falls through to the next
 * candidate, as in fabio. `undefined` means no route.
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
  isDefaultPort,
  isLowerCaseRange,
  isWildcardHost,
  matchWildcard,
  needsNormalize,
  normalizeHost,
  normalizeRouteKey,
  portStart,
  WildcardIndexBuilder,
} from './host.js'
import type { SuffixNode, WildcardIndex } from './host.js'
import {
  KIND_EXACT,
  KIND_PREFIX,
  KIND_SEGMENT,
  longestFoldedPrefix,
  longestKindMatch,
  longestPrefix,
  PathNode,
  PathTrieBuilder,
} from './trie.js'
import { normalizePath } from './normalize.js'
import { hostGlob, isGlob, pathGlob } from './glob.js'
import { redirectLoops } from './redirect.js'
import { CidrSet, parseCidr } from '../net/cidr.js'

const CH_DOT = 46

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
}

interface HostBuild {
  readonly key: string
  readonly routes: Route[]
  readonly paths: Set<string>
}

/** Whether a host name (no port) is a glob pattern; `[v6]` literals are not. */
function isHostGlob(name: string): boolean {
  return name.charCodeAt(0) !== 91 /* [ */ && isGlob(name)
}

/** Splits a route key into its name and its port ('' = none). */
function splitKey(key: string): { name: string; port: string } {
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
      b = { key, routes: [], paths: new Set() }
      hosts.set(key, b)
    }
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
    if (b.paths.has(spec.path)) {
      ignored.push(spec)
      continue
    }
    b.paths.add(spec.path)
    const route = makeRoute(routes.length, key, spec, pathMatch, glob)
    routes.push(route)
    b.routes.push(route)
  }

  // Entries per host name; the variants `:80` and `:443` share the entry of their name.
  const entries = new Map<
    string,
    { any: HostRoutes | null; plain: HostRoutes | null; tls: HostRoutes | null }
  >()
  let catchAll: HostRoutes | null = null
  for (const b of hosts.values()) {
    const hr = hostRoutes(b.routes)
    if (b.key === '') {
      catchAll = hr
      continue
    }
    const { name, port } = splitKey(b.key)
    const entryKey = port === '' || port === '80' || port === '443' ? name : b.key
    let e = entries.get(entryKey)
    if (e === undefined) {
      e = { any: null, plain: null, tls: null }
      entries.set(entryKey, e)
    }
    if (port === '80') e.plain = hr
    else if (port === '443') e.tls = hr
    else e.any = hr
  }

  // Wildcard and glob names, in fabio's specificity order (reversed name, descending): a rank each.
  const patterns: string[] = []
  for (const key of entries.keys())
    if (isWildcardHost(key) || isHostGlob(splitKey(key).name)) patterns.push(key)
  patterns.sort(compareWildcardHosts)
  const rankOf = new Map<string, number>()
  for (let i = 0; i < patterns.length; i++) rankOf.set(patterns[i] as string, patterns.length - i)

  const exact = new Map<string, PathNode<Route> | HostEntry>()
  const wildcards = new WildcardIndexBuilder<PathNode<Route> | HostEntry>()
  const portWildcards = new Map<string, WildcardIndexBuilder<PathNode<Route> | HostEntry>>()
  const globs: GlobHost[] = []
  let globHosts = false
  for (const key of entries.keys()) {
    const name = splitKey(key).name
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
    const { name, port } = splitKey(key)
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
  }
}

/** The entry's trie root when that is all it has (see `RouteTable.exact`), else the entry. */
function bareOrEntry(e: HostEntry): PathNode<Route> | HostEntry {
  return e.plain === null && e.tls === null && e.itrie === null && e.globs.length === 0 && e.trie !== null
    ? e.trie
    : e
}

/** The lookup structures of one host's routes; ranks follow fabio's order (paths in reverse string order). */
function hostRoutes(list: Route[]): HostRoutes {
  const order = list.slice().sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : a.id - b.id))
  for (let i = 0; i < order.length; i++) (order[i] as { rank: number }).rank = order.length - i
  const trie = new PathTrieBuilder<Route>()
  const itrie = new PathTrieBuilder<Route>()
  const globs: Route[] = []
  for (const r of list) {
    if (r.glob !== null) globs.push(r)
    else if (r.pathMatch === 'iprefix') itrie.insert(r.path.toLowerCase(), r)
    else trie.insert(r.path, r)
  }
  globs.sort((a, b) => b.rank - a.rank)
  return {
    trie: trie.size === 0 ? null : trie.finish(),
    itrie: itrie.size === 0 ? null : itrie.finish(),
    globs,
  }
}

function matchKindOf(pathMatch: PathMatch): number {
  return pathMatch === 'segment' ? KIND_SEGMENT : pathMatch === 'glob' ? KIND_EXACT : KIND_PREFIX
}

function makeRoute(
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

/** True when the client may use `route` (fabio: allow wins when both are set; we check deny, then allow). */
export function routeAllows(route: Route, client: string): boolean {
  if (route.deny !== null && route.deny.has(client)) return false
  return route.allow === null || route.allow.has(client)
}

/**
 * The route of one host's routes for `url`, or undefined: the best of the trie, the folded trie and the globs by
 * rank (fabio's order). With no iprefix or glob routes this is the trie walk alone.
 */
export function matchHostRoutes(h: HostRoutes, url: string): Route | undefined {
  let best =
    h.trie === null ? undefined : req.prefixOnly ? longestPrefix(h.trie, url) : longestKindMatch(h.trie, url)
  if (h.itrie !== null) {
    const r = longestFoldedPrefix(h.itrie, url)
    if (r !== undefined && (best === undefined || r.rank > best.rank)) best = r
  }
  const globs = h.globs
  for (let i = 0; i < globs.length; i++) {
    const g = globs[i] as Route
    if (best !== undefined && g.rank < best.rank) break
    if ((g.glob as RegExp).test(url)) return g
  }
  return best
}

/**
 * Per-request facts a lookup needs besides host and path. `tls`: the request came over TLS (selects the `:443`
 * variants of routes instead of the `:80` ones). `forwardedProto`: the trusted X-Forwarded-Proto ('' = none),
 * for fabio's redirect-loop guard: a redirect route whose target has that scheme and the request's own host
 * and path is skipped, and the lookup goes on with the next host.
 */
interface LookupRequest {
  /** The table's `prefixOnly`. */
  prefixOnly: boolean
  tls: boolean
  forwardedProto: string
  host: string
}

/** One reused request record per process (lookups never run concurrently). */
const req: LookupRequest = { prefixOnly: true, tls: false, forwardedProto: '', host: '' }

/** Tries an exact host's Map value: a bare trie (the usual case) or a HostEntry. */
function tryExact(v: PathNode<Route> | HostEntry, url: string, defaultPort: number): Route | undefined {
  if (v instanceof PathNode) {
    const route = req.prefixOnly ? longestPrefix(v, url) : longestKindMatch(v, url)
    if (route === undefined || route.redirect === null || req.forwardedProto === '') return route
    return redirectLoops(route, url, req.host, req.forwardedProto) ? undefined : route
  }
  return tryEntry(v, url, defaultPort)
}

/** Tries one host's routes; undefined when no path matches, or the match is a redirect loop (see LookupRequest). */
function tryRoutes(h: HostRoutes | null, url: string): Route | undefined {
  if (h === null) return undefined
  const route = matchHostRoutes(h, url)
  if (route === undefined || route.redirect === null || req.forwardedProto === '') return route
  return redirectLoops(route, url, req.host, req.forwardedProto) ? undefined : route
}

/**
 * Tries a host entry: the variant written with the scheme's default port first (`:80` for plain HTTP, `:443` for
 * TLS) when the request carries no port or that port (`defaultPort`: 1 yes, 0 no, -1 not known yet: then it is
 * taken from the raw Host, only for an entry that has such a variant), then the portless routes.
 */
function tryEntry(e: HostEntry, url: string, defaultPort: number): Route | undefined {
  const v = req.tls ? e.tls : e.plain
  if (
    v !== null &&
    (defaultPort === 1 || (defaultPort === -1 && schemeDefaultPort(req.host, portStart(req.host))))
  ) {
    const r = tryRoutes(v, url)
    if (r !== undefined) return r
  }
  return tryRoutes(e, url)
}

/**
 * The route for a request, or undefined. `host` is the raw Host header (any case, optional port, `[v6]:port`,
 * missing or empty); `url` is the raw request target, matched up to its first '?' in its normal form. `tls` and
 * `forwardedProto`: see LookupRequest. See the module comment for the order. Allocation-free unless the host or
 * path needs normalising or the host carries a non-default port.
 */
export function lookupHttp(
  table: RouteTable,
  host: string | undefined,
  url: string,
  tls = false,
  forwardedProto = '',
): Route | undefined {
  // Matching sees the normal form of the path (normalize.ts); the same string when it already is normal.
  url = normalizePath(url)
  req.prefixOnly = table.prefixOnly
  req.tls = tls
  req.forwardedProto = forwardedProto
  req.host = host ?? ''
  // Path-only tables (fabio's common `urlprefix-/path` setup) never look at the host.
  if (host !== undefined && host.length !== 0 && !table.hostless) {
    const route = lookupHost(table, host, url)
    if (route !== undefined) return route
  }
  return tryRoutes(table.catchAll, url)
}

/** Whether the port at `nameEnd` of `host` is absent, empty, or the default of the request's scheme. */
function schemeDefaultPort(host: string, nameEnd: number): boolean {
  const n = host.length - nameEnd
  if (n === 0 || n === 1) return true
  return req.tls
    ? n === 4 && host.startsWith('443', nameEnd + 1)
    : n === 3 && host.startsWith('80', nameEnd + 1)
}

function lookupHost(table: RouteTable, host: string, url: string): Route | undefined {
  const tried = table.exact.get(host)
  if (tried !== undefined) {
    const route = tryExact(tried, url, -1)
    if (route !== undefined) return route
  }
  let nameEnd = portStart(host)
  // Taken from the raw host: normalising drops a default port.
  const dflt = schemeDefaultPort(host, nameEnd) ? 1 : 0
  if (nameEnd === host.length || (nameEnd < host.length - 1 && isDefaultPort(host, nameEnd))) {
    // Fast path, no port or a default one: match wildcards on the raw host. The suffix matched equals a
    // lower-case pattern, so checking the chars before it proves the host canonical, which also makes the
    // exact lookup above final. That check is a few chars, where needsNormalize scans the whole host.
    const node = matchWildcard(table.wildcards, host, nameEnd)
    if (node === null) {
      if (!needsNormalize(host, nameEnd)) return lookupWildcards(null, table.globs, host, nameEnd, url, dflt)
    } else if (isLowerCaseRange(host, nameEnd - node.depth) && host.charCodeAt(nameEnd - 1) !== CH_DOT) {
      return lookupWildcards(node, table.globs, host, nameEnd, url, dflt)
    }
  }
  if (needsNormalize(host, nameEnd)) {
    host = normalizeHost(host)
    nameEnd = portStart(host)
    const e = table.exact.get(host)
    if (e !== undefined && e !== tried) {
      const route = tryExact(e, url, dflt)
      if (route !== undefined) return route
    }
  }
  if (nameEnd !== host.length && !isDefaultPort(host, nameEnd)) {
    // Non-default port: the exact `host:port` was tried above; then wildcards with this port, then the
    // host without its port.
    if (table.portWildcards.size !== 0) {
      const index = table.portWildcards.get(host.slice(nameEnd + 1))
      if (index !== undefined) {
        const route = lookupWildcards(matchWildcard(index, host, nameEnd), NO_GLOBS, host, nameEnd, url, 0)
        if (route !== undefined) return route
      }
    }
    const e = table.exact.get(host.slice(0, nameEnd))
    if (e !== undefined) {
      const route = tryExact(e, url, 0)
      if (route !== undefined) return route
    }
  }
  return lookupWildcards(matchWildcard(table.wildcards, host, nameEnd), table.globs, host, nameEnd, url, dflt)
}

const NO_GLOBS: readonly GlobHost[] = []
const NO_ROUTES: readonly Route[] = []

/**
 * Tries the wildcard `first` (from `matchWildcard`) and each less specific one, merged by rank with the glob
 * hosts that match `host`, until a path matches.
 */
function lookupWildcards(
  first: SuffixNode<PathNode<Route> | HostEntry> | null,
  globs: readonly GlobHost[],
  host: string,
  nameEnd: number,
  url: string,
  defaultPort: number,
): Route | undefined {
  let node = first
  let gi = 0
  while (node !== null || gi < globs.length) {
    if (node !== null && node.value === null) {
      node = node.next
      continue
    }
    const g = gi < globs.length ? (globs[gi] as GlobHost) : null
    // With glob hosts in the table every wildcard value is a HostEntry (it has a rank).
    if (node !== null && (g === null || (node.value as HostEntry).rank > g.entry.rank)) {
      const route = tryExact(node.value as PathNode<Route> | HostEntry, url, defaultPort)
      if (route !== undefined) return route
      node = node.next
      continue
    }
    if (g === null) break
    gi++
    if (!g.re.test(host)) continue
    if (g.port !== '') {
      // Written with a non-default port: only requests with that port.
      if (host.length - nameEnd - 1 !== g.port.length || !host.startsWith(g.port, nameEnd + 1)) continue
      const route = tryRoutes(g.entry, url)
      if (route !== undefined) return route
      continue
    }
    if (nameEnd !== host.length && !isDefaultPort(host, nameEnd)) continue
    const route = tryEntry(g.entry, url, defaultPort)
    if (route !== undefined) return route
  }
  return undefined
}

/**
 * Canonical text dump, one line per route, in fabio's route language:
 *
 *     route add <service> <host><path>[ strip=<s>][ prepend=<p>][ host=<h>][ redirect=<code>,<url>]
 *
 * `<service>` is `-` when empty (redirect routes). Catch-all routes have no host (`/path`), as in fabio.
 * A value containing whitespace or '"' is JSON-quoted. Order: exact hosts alphabetically, then wildcard hosts
 * in lookup order (`compareWildcardHosts`), then the catch-all; within a host, paths in reverse string order
 * (fabio's order). Each line ends with '\n'; an empty table is ''. Sources and ignored specs are not shown.
 * Depends only on the routes kept, not on their input order.
 */
export function describeTable(table: RouteTable): string {
  const sorted = table.routes.slice().sort(compareForDisplay)
  let out = ''
  for (const route of sorted) out += describeRoute(route) + '\n'
  return out
}

function describeRoute(r: Route): string {
  let line = `route add ${token(r.service === '' ? '-' : r.service)} ${token(r.host + r.path)}`
  if (r.strip !== '') line += ` strip=${token(r.strip)}`
  if (r.prepend !== '') line += ` prepend=${token(r.prepend)}`
  if (r.hostHeader !== '') line += ` host=${token(r.hostHeader)}`
  if (r.redirect !== null) line += ` redirect=${token(`${r.redirect.code},${r.redirect.url}`)}`
  return line
}

function token(s: string): string {
  return /[\s"]/.test(s) ? JSON.stringify(s) : s
}

/** 0 exact, 1 wildcard, 2 catch-all. */
function hostRank(host: string): number {
  return host === '' ? 2 : isWildcardHost(host) ? 1 : 0
}

function compareForDisplay(a: Route, b: Route): number {
  if (a.host !== b.host) {
    const ra = hostRank(a.host)
    const rb = hostRank(b.host)
    if (ra !== rb) return ra - rb
    if (ra === 1) return compareWildcardHosts(a.host, b.host)
    return a.host < b.host ? -1 : 1
  }
  return a.path === b.path ? 0 : a.path > b.path ? -1 : 1
}
