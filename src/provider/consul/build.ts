/**
 * Consul catalog + health JSON → Snapshot (STYLE §6). Pure and fixture-tested: client.ts fetches, this decides.
 *
 * Per instance of `/v1/health/service/<name>` (Consul's `CheckServiceNode`):
 * - checks considered: the node's checks (`ServiceID` '') and the instance's own (`ServiceID` = `Service.ID`);
 * - dropped when the node is in maintenance (`_node_maintenance`) or the instance is (`_service_maintenance:<id>`);
 * - status = the worst of those checks (critical > warning > passing), Consul's own aggregation (what
 *   `?passing` filters on). fabio instead keeps an instance when any one service check passes, so a critical
 *   check can be outvoted; we don't;
 * - an instance with no service-level check is routed only with `routeWithoutChecks` (fabio never routes it);
 *   node checks (serfHealth, maintenance) still apply to it;
 * - routed when its status is in `status` (`passing`, optionally `warning`);
 * - address = `Service.Address`, or `Node.Address` when empty (Consul's documented fallback);
 * - dynamic weight = `Service.Weights.Passing` (or `.Warning` for a warning instance), default 1;
 * - each `urlprefix-` tag is one route (tags.ts); every other tag becomes a target tag for `route del/weight`.
 * Then the route commands from the KV prefix are applied, key by key in key order, line by line (routecmd.ts),
 * and the IR becomes the Snapshot. Problems (a bad tag, a bad KV line) drop only what they concern and are
 * returned for the caller to log and count.
 */
import type { ServiceDefaults } from '../../config/schema.js'
import type { ConsulStatus } from '../../config/schema.js'
import type { Snapshot } from '../../snapshot.js'
import {
  addTargetAt,
  applyCommands,
  parseCommands,
  srcKey,
  toSnapshot,
  type Ir,
  type Target,
} from '../routecmd.js'
import { parseTag, type Src, type TagResult } from './tags.js'

export interface ConsulCheck {
  readonly Node?: string
  readonly CheckID: string
  readonly Name?: string
  readonly Status: string
  readonly ServiceID?: string
  readonly ServiceName?: string
}

export interface HealthEntry {
  readonly Node: { readonly Node: string; readonly Address: string; readonly Datacenter?: string }
  readonly Service: {
    readonly ID: string
    readonly Service: string
    readonly Tags: readonly string[] | null
    readonly Address: string
    readonly Port: number
    readonly Weights?: { readonly Passing: number; readonly Warning: number } | null
  }
  readonly Checks: readonly ConsulCheck[] | null
}

/**
 * Check a parsed `/v1/health/service/<name>` body against the fields build reads: a list of entries with
 * `Node.{Node,Address}`, `Service.{ID,Service,Address,Port}` (`Tags` a string list or null, `Weights` numbers or
 * null) and `Checks` null or a list of `{CheckID, Status}` strings. Returns the list, or why it is not one; a
 * caller keeps its last good state instead of building from a body Consul would never send.
 */
