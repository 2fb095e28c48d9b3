/**
 * `lookupHttp`: the route of a request in a table (table.ts). Allocates nothing on the common path. Pure.
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
 */
import {
  isDefaultPort,
  isLowerCaseRange,
  matchWildcard,
  needsNormalize,
  normalizeHost,
  portStart,
  type SuffixNode,
} from './host.js'
import { longestFoldedPrefix, longestKindMatch, longestPrefix, PathNode } from './trie.js'
import { normalizePath } from './normalize.js'
import { redirectLoops } from './redirect.js'
import {
  CH_DOT,
  type Route,
  type HostRoutes,
  type HostEntry,
  type GlobHost,
  type RouteTable,
} from './table.js'

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
