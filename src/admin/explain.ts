/**
 * "Why did this request go there?": the route lookup of a host and path, traced step by step, and the server the
 * picker would choose. Pure (no I/O, no logging): the admin API (`/api/explain`) and `lb explain --offline` call
 * it over a table and the services' pools.
 *
 * The trace follows the lookup order documented in route/table.ts (exact host, then for a non-default port the
 * `host:port` wildcards and the host without its port, then wildcards most specific first, then the catch-all),
 * but it is written for clarity over a list of routes, not over the lookup structures. The route it reports is
 * always `lookupHttp`'s own answer; tests check that the trace agrees with it.
 *
 * The pick preview runs the pool's picker on the live state and then restores every field a picker writes
 * (smooth-rr current weights, the static-rr and leastconn cursors), so explaining never moves the rotation.
 */
import { selectBackend, type Pool } from '../balance/pool.js'
import { isAvailable, type Backend } from '../balance/backend.js'
import {
  compareWildcardHosts,
  isDefaultPort,
  isWildcardHost,
  normalizeHost,
  portStart,
  splitWildcardHost,
} from '../route/host.js'
import type { Route, RouteTable } from '../route/table.js'
import { lookupHttp, routeAllows } from '../route/lookup.js'
import { isIP } from 'node:net'

export type HostKind = 'exact' | 'wildcard' | 'catch-all'

/** One route of a candidate host, and why it did or did not match the path. */
export interface PathVerdict {
  readonly id: number
  readonly path: string
  readonly service: string
  readonly matched: boolean
  /** '' for the winner; otherwise why not. */
  readonly reason: string
}

/** One host the lookup tried, in order. */
export interface HostCandidate {
  readonly host: string
  readonly kind: HostKind
  /** Why this host applies to the request (`exact match`, `*.example.com matches a.example.com`, …). */
  readonly why: string
  readonly routes: readonly PathVerdict[]
  /** The route chosen among this host's routes, or null (then the lookup moved on). */
  readonly matched: number | null
}

export interface RouteInfo {
  readonly id: number
  readonly host: string
  readonly path: string
  readonly service: string
  readonly strip: string
  readonly prepend: string
  readonly hostHeader: string
  readonly redirect: { readonly code: number; readonly url: string } | null
  readonly source: string
  readonly allow: readonly string[]
  readonly deny: readonly string[]
}

export interface AclVerdict {
  /** The client address checked, '' when none was given. */
  readonly client: string
  /** null when no client was given (and the route has an ACL), else whether the client may use the route. */
  readonly allowed: boolean | null
  readonly reason: string
}

export interface RouteExplain {
  /** The host as given and as normalised ('' = no Host header). */
  readonly host: string
  readonly normalizedHost: string
  readonly path: string
  readonly pathMatch: string
  readonly candidates: readonly HostCandidate[]
  readonly route: RouteInfo | null
  readonly acl: AclVerdict | null
  /** One line: what happens to the request. */
  readonly summary: string
}

export function routeInfo(r: Route): RouteInfo {
  return {
    id: r.id,
    host: r.host,
    path: r.path,
    service: r.service,
    strip: r.strip,
    prepend: r.prepend,
    hostHeader: r.hostHeader,
    redirect: r.redirect === null ? null : { code: r.redirect.code, url: r.redirect.url },
    source: r.source,
    allow: r.allowList,
    deny: r.denyList,
  }
}

