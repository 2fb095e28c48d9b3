/**
 * `describeTable`: a table in fabio's route language (`route add <service> <host><path> …`), one line per route,
 * in a canonical order. Tests write their expectations in it, and the admin API's /api/routes serves it.
 */
import { compareWildcardHosts, isWildcardHost } from './host.js'
import type { Route, RouteTable } from './table.js'

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
