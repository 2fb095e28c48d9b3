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
import type { PathMatch } from '../config/schema.js'
import type { HttpRouteSpec, Redirect } from '../snapshot.js'
import {
  compareWildcardHosts,
  isDefaultPort,
  isLowerCaseRange,
  isWildcardHost,
  matchWildcard,
  needsNormalize,
  normalizeHost,
  portStart,
  splitWildcardHost,
  WildcardIndexBuilder,
} from './host.js'
import type { SuffixNode, WildcardIndex } from './host.js'
import { pathMatchers, PathTrieBuilder } from './trie.js'
import { normalizePath } from './normalize.js'
import { CidrSet, parseCidr } from '../net/cidr.js'
import type { PathMatcher, PathNode } from './trie.js'

const CH_DOT = 46

/** One route, prebuilt at build time; lookup returns these objects as they are. */
export interface Route {
  /** Position in `RouteTable.routes` (0-based, in input order among the routes kept). */
  readonly id: number
  /** Normalised host: exact (`example.com`, `example.com:8080`), wildcard (`*.example.com`) or '' (catch-all). */
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
}

export interface TableOptions {
  readonly pathMatch: PathMatch
}

/** The root of one host's path trie. */
type HostTrie = PathNode<Route>

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
  /** Exact hosts, each under `host`, `host:80` and `host:443` (the last two only for hosts without a port). */
  readonly exact: ReadonlyMap<string, HostTrie>
  /** Wildcard hosts without a port. */
  readonly wildcards: WildcardIndex<HostTrie>
  /** Wildcard hosts with a non-default port, by port. */
  readonly portWildcards: ReadonlyMap<string, WildcardIndex<HostTrie>>
  /** Routes without a host, or null. */
  readonly catchAll: HostTrie | null
  /** True when every route is a catch-all route: lookup then skips the Host header entirely. */
  readonly hostless: boolean
  readonly match: PathMatcher
}

export function buildTable(specs: readonly HttpRouteSpec[], options: TableOptions): RouteTable {
  const hosts = new Map<string, PathTrieBuilder<Route>>()
  const routes: Route[] = []
  const ignored: HttpRouteSpec[] = []
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]
    if (spec === undefined) continue
    const host = spec.host === '' ? '' : normalizeHost(spec.host)
    let builder = hosts.get(host)
    if (builder === undefined) {
      builder = new PathTrieBuilder<Route>()
      hosts.set(host, builder)
    }
    const route = makeRoute(routes.length, host, spec)
    if (builder.insert(spec.path, route)) routes.push(route)
    else ignored.push(spec)
  }

  const exact = new Map<string, HostTrie>()
  const wildcards = new WildcardIndexBuilder<HostTrie>()
  const portWildcards = new Map<string, WildcardIndexBuilder<HostTrie>>()
  let catchAll: HostTrie | null = null
  for (const [host, builder] of hosts) {
    const trie = builder.finish()
    if (host === '') {
      catchAll = trie
    } else if (isWildcardHost(host)) {
      const w = splitWildcardHost(host)
      let index = w.port === '' ? wildcards : portWildcards.get(w.port)
      if (index === undefined) {
        index = new WildcardIndexBuilder<HostTrie>()
        portWildcards.set(w.port, index)
      }
      index.insert(w.suffix, trie)
    } else {
      exact.set(host, trie)
      if (portStart(host) === host.length) {
        exact.set(host + ':80', trie)
        exact.set(host + ':443', trie)
      }
    }
  }
  const frozenPortWildcards = new Map<string, WildcardIndex<HostTrie>>()
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
    catchAll,
    hostless: exact.size === 0 && frozenWildcards.size === 0 && frozenPortWildcards.size === 0,
    match: pathMatchers[options.pathMatch],
  }
}

function makeRoute(id: number, host: string, spec: HttpRouteSpec): Route {
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
 * The route for a request, or undefined. `host` is the raw Host header (any case, optional port, `[v6]:port`,
 * missing or empty); `url` is the raw request target, matched up to its first '?' in its normal form. See the
 * module comment for the order. Allocation-free unless the host or path needs normalising or the host carries a
 * non-default port.
 */
export function lookupHttp(table: RouteTable, host: string | undefined, url: string): Route | undefined {
  // Matching sees the normal form of the path (normalize.ts); the same string when it already is normal.
  url = normalizePath(url)
  // Path-only tables (fabio's common `urlprefix-/path` setup) never look at the host.
  if (host !== undefined && host.length !== 0 && !table.hostless) {
    const route = lookupHost(table, host, url)
    if (route !== undefined) return route
  }
  return table.catchAll === null ? undefined : table.match(table.catchAll, url)
}

function lookupHost(table: RouteTable, host: string, url: string): Route | undefined {
  const match = table.match
  const tried = table.exact.get(host)
  if (tried !== undefined) {
    const route = match(tried, url)
    if (route !== undefined) return route
  }
  let nameEnd = portStart(host)
  if (nameEnd === host.length || (nameEnd < host.length - 1 && isDefaultPort(host, nameEnd))) {
    // Fast path, no port or a default one: match wildcards on the raw host. The suffix matched equals a
    // lower-case pattern, so checking the chars before it proves the host canonical, which also makes the
    // exact lookup above final. That check is a few chars, where needsNormalize scans the whole host.
    const node = matchWildcard(table.wildcards, host, nameEnd)
    if (node === null) {
      if (!needsNormalize(host, nameEnd)) return undefined
    } else if (isLowerCaseRange(host, nameEnd - node.depth) && host.charCodeAt(nameEnd - 1) !== CH_DOT) {
      return lookupWildcards(node, url, match)
    }
  }
  if (needsNormalize(host, nameEnd)) {
    host = normalizeHost(host)
    nameEnd = portStart(host)
    const trie = table.exact.get(host)
    if (trie !== undefined && trie !== tried) {
      const route = match(trie, url)
      if (route !== undefined) return route
    }
  }
  if (nameEnd !== host.length && !isDefaultPort(host, nameEnd)) {
    // Non-default port: the exact `host:port` was tried above; then wildcards with this port, then the
    // host without its port.
    if (table.portWildcards.size !== 0) {
      const index = table.portWildcards.get(host.slice(nameEnd + 1))
      if (index !== undefined) {
        const route = lookupWildcards(matchWildcard(index, host, nameEnd), url, match)
        if (route !== undefined) return route
      }
    }
    const trie = table.exact.get(host.slice(0, nameEnd))
    if (trie !== undefined) {
      const route = match(trie, url)
      if (route !== undefined) return route
    }
  }
  return lookupWildcards(matchWildcard(table.wildcards, host, nameEnd), url, match)
}

/** Tries the wildcard `first` (from `matchWildcard`), then each less specific one, until a path matches. */
function lookupWildcards(
  first: SuffixNode<HostTrie> | null,
  url: string,
  match: PathMatcher,
): Route | undefined {
  for (let node = first; node !== null; node = node.next) {
    if (node.value === null) continue
    const route = match(node.value, url)
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
