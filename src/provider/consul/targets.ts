/**
 * One Consul service's routed instances -> its routing targets (fabio's table rows), or straight to its part of
 * the snapshot (`plainService`, the usual service). Per instance: routed when its status is in `status`
 * (`passing`, optionally `warning`); address = `Service.Address`, or `Node.Address` when empty (Consul's
 * documented fallback); dynamic weight = `Service.Weights.Passing` (`.Warning` for a warning instance), default 1;
 * each `urlprefix-` tag is one route (fabio/tags.ts), every other tag a target tag for `route del/weight`. A bad
 * tag drops only its route and is returned as a problem.
 */
import type { ConsulStatus } from '../../config/types.js'
import type { HttpRouteSpec, ServerSpec, ServiceDefaults, Snapshot } from '../../model/snapshot.js'
import { addTargetAt, srcKey, type Ir, type Target } from '../../fabio/routecmd.js'
import { httpRoute, serviceSpec } from '../../fabio/snapshot.js'
import { scaleWeights } from '../../fabio/weights.js'
import { defaultOpts, parseTag, type Src, type TagResult } from '../../fabio/tags.js'
import { type HealthEntry, noTags, type InstanceStatus, instanceStatus, sameTagList } from './entries.js'

export interface BuildOptions {
  readonly tagPrefix: string
  readonly status: readonly ConsulStatus[]
  readonly routeWithoutChecks: boolean
  /** Datacenter for ${DC}. */
  readonly dc: string
  readonly defaults: ServiceDefaults
  /**
   * Appended to the name of every service the build makes (fabio/snapshot.ts `ToSnapshotOptions`): `@consul` when
   * the provider qualifies its own names. A BuildCache serves one suffix. Default none.
   */
  readonly suffix?: string
}

export interface BuildProblem {
  /** `service/instance tag "..."` or `kv <key>:<line>`. */
  readonly where: string
  readonly reason: string
  /** true: something was dropped; false: a warning (something ignored). */
  readonly dropped: boolean
  /** A service tag, or a route command line (KV). */
  readonly kind: 'tag' | 'command'
  /** The service whose tag it is ('' for commands). */
  readonly service: string
}

/** Whether an instance with this status is routed, and with which dynamic weight. -1 = not routed. */
function routedWeight(e: HealthEntry, status: InstanceStatus, o: BuildOptions): number {
  const w = e.Service.Weights
  switch (status) {
    case 'passing':
      return w?.Passing ?? 1
    case 'warning':
      return o.status.includes('warning') ? (w?.Warning ?? 1) : -1
    case 'nochecks':
      return o.routeWithoutChecks ? (w?.Passing ?? 1) : -1
    default:
      return -1
  }
}

/** One service's routing targets: parallel lists (item i = route key i, source i, target i), not an object each. */
interface Items {
  readonly itemKeys: readonly string[]
  readonly srcs: readonly Src[]
  readonly targets: readonly Target[]
}

/** What the cache keeps of one service. */
export interface ServiceTargets {
  readonly entries: readonly HealthEntry[]
  /**
   * Its targets; null once its `piece` is built and no KV commands are in use: the piece is all a build then
   * needs, and the targets (an object per instance, lists per service) would only take memory. An IR build
   * (KV commands, shared keys) parses them again from `entries` and keeps them while it is needed.
   */
  items: Items | null
  readonly problems: readonly BuildProblem[]
  /** This service's part of a snapshot when it owns its routes alone (see `ownedBuild`), built on first use. */
  piece: Piece | null
}

/** `st`'s items, parsed again from its entries when the cache dropped them. */
export function itemsOf(name: string, st: ServiceTargets, o: BuildOptions): Items {
  if (st.items === null) st.items = serviceTargets(name, st.entries, o).items
  return st.items as Items
}

/** toSnapshot over one service's targets (exact-size lists), and the defaults it was built with. */
interface Piece extends Snapshot {
  readonly defaults: ServiceDefaults
}

const noRoutes: readonly never[] = Object.freeze([])

export function pieceOf(snapshot: Snapshot, defaults: ServiceDefaults): Piece {
  const { routes, tcpRoutes, services } = snapshot
  return {
    defaults,
    routes: routes.length === 0 ? noRoutes : routes.slice(),
    tcpRoutes: tcpRoutes.length === 0 ? noRoutes : tcpRoutes.slice(),
    services,
  }
}

export const SOURCE = 'consul'

/** The service of `name` with `entries`: from the cache while its entries array is the same, else parsed. */
export function targetsOf(
  name: string,
  entries: readonly HealthEntry[],
  o: BuildOptions,
  services: Map<string, ServiceTargets> | undefined,
): ServiceTargets {
  let hit = services?.get(name)
  if (hit === undefined || hit.entries !== entries) {
    hit = plainService(name, entries, o) ?? serviceTargets(name, entries, o)
    services?.set(name, hit)
  }
  return hit
}