/** The request path up to its first '?'. */
function pathOnly(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

/** Why a route's path does not match `path` on its own, or '' when it does. */
function pathRejection(routePath: string, path: string, rule: string): string {
  if (!path.startsWith(routePath)) return `path ${routePath} is not a prefix of ${path}`
  if (rule === 'segment') {
    const end = routePath.length
    if (end !== path.length && path.charCodeAt(end) !== 47 && !routePath.endsWith('/')) {
      return `${routePath} does not end at a segment boundary of ${path} (path_match: segment)`
    }
  }
  return ''
}

function describeHost(
  r: readonly Route[],
  host: string,
  kind: HostKind,
  why: string,
  path: string,
  rule: string,
  winner: Route | undefined,
): HostCandidate {
  const routes: PathVerdict[] = []
  let matched: number | null = null
  // Longest path first, as the trie prefers it.
  const sorted = r.filter((x) => x.host === host).sort((a, b) => b.path.length - a.path.length)
  let best: Route | null = null
  for (const route of sorted) {
    const rejected = pathRejection(route.path, path, rule)
    if (rejected === '' && best === null) {
      best = route
      matched = route.id
      routes.push({ id: route.id, path: route.path, service: route.service, matched: true, reason: '' })
    } else {
      routes.push({
        id: route.id,
        path: route.path,
        service: route.service,
        matched: false,
        reason: rejected !== '' ? rejected : `the longer path ${best?.path ?? ''} wins`,
      })
    }
  }
  // Defensive: the trace follows the documented rules; the winner is whatever lookupHttp returned.
  if (winner !== undefined && winner.host === host && matched !== winner.id) matched = winner.id
  return { host, kind, why, routes, matched }
}

/** Trace the lookup of `host` (raw Host header, '' = none) and `url` (request target) in `table`. */
export function explainRoute(table: RouteTable, host: string, url: string, client = ''): RouteExplain {
  const route = lookupHttp(table, host === '' ? undefined : host, url)
  const path = pathOnly(url)
  const rule = table.pathMatch
  const routes = table.routes
  const candidates: HostCandidate[] = []
  const norm = host === '' ? '' : normalizeHost(host)
  const add = (h: string, kind: HostKind, why: string): boolean => {
    const c = describeHost(routes, h, kind, why, path, rule, route)
    if (c.routes.length === 0) return false
    candidates.push(c)
    return c.matched !== null
  }
  let done = false
  if (norm !== '' && !table.hostless) {
    const nameEnd = portStart(norm)
    const name = norm.slice(0, nameEnd)
    const port = nameEnd === norm.length || isDefaultPort(norm, nameEnd) ? '' : norm.slice(nameEnd + 1)
    const wildcards = [...new Set(routes.filter((r) => isWildcardHost(r.host)).map((r) => r.host))].sort(
      compareWildcardHosts,
    )
    const wildcardMatches = (w: string, wantPort: string): boolean => {
      const s = splitWildcardHost(w)
      return s.port === wantPort && name.length > s.suffix.length && name.endsWith(s.suffix)
    }
    done = add(norm, 'exact', `exact host ${norm}`)
    if (!done && port !== '') {
      for (const w of wildcards) {
        if (done) break
        if (wildcardMatches(w, port)) done = add(w, 'wildcard', `${w} matches ${norm}`)
      }
      if (!done) done = add(name, 'exact', `exact host ${name} (${norm} without its port)`)
    }
    for (const w of wildcards) {
      if (done) break
      if (wildcardMatches(w, '')) done = add(w, 'wildcard', `${w} matches ${name}`)
    }
  }
  if (!done) {
    const why =
      norm === ''
        ? 'no Host header: only the catch-all applies'
        : table.hostless
          ? 'every route is a catch-all (the Host is not looked at)'
          : `no host route matched ${norm}`
    add('', 'catch-all', why)
  }
  const acl = route === undefined ? null : aclVerdict(route, client)
  return {
    host,
    normalizedHost: norm,
    path: url,
    pathMatch: rule,
    candidates,
    route: route === undefined ? null : routeInfo(route),
    acl,
    summary: summarize(route, acl, norm, path),
  }
}

function aclVerdict(route: Route, client: string): AclVerdict {
  const hasAcl = route.allow !== null || route.deny !== null
  if (!hasAcl) return { client, allowed: true, reason: 'the route has no allow/deny list' }
  if (client === '')
    return {
      client,
      allowed: null,
      reason: 'the route has an allow/deny list; give a client address to check it',
    }
  if (isIP(client) === 0) return { client, allowed: null, reason: `${client} is not an IP address` }
  if (route.deny !== null && route.deny.has(client))
    return { client, allowed: false, reason: `${client} is in the deny list (403)` }
  if (!routeAllows(route, client))
    return { client, allowed: false, reason: `${client} is not in the allow list (403)` }
  return {
    client,
    allowed: true,
    reason: route.allow === null ? `${client} is not in the deny list` : `${client} is in the allow list`,
  }
}

function summarize(route: Route | undefined, acl: AclVerdict | null, host: string, path: string): string {
  if (route === undefined) return `no route for ${host === '' ? '(no host)' : host}${path}: 404`
  const r = `${route.host}${route.path}`
  if (acl?.allowed === false) return `route ${r} matches but the client is refused: 403`
  if (route.redirect !== null) return `route ${r} redirects (${route.redirect.code}) to ${route.redirect.url}`
  return `route ${r} → service ${route.service}`
}

/** One server of the matched service and whether the picker may choose it now. */
export interface ServerVerdict {
  readonly server: string
  readonly backup: boolean
  readonly weight: number
  readonly effectiveWeight: number
  readonly inflight: number
  readonly eligible: boolean
  /** '' when eligible; otherwise why not (down, drain, maint, weight 0, full at maxconn, backup not in use). */
  readonly reason: string
}

export interface PickExplain {
  readonly service: string
  readonly balance: string
  readonly servers: readonly ServerVerdict[]
  /** The server the picker would choose for the next request, or null (503 or queue). */
  readonly pick: string | null
}

function serverReason(b: Backend, downReason: string): string {
  if (!b.up) return downReason === '' ? 'DOWN (health)' : `DOWN: ${downReason}`
  if (b.admin === 'maint') return 'in maintenance (maint)'
  if (b.admin === 'drain') return 'draining (drain)'
  if (b.effectiveWeight <= 0) return 'weight 0'
  if (b.maxconn !== 0 && b.inflight >= b.maxconn) return `full (${b.inflight}/${b.maxconn} in flight)`
  return ''
}

/**
 * The servers of `pool` and the one `selectBackend` would return, leaving the pool exactly as it was.
 * `downReason(b)` names why a server is down (resolution failure, last check), '' when unknown.
 */
export function explainPick(
  pool: Pool,
  rand: () => number,
  downReason: (b: Backend) => string = () => '',
): PickExplain {
  const all = [...pool.normal, ...pool.backup]
  const normalUsable = pool.normal.some((b) => b.up && b.admin === 'ready' && b.effectiveWeight > 0)
  const servers: ServerVerdict[] = all.map((b) => {
    let reason = serverReason(b, downReason(b))
    if (reason === '' && b.backup && normalUsable)
      reason = 'backup: used only when no normal server is usable'
    return {
      server: b.name,
      backup: b.backup,
      weight: b.weight,
      effectiveWeight: b.effectiveWeight,
      inflight: b.inflight,
      eligible: reason === '' && isAvailable(b),
      reason,
    }
  })
  return {
    service: pool.service,
    balance: pool.balance,
    servers,
    pick: previewPick(pool, rand)?.name ?? null,
  }
}

/** `selectBackend` without side effects: every field a picker writes is saved first and restored after. */
export function previewPick(pool: Pool, rand: () => number): Backend | undefined {
  const all = [...pool.normal, ...pool.backup]
  const weights = all.map((b) => b.currentWeight)
  const n = pool.normalState
  const k = pool.backupState
  const saved = [n.seqCursor, n.lcCursor, k.seqCursor, k.lcCursor] as const
  try {
    return selectBackend(pool, rand, null)
  } finally {
    for (let i = 0; i < all.length; i++) (all[i] as Backend).currentWeight = weights[i] as number
    n.seqCursor = saved[0]
    n.lcCursor = saved[1]
    k.seqCursor = saved[2]
    k.lcCursor = saved[3]
  }
}

/** Plain-text rendering for the CLI and `/api/explain?format=text`. */
export function formatExplain(e: RouteExplain, pick: PickExplain | null): string {
  const lines: string[] = []
  lines.push(`request: host=${e.host === '' ? '(none)' : e.host} path=${e.path} (path_match: ${e.pathMatch})`)
  for (const c of e.candidates) {
    lines.push(`  ${c.kind} ${c.host === '' ? '(catch-all)' : c.host}: ${c.why}`)
    for (const r of c.routes)
      lines.push(
        `    ${r.matched ? '✓' : '✗'} ${r.path} → ${r.service || '-'}${r.reason === '' ? '' : `  (${r.reason})`}`,
      )
  }
  if (e.acl !== null) lines.push(`  acl: ${e.acl.reason}`)
  if (pick !== null) {
    lines.push(`  service ${pick.service} (balance ${pick.balance}):`)
    for (const s of pick.servers) {
      lines.push(
        `    ${s.eligible ? '✓' : '✗'} ${s.server} weight=${s.effectiveWeight}${s.backup ? ' backup' : ''}${s.reason === '' ? '' : `  (${s.reason})`}`,
      )
    }
    lines.push(`  next pick: ${pick.pick ?? '(none: 503 or queued)'}`)
  }
  lines.push(e.summary + (pick?.pick != null && e.acl?.allowed !== false ? ` / server ${pick.pick}` : ''))
  return lines.join('\n') + '\n'
}
