/**
 * The route command IR (fabio's table) -> a Snapshot. lb's model is route -> one service -> servers with integer
 * weights, so each route's targets become a service (shared by the routes with the same targets) whose server
 * weights realise the route's shares (weights.ts). Pure; a memo keeps the objects of unchanged routes.
 */
import type {
  HttpRouteSpec,
  ServerSpec,
  ServiceDefaults,
  ServiceSpec,
  Snapshot,
  TargetOptions,
  TcpRouteSpec,
} from '../model/snapshot.js'
import { tcpTarget, type RouteOpts, type Src } from './tags.js'
import type { Target, IrRoute, Ir } from './routecmd.js'
import { integerWeightsInto } from './weights.js'

export interface ToSnapshotOptions {
  readonly defaults: ServiceDefaults
  /** Route `source` prefix, e.g. `consul` or `config:route_commands`. */
  readonly source: string
  /**
   * Appended to every service name made (and so to the routes' `service`): `@consul` for a provider that names its
   * services as the merge would (src/provider/merge.ts `qualify`). Default none.
   */
  readonly suffix?: string
}

/** One distinct server list built for a service; the service's lists are chained in build order. */
interface Variant {
  readonly name: string
  readonly proto: 'http' | 'https'
  readonly tlsSkipVerify: boolean
  /** fabio `pxyproto=true`: the service sends PROXY v1. */
  readonly pxyproto: boolean
  readonly servers: readonly ServerSpec[]
  next: Variant | undefined
}

/** What one route key produced last time: reused while its target list is the same objects in the same order. */
interface MemoRoute {
  readonly targets: readonly Target[]
  /** '' for a redirect route. */
  readonly name: string
  readonly servers: readonly ServerSpec[]
  /** The service spec this route created (null when it shared an earlier list, or is a redirect). */
  readonly service: ServiceSpec | null
  readonly route: HttpRouteSpec | TcpRouteSpec
}

/**
 * Reused between `toSnapshot` calls by one caller (the Consul provider) so that a rebuild after a small change
 * allocates only for the routes whose targets changed, and unchanged routes and services come out as the **same
 * objects** as last time (the watcher's equality check and merge then stop at identity). Purely a cache: the
 * result is equal with or without it. Only valid for one `ToSnapshotOptions` (reset when they change).
 */
export interface SnapshotMemo {
  options: ToSnapshotOptions | null
  routes: Map<string, MemoRoute>
  /** IR keys in insertion order and sorted, from the last call (the sort is skipped when the keys repeat). */
  keys: string[]
  sorted: string[]
}

export function newSnapshotMemo(): SnapshotMemo {
  return { options: null, routes: new Map(), keys: [], sorted: [] }
}

/** Empty the memo (its options are kept). */
export function resetMemo(memo: SnapshotMemo): void {
  memo.routes = new Map()
  memo.keys = []
  memo.sorted = []
}

/** The IR's keys in sorted order; the memo's previous sort when the IR has the same keys in the same order. */
function sortedKeys(ir: Ir, memo: SnapshotMemo | undefined): string[] {
  if (memo === undefined) return [...ir.keys()].sort()
  const prev = memo.keys
  let same = prev.length === ir.size
  if (same) {
    let i = 0
    for (const k of ir.keys()) {
      if (prev[i++] !== k) {
        same = false
        break
      }
    }
  }
  if (same) return memo.sorted
  memo.keys = [...ir.keys()]
  memo.sorted = memo.keys.slice().sort()
  return memo.sorted
}