/**
 * The usual service, built straight into its snapshot part without targets, an IR or toSnapshot: every routed
 * instance carries the same tags, each routing tag is an HTTP route without options (`urlprefix-host/path`),
 * no tag is malformed, and no two instances share an id or an address:port. Then every route of the service
 * has the same server list (the routed instances by id, with their dynamic weights), so the part is one
 * service spec named after the service and one route per distinct key, which is what toSnapshot makes of
 * those targets. null for anything else (the general path decides). Its items are left null: an IR build
 * parses them from the entries when it needs them.
 */
function plainService(name: string, entries: readonly HealthEntry[], o: BuildOptions): ServiceTargets | null {
  let tags: readonly string[] | null = null
  // Scratch lists (plainService is not re-entered): a build calls it 10,000 times.
  const routed = scratchEntries
  const dynWeights = scratchWeights
  const keys = scratchKeys
  const srcs = scratchSrcs
  routed.length = 0
  dynWeights.length = 0
  keys.length = 0
  srcs.length = 0
  for (const e of entries) {
    const dynWeight = routedWeight(e, instanceStatus(e), o)
    if (dynWeight < 0) continue
    const t = e.Service.Tags ?? noTags
    if (tags === null) tags = t
    else if (!sameTagList(tags, t)) return null
    routed.push(e)
    dynWeights.push(dynWeight)
  }
  for (const tag of tags ?? noTags) {
    const r = parseTag(tag, o.tagPrefix, o.dc)
    if (r === null) continue
    if (!r.ok || r.route.warnings.length > 0) return null
    const { src, opts, weight } = r.route
    if (opts !== defaultOpts || weight !== 0 || src.kind !== 'http') return null
    const key = srcKey(src)
    if (keys.includes(key)) return null
    keys.push(key)
    srcs.push(src)
  }
  const n = routed.length
  const servers = new Array<ServerSpec>(n)
  const weights = dynWeights
  scaleWeights(weights, false)
  for (let i = 0; i < n; i++) {
    const e = routed[i] as HealthEntry
    const host = e.Service.Address !== '' ? e.Service.Address : e.Node.Address
    servers[i] = {
      name: flat(e.Node.Node, '/', e.Service.ID),
      host,
      port: e.Service.Port,
      weight: weights[i] as number,
      backup: false,
      maxconn: 0,
      state: 'up',
    }
  }
  // toSnapshot orders servers by id and keeps one of a repeated id; addTargetAt keeps one of a repeated
  // address:port. Both are left to the general path.
  servers.sort(byServerName)
  for (let i = 1; i < n; i++)
    if ((servers[i - 1] as ServerSpec).name === (servers[i] as ServerSpec).name) return null
  if (repeatsAddress(servers)) return null
  // Routes in key order (a service has one or two keys, rarely more: an insertion sort of both lists).
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i] as string
    const src = srcs[i] as HttpSrc
    let j = i - 1
    for (; j >= 0 && (keys[j] as string) > k; j--) {
      keys[j + 1] = keys[j] as string
      srcs[j + 1] = srcs[j] as HttpSrc
    }
    keys[j + 1] = k
    srcs[j + 1] = src
  }
  const routes = new Array<HttpRouteSpec>(keys.length)
  const named = name + (o.suffix ?? '')
  for (let i = 0; i < keys.length; i++)
    routes[i] = httpRoute(srcs[i] as HttpSrc, defaultOpts, named, null, flat(SOURCE, ':', keys[i] as string))
  const services = routes.length === 0 ? [] : [serviceSpec(named, o.defaults, 'http', false, servers)]
  return {
    entries,
    items: null,
    problems: noProblems,
    piece: {
      defaults: o.defaults,
      routes: routes.length === 0 ? noRoutes : routes,
      tcpRoutes: noRoutes,
      services,
    },
  }
}

type HttpSrc = Extract<Src, { kind: 'http' }>

const scratchEntries: HealthEntry[] = []

const scratchWeights: number[] = []

const scratchKeys: string[] = []

const scratchSrcs: HttpSrc[] = []

/** Whether two servers have the same host and port (pairwise for a few, a Set for many). */
function repeatsAddress(servers: readonly ServerSpec[]): boolean {
  const n = servers.length
  if (n > 16) {
    const seen = new Set<string>()
    for (const v of servers) seen.add(`${v.port} ${v.host}`)
    return seen.size !== n
  }
  for (let i = 0; i < n; i++) {
    const a = servers[i] as ServerSpec
    for (let j = i + 1; j < n; j++) {
      const b = servers[j] as ServerSpec
      if (a.port === b.port && a.host === b.host) return true
    }
  }
  return false
}