export function healthEntries(data: unknown): readonly HealthEntry[] | string {
  if (!Array.isArray(data)) return 'not a list'
  for (let i = 0; i < data.length; i++) {
    const why = entryProblem(data[i])
    if (why !== '') return `entry ${i}: ${why}`
  }
  return data as HealthEntry[]
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function entryProblem(e: unknown): string {
  if (!isObject(e)) return 'not an object'
  const n = e.Node
  if (!isObject(n) || typeof n.Node !== 'string' || typeof n.Address !== 'string')
    return 'Node.Node and Node.Address must be strings'
  const s = e.Service
  if (
    !isObject(s) ||
    typeof s.ID !== 'string' ||
    typeof s.Service !== 'string' ||
    typeof s.Address !== 'string' ||
    typeof s.Port !== 'number'
  )
    return 'Service.ID, .Service, .Address must be strings and .Port a number'
  if (s.Tags !== null && s.Tags !== undefined) {
    if (!Array.isArray(s.Tags) || s.Tags.some((t) => typeof t !== 'string'))
      return 'Service.Tags must be a list of strings'
  }
  const w = s.Weights
  if (
    w !== null &&
    w !== undefined &&
    (!isObject(w) || typeof w.Passing !== 'number' || typeof w.Warning !== 'number')
  )
    return 'Service.Weights must hold numbers'
  const checks = e.Checks
  if (checks !== null && checks !== undefined) {
    if (!Array.isArray(checks)) return 'Checks must be a list'
    for (const c of checks) {
      if (!isObject(c) || typeof c.CheckID !== 'string' || typeof c.Status !== 'string')
        return 'every check needs CheckID and Status strings'
      if (c.ServiceID !== undefined && c.ServiceID !== null && typeof c.ServiceID !== 'string')
        return 'check ServiceID must be a string'
    }
  }
  return ''
}

export interface KvPair {
  readonly key: string
  readonly value: string
}

export interface BuildOptions {
  readonly tagPrefix: string
  readonly status: readonly ConsulStatus[]
  readonly routeWithoutChecks: boolean
  /** Datacenter for ${DC}. */
  readonly dc: string
  readonly defaults: ServiceDefaults
}

export interface BuildInput {
  /** Service name → instances (the `/v1/health/service/<name>` body), for every routed service. */
  readonly health: ReadonlyMap<string, readonly HealthEntry[]>
  /** Route command keys under the KV prefix, sorted by key. */
  readonly kv: readonly KvPair[]
}

export interface BuildProblem {
  /** `service/instance tag "..."` or `kv <key>:<line>`. */
  readonly where: string
  readonly reason: string
  /** true: something was dropped; false: a warning (something ignored). */
  readonly dropped: boolean
}

export interface BuildResult {
  readonly snapshot: Snapshot
  readonly problems: readonly BuildProblem[]
}

export type InstanceStatus = 'passing' | 'warning' | 'critical' | 'maintenance' | 'nochecks'

const rank: Readonly<Record<string, number>> = { passing: 0, warning: 1, critical: 2 }

const maintPrefix = '_service_maintenance:'

/** The routing status of one instance (see the module comment). */
export function instanceStatus(e: HealthEntry): InstanceStatus {
  const id = e.Service.ID
  let worst = 0
  let serviceChecks = 0
  for (const c of e.Checks ?? []) {
    const sid = c.ServiceID ?? ''
    if (c.CheckID === '_node_maintenance') return 'maintenance'
    const cid = c.CheckID
    // `_service_maintenance:<id>`, compared without building the string for every check.
    if (cid.length === maintPrefix.length + id.length && cid.startsWith(maintPrefix) && cid.endsWith(id))
      return 'maintenance'
    if (sid !== '' && sid !== id) continue
    if (sid === id) serviceChecks++
    worst = Math.max(worst, rank[c.Status] ?? 2)
  }
  if (worst === 2) return 'critical'
  if (serviceChecks === 0) return 'nochecks'
  return worst === 1 ? 'warning' : 'passing'
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

/**
 * Reused between builds by the caller (the provider): per service, its instances' targets, keyed on the identity
 * of its entries array (the provider replaces the array only when that service's payload changed), so a rebuild
 * after one service changed re-parses only that service. Purely a cache: results are the same without it.
 */
export type BuildCache = Map<string, ServiceTargets>

interface ServiceTargets {
  readonly entries: readonly HealthEntry[]
  readonly items: readonly { readonly key: string; readonly src: Src; readonly target: Target }[]
  readonly problems: readonly BuildProblem[]
}

export function buildSnapshot(input: BuildInput, o: BuildOptions, cache?: BuildCache): BuildResult {
  const problems: BuildProblem[] = []
  const ir: Ir = new Map()
  const names = [...input.health.keys()].sort()
  for (const name of names) {
    const entries = input.health.get(name) ?? []
    let hit = cache?.get(name)
    if (hit === undefined || hit.entries !== entries) {
      hit = serviceTargets(name, entries, o)
      cache?.set(name, hit)
    }
    for (const p of hit.problems) problems.push(p)
    for (const { key, src, target } of hit.items) addTargetAt(ir, key, src, target)
  }
  if (cache !== undefined) for (const name of cache.keys()) if (!input.health.has(name)) cache.delete(name)
  for (const { key, value } of input.kv) {
    const parsed = parseCommands(value, o.dc)
    for (const p of parsed.problems)
      problems.push({ where: `kv ${key}:${p.line}`, reason: p.reason, dropped: true })
    for (const p of parsed.warnings)
      problems.push({ where: `kv ${key}:${p.line}`, reason: p.reason, dropped: false })
    for (const p of applyCommands(ir, parsed.commands, value)) {
      problems.push({ where: `kv ${key}:${p.line}`, reason: p.reason, dropped: true })
    }
  }
  return { snapshot: toSnapshot(ir, { defaults: o.defaults, source: 'consul' }), problems }
}

/** The routing targets of one service's instances; each distinct tag is parsed once. */
function serviceTargets(name: string, entries: readonly HealthEntry[], o: BuildOptions): ServiceTargets {
  const items: { key: string; src: Src; target: Target }[] = []
  const problems: BuildProblem[] = []
  /** tag → its parse, and its route key (computed once, so the IR's map hashes one string per route). */
  const tagCache = new Map<string, { readonly r: TagResult | null; readonly key: string }>()
  for (const e of entries) {
    const status = instanceStatus(e)
    const dynWeight = routedWeight(e, status, o)
    if (dynWeight < 0) continue
    const host = e.Service.Address !== '' ? e.Service.Address : e.Node.Address
    const tags = e.Service.Tags ?? []
    const plain: string[] = []
    for (const t of tags) if (!t.trim().startsWith(o.tagPrefix)) plain.push(t)
    const id = `${e.Node.Node}/${e.Service.ID}`
    const h = host.includes(':') ? `[${host}]` : host
    for (const tag of tags) {
      let c = tagCache.get(tag)
      if (c === undefined) {
        const parsed = parseTag(tag, o.tagPrefix, o.dc)
        c = { r: parsed, key: parsed !== null && parsed.ok ? srcKey(parsed.route.src) : '' }
        tagCache.set(tag, c)
      }
      const r = c.r
      if (r === null) continue
      if (!r.ok) {
        problems.push({ where: `${name} ${id} tag "${tag}"`, reason: r.reason, dropped: true })
        continue
      }
      for (const w of r.route.warnings)
        problems.push({ where: `${name} ${id} tag "${tag}"`, reason: w, dropped: false })
      const opts = r.route.opts
      const scheme = opts.redirect !== null ? 'redirect' : opts.proto
      items.push({
        key: c.key,
        src: r.route.src,
        target: {
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
        },
      })
    }
  }
  return { entries, items, problems }
}