function sameTargets(a: readonly Target[], b: readonly Target[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function sameServerSpecs(a: readonly ServerSpec[], b: readonly ServerSpec[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ServerSpec
    const y = b[i] as ServerSpec
    if (x.name !== y.name || x.host !== y.host || x.port !== y.port || x.weight !== y.weight) return false
    if (!sameTargetOptions(x.target, y.target)) return false
  }
  return true
}

/**
 * IR → Snapshot. Each route needs one service. Routes are visited in source order; a route's server list
 * (ids, addresses, integer weights, protocol) is its service's identity. The first route whose targets belong
 * to service `S` names its server list `S`; another route of `S` with the same list shares it; a route with a
 * different list (a canary weight, a subset of instances, targets from several services) gets its own service
 * `S~<src>` (S = its first target's service). Route options come from the route's first target.
 *
 * With `memo` (see SnapshotMemo), a route whose targets are the same objects as last time skips the weight
 * and server-list work and reuses last time's objects; the naming decision above is still taken every time.
 */
export function toSnapshot(ir: Ir, options: ToSnapshotOptions, memo?: SnapshotMemo): Snapshot {
  if (memo !== undefined && memo.options !== options) {
    const o = memo.options
    if (
      o === null ||
      o.source !== options.source ||
      o.defaults !== options.defaults ||
      o.suffix !== options.suffix
    )
      resetMemo(memo)
    memo.options = options
  }
  const prevMemo = memo?.routes
  const nextMemo = memo === undefined ? undefined : new Map<string, MemoRoute>()
  const services = new Map<string, ServiceSpec>()
  /** service name → the first of the distinct server lists built for it so far (chained; compared element-wise). */
  const variants = new Map<string, Variant>()
  const routes: HttpRouteSpec[] = []
  const tcpRoutes: TcpRouteSpec[] = []
  const keys = sortedKeys(ir, memo)
  const weights: number[] = []
  const picked: number[] = []
  const suffix = options.suffix ?? ''
  for (const key of keys) {
    const r = ir.get(key) as IrRoute
    if (r.targets.length === 0) continue
    // The IR's lists were filled by push; the memo keeps an exact-size copy.
    const targets = memo === undefined ? sortedById(r.targets) : exact(sortedById(r.targets), r.targets)
    const first = targets[0] as Target
    const opts = first.opts
    const hit = prevMemo?.get(key)
    const reuse = hit !== undefined && sameTargets(hit.targets, targets)
    if (opts.redirect !== null) {
      if (r.src.kind !== 'http') continue
      const route = reuse
        ? (hit.route as HttpRouteSpec)
        : httpRoute(r.src, opts, '', opts.redirect, `${options.source}:${key}`)
      routes.push(route)
      nextMemo?.set(key, { targets, name: '', servers: [], service: null, route })
      continue
    }
    let multi = false
    for (let i = 1; i < targets.length; i++)
      if ((targets[i] as Target).service !== first.service) multi = true
    let servers: readonly ServerSpec[]
    let n = 0
    if (reuse) {
      servers = hit.servers
    } else {
      // Weights, and the targets that become servers (redirects and repeated ids skipped), into reused buffers;
      // ServerSpec objects are allocated only when no earlier server list of the service matches.
      integerWeightsInto(targets, weights)
      let lastId: string | null = null
      for (let i = 0; i < targets.length; i++) {
        const t = targets[i] as Target
        // Sorted by id, so a repeated id directly follows the server it repeats.
        if (t.opts.redirect !== null || t.id === lastId) continue
        lastId = t.id
        picked[n++] = i
      }
      servers = []
    }
    const proto: 'http' | 'https' = opts.proto === 'https' ? 'https' : 'http'
    // fabio: tlsskipverify=true on an http target does nothing (and is no error).
    const skipVerify = opts.tlsSkipVerify && proto === 'https'
    const pxyproto = opts.pxyproto === true
    const head = variants.get(first.service)
    let name: string | undefined
    if (!multi) {
      for (let v = head; v !== undefined; v = v.next) {
        if (
          v.proto === proto &&
          v.tlsSkipVerify === skipVerify &&
          v.pxyproto === pxyproto &&
          (reuse
            ? sameServerSpecs(v.servers, servers)
            : sameServers(v.servers, targets, weights, picked, n, opts))
        ) {
          name = v.name
          servers = v.servers
          break
        }
      }
    }
    let created: ServiceSpec | null = null
    if (name === undefined) {
      name = head === undefined && !multi ? first.service + suffix : `${first.service}~${key}${suffix}`
      if (reuse && hit.service !== null && hit.name === name) {
        created = hit.service
        servers = created.servers
      } else {
        if (!reuse) {
          // Exact size (push would leave room for 17): these lists stay in the snapshot.
          const list = new Array<ServerSpec>(n)
          for (let j = 0; j < n; j++) {
            const i = picked[j] as number
            const t = targets[i] as Target
            const target = targetOptionsOf(t, opts)
            list[j] =
              target === undefined
                ? {
                    name: t.id,
                    host: t.host,
                    port: t.port,
                    weight: weights[i] ?? 0,
                    backup: false,
                    maxconn: 0,
                    state: 'up',
                  }
                : {
                    name: t.id,
                    host: t.host,
                    port: t.port,
                    weight: weights[i] ?? 0,
                    backup: false,
                    maxconn: 0,
                    state: 'up',
                    target,
                  }
          }
          servers = list
        }
        created = serviceSpec(name, options.defaults, proto, skipVerify, servers)
        if (pxyproto) created = { ...created, sendProxy: 'v1' }
      }
      const v: Variant = { name, proto, tlsSkipVerify: skipVerify, pxyproto, servers, next: undefined }
      if (head === undefined) variants.set(first.service, v)
      else {
        let last = head
        while (last.next !== undefined) last = last.next
        last.next = v
      }
      services.set(name, created)
    }
    let route: HttpRouteSpec | TcpRouteSpec
    if (reuse && hit.name === name) route = hit.route
    else if (r.src.kind === 'tcp')
      route = { port: r.src.port, serverName: '', service: name, source: `${options.source}:${key}` }
    else if (opts.proto === 'tcp') route = tcpRouteOf(r.src, name, `${options.source}:${key}`)
    else route = httpRoute(r.src, opts, name, null, `${options.source}:${key}`)
    if (r.src.kind === 'tcp' || opts.proto === 'tcp') tcpRoutes.push(route as TcpRouteSpec)
    else routes.push(route as HttpRouteSpec)
    nextMemo?.set(key, { targets, name, servers, service: created, route })
  }
  if (memo !== undefined && nextMemo !== undefined) memo.routes = nextMemo
  const sorted = [...services.values()]
  // Routes are visited in key order, so the services often come out already sorted by name.
  let inOrder = true
  for (let i = 1; i < sorted.length && inOrder; i++)
    if ((sorted[i - 1] as ServiceSpec).name > (sorted[i] as ServiceSpec).name) inOrder = false
  if (!inOrder) sorted.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { services: sorted, routes, tcpRoutes }
}

/** Whether `a` is the server list that `picked[0..n)` of `targets` with `weights` would build. */
function sameServers(
  a: readonly ServerSpec[],
  targets: readonly Target[],
  weights: readonly number[],
  picked: readonly number[],
  n: number,
  opts: RouteOpts,
): boolean {
  if (a.length !== n) return false
  for (let j = 0; j < n; j++) {
    const x = a[j] as ServerSpec
    const i = picked[j] as number
    const y = targets[i] as Target
    if (x.name !== y.id || x.host !== y.host || x.port !== y.port || x.weight !== (weights[i] ?? 0))
      return false
    if (!sameTargetOptions(x.target, targetOptionsOf(y, opts))) return false
  }
  return true
}

/**
 * A target's own rewrite when it differs from its route's (the route takes its first target's options), or
 * when its dst carries a query; undefined otherwise (the usual case: no object).
 */
export function targetOptionsOf(t: Target, route: RouteOpts): TargetOptions | undefined {
  const o = t.opts
  const query = t.query ?? ''
  if (
    query === '' &&
    o.strip === route.strip &&
    o.prepend === route.prepend &&
    o.hostHeader === route.hostHeader
  )
    return undefined
  return query === ''
    ? { strip: o.strip, prepend: o.prepend, hostHeader: o.hostHeader }
    : { strip: o.strip, prepend: o.prepend, hostHeader: o.hostHeader, query }
}

function sameTargetOptions(a: TargetOptions | undefined, b: TargetOptions | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  return (
    a.strip === b.strip &&
    a.prepend === b.prepend &&
    a.hostHeader === b.hostHeader &&
    (a.query ?? '') === (b.query ?? '')
  )
}

/** `sorted` when it is a new list, else an exact-size copy of `list`. */
function exact(sorted: readonly Target[], list: readonly Target[]): readonly Target[] {
  return sorted === list ? list.slice() : sorted
}

/** `targets` ordered by id; the same array when it already is (the common case: one target, or built in order). */
function sortedById(targets: readonly Target[]): readonly Target[] {
  for (let i = 1; i < targets.length; i++) {
    if ((targets[i - 1] as Target).id > (targets[i] as Target).id) {
      return targets.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    }
  }
  return targets
}

/** A generated service with the configured defaults. */
export function serviceSpec(
  name: string,
  d: ServiceDefaults,
  proto: 'http' | 'https',
  tlsSkipVerify: boolean,
  servers: readonly ServerSpec[],
): ServiceSpec {
  return {
    name,
    balance: d.balance,
    retries: d.retries,
    // Shared, not copied: a Snapshot is readonly, and 10,000 services would hold 10,000 copies.
    timeouts: d.timeouts,
    maxConnections: d.maxConnections,
    proto,
    tlsSkipVerify,
    servers,
  }
}

/**
 * A `proto=tcp` route on an HTTP-form source (tags.ts `tcpTarget`): `<ip>:<port>` is a tcp-dynamic route
 * (`bindHost`), `<host>/` an SNI route on every TCP listener (`anyPort`).
 */
function tcpRouteOf(src: Src, service: string, source: string): TcpRouteSpec {
  const t = tcpTarget(src)
  if (t === null) return { port: 0, serverName: '', service, source }
  if ('bindHost' in t) return { port: t.port, serverName: '', service, source, bindHost: t.bindHost }
  return { port: 0, serverName: t.serverName, service, source, anyPort: true }
}

/** A route spec built as one literal (object spread here cost more than the rest of the build). */
export function httpRoute(
  src: Extract<Src, { kind: 'http' }>,
  opts: RouteOpts,
  service: string,
  redirect: HttpRouteSpec['redirect'],
  source: string,
): HttpRouteSpec {
  const { host, path } = src
  const { strip, prepend, hostHeader, allow, deny } = opts
  const auth = opts.auth ?? ''
  const register = opts.register ?? ''
  if (auth !== '' || register !== '') {
    const r: HttpRouteSpec = {
      host,
      path,
      service,
      strip,
      prepend,
      hostHeader,
      redirect,
      source,
      ...(auth === '' ? {} : { auth }),
      ...(register === '' ? {} : { register }),
    }
    return allow.length > 0 ? { ...r, allow } : deny.length > 0 ? { ...r, deny } : r
  }
  if (allow.length > 0) return { host, path, service, strip, prepend, hostHeader, redirect, source, allow }
  if (deny.length > 0) return { host, path, service, strip, prepend, hostHeader, redirect, source, deny }
  return { host, path, service, strip, prepend, hostHeader, redirect, source }
}