function byServerName(a: ServerSpec, b: ServerSpec): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

export function addTargets(ir: Ir, items: Items): void {
  const { itemKeys, srcs, targets } = items
  for (let i = 0; i < itemKeys.length; i++)
    addTargetAt(ir, itemKeys[i] as string, srcs[i] as Src, targets[i] as Target)
}

/** The tags of `tags` that are not routing tags. */
function plainTags(tags: readonly string[], prefix: string): readonly string[] {
  const list: string[] = []
  for (const t of tags) if (!t.trim().startsWith(prefix)) list.push(t)
  return list.slice()
}

/** A tag's parse and its route key, computed once per distinct tag of a service. */
interface ParsedTag {
  readonly tag: string
  readonly r: TagResult | null
  readonly key: string
}

const noProblems: readonly BuildProblem[] = Object.freeze([])

/**
 * The routing targets of one service's instances. Each distinct tag is parsed once, and instances with the
 * same tag list (the usual case) share one plain-tag list; both lookups are linear scans over the few distinct
 * tags of one service, cheaper than a Map per service at 10,000 services.
 */
function serviceTargets(name: string, entries: readonly HealthEntry[], o: BuildOptions): ServiceTargets {
  const itemKeys: string[] = []
  const srcs: Src[] = []
  const targets: Target[] = []
  let problems: BuildProblem[] | null = null
  const parsedTags: ParsedTag[] = []
  let lastTags: readonly string[] | null = null
  let lastPlain: readonly string[] = []
  for (const e of entries) {
    const status = instanceStatus(e)
    const dynWeight = routedWeight(e, status, o)
    if (dynWeight < 0) continue
    const host = e.Service.Address !== '' ? e.Service.Address : e.Node.Address
    const tags = e.Service.Tags ?? []
    if (lastTags === null || !sameTagList(lastTags, tags)) {
      lastPlain = plainTags(tags, o.tagPrefix)
      lastTags = tags
    }
    const plain = lastPlain
    const id = `${e.Node.Node}/${e.Service.ID}`
    const h = host.includes(':') ? `[${host}]` : host
    /**
     * The instance's last target: its routes usually differ only in the source (same options, same weight), and
     * then share one Target object (a Target says nothing about the route it is in).
     */
    let last: Target | null = null
    for (const tag of tags) {
      let c: ParsedTag | undefined
      for (let i = 0; i < parsedTags.length; i++) {
        if ((parsedTags[i] as ParsedTag).tag === tag) {
          c = parsedTags[i]
          break
        }
      }
      if (c === undefined) {
        const parsed = parseTag(tag, o.tagPrefix, o.dc)
        c = { tag, r: parsed, key: parsed !== null && parsed.ok ? srcKey(parsed.route.src) : '' }
        parsedTags.push(c)
      }
      const r = c.r
      if (r === null) continue
      if (!r.ok) {
        ;(problems ??= []).push({
          where: `${name} ${id} tag "${tag}"`,
          reason: r.reason,
          dropped: true,
          kind: 'tag',
          service: name,
        })
        continue
      }
      for (const w of r.route.warnings)
        (problems ??= []).push({
          where: `${name} ${id} tag "${tag}"`,
          reason: w,
          dropped: false,
          kind: 'tag',
          service: name,
        })
      const opts = r.route.opts
      itemKeys.push(c.key)
      srcs.push(r.route.src)
      if (last === null || last.opts !== opts || last.fixedWeight !== r.route.weight) {
        const scheme: string = opts.redirect !== null ? 'redirect' : opts.proto
        last = {
          service: name,
          id,
          dst:
            opts.redirect !== null
              ? opts.redirect.url
              : `${scheme}://${h}:${e.Service.Port}${scheme === 'tcp' ? '' : '/'}`,
          host,
          port: e.Service.Port,
          fixedWeight: r.route.weight,
          dynWeight,
          tags: plain,
          opts,
        }
      }
      targets.push(last)
    }
  }
  // Exact-size copies: a list filled by push keeps room for 17 entries, and these stay in the build cache.
  return {
    entries,
    items: { itemKeys: itemKeys.slice(), srcs: srcs.slice(), targets: targets.slice() },
    problems: problems ?? noProblems,
    piece: null,
  }
}

/**
 * `a + sep + b` as one flat string. A template literal of 13 chars or more makes a cons string, which V8
 * flattens (a second copy) the first time it is compared or hashed, and both stay alive; these names and route
 * sources are compared (sorts) and hashed (the worker's maps) right away.
 */
function flat(a: string, sep: string, b: string): string {
  flatParts[0] = a
  flatParts[1] = b
  return flatParts.join(sep)
}

const flatParts: string[] = ['', '']
