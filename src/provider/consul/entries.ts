/**
 * What build reads of Consul's `/v1/health/service/<name>` answers (`CheckServiceNode`): the small entries the
 * provider keeps instead of the parsed answer, the check of an answer's shape, and each instance's status.
 *
 * - checks considered: the node's checks (`ServiceID` '') and the instance's own (`ServiceID` = `Service.ID`);
 * - an instance is dropped when its node is in maintenance (`_node_maintenance`) or it is
 *   (`_service_maintenance:<id>`);
 * - status = the worst of those checks (critical > warning > passing), Consul's own aggregation (what
 *   `?passing` filters on). fabio instead keeps an instance when any one service check passes, so a critical
 *   check can be outvoted; lb does not;
 * - an instance with no service-level check is `nochecks` (routed only with `route_without_checks`); node checks
 *   (serfHealth, maintenance) still apply to it.
 */

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
  /** The instance's status, computed from its checks by minimalEntries (which then keeps no checks). */
  readonly status?: InstanceStatus
}

/**
 * The part of a `/v1/health/service/<name>` answer that build reads, as new small objects: the provider keeps
 * this, not the parsed answer (real answers also carry Meta, TaggedAddresses, Proxy, Connect, check
 * definitions and outputs, which lb never reads and which at 10,000 services would stay in memory). Entries
 * without a usable `Service` are skipped. The checks are reduced to the instance's status (`status`, what
 * build reads of them), instances of one answer share equal tag lists and service names, and the usual
 * weights `{1, 1}` are one shared object: 30,000 instances are then about half the memory.
 */
export function minimalEntries(raw: readonly unknown[]): HealthEntry[] {
  const out: HealthEntry[] = []
  let lastTags: readonly string[] | null = null
  let lastName = ''
  for (const item of raw) {
    if (typeof item !== 'object' || item === null) continue
    const e = item as { Node?: Record<string, unknown>; Service?: Record<string, unknown>; Checks?: unknown }
    const n = e.Node ?? {}
    const sv = e.Service
    if (typeof sv !== 'object' || sv === null || typeof sv.ID !== 'string') continue
    const w = sv.Weights as { Passing?: unknown; Warning?: unknown } | null | undefined
    const checks: ConsulCheck[] = []
    if (Array.isArray(e.Checks)) {
      for (const c of e.Checks as Record<string, unknown>[]) {
        if (typeof c !== 'object' || c === null) continue
        checks.push({
          CheckID: str(c.CheckID),
          Status: str(c.Status),
          ServiceID: str(c.ServiceID),
        })
      }
    }
    let tags = tagList(sv.Tags)
    if (lastTags !== null && sameTagList(lastTags, tags)) tags = lastTags
    else lastTags = tags
    let name = str(sv.Service)
    if (name === lastName) name = lastName
    else lastName = name
    out.push({
      Node: nodeOf(str(n.Node), str(n.Address)),
      Service: {
        ID: sv.ID,
        Service: name,
        Tags: tags,
        Address: str(sv.Address),
        Port: typeof sv.Port === 'number' ? sv.Port : 0,
        Weights:
          w !== null &&
          typeof w === 'object' &&
          typeof w.Passing === 'number' &&
          typeof w.Warning === 'number'
            ? w.Passing === 1 && w.Warning === 1
              ? unitWeights
              : { Passing: w.Passing, Warning: w.Warning }
            : null,
      },
      Checks: noChecks,
      status: statusOf(sv.ID, checks),
    })
  }
  // Exact size: `out` grew by push (room for 17 at 1–3 instances), and the provider keeps it.
  return out.slice()
}

/** A parsed `Tags` list as build reads it: its strings; the parsed list itself (exact size) when all are. */
function tagList(v: unknown): readonly string[] {
  if (!Array.isArray(v)) return noTags
  const all = v as unknown[]
  for (let i = 0; i < all.length; i++) {
    if (typeof all[i] !== 'string') return all.filter((t): t is string => typeof t === 'string').slice()
  }
  return all as string[]
}

/**
 * One `Node` object per node name and address: every instance on a node repeats them (30,000 instances on 100
 * nodes), and each answer's JSON.parse makes new copies. Bounded: cleared when it holds 10,000 nodes.
 */
const nodes = new Map<string, HealthEntry['Node']>()

function nodeOf(name: string, address: string): HealthEntry['Node'] {
  const known = nodes.get(name)
  if (known !== undefined && known.Address === address) return known
  if (nodes.size >= 10_000) nodes.clear()
  const node = Object.freeze({ Node: name, Address: address })
  nodes.set(name, node)
  return node
}

export const noTags: readonly string[] = Object.freeze([])

const noChecks: readonly ConsulCheck[] = Object.freeze([])

const unitWeights = Object.freeze({ Passing: 1, Warning: 1 })

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
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

export type InstanceStatus = 'passing' | 'warning' | 'critical' | 'maintenance' | 'nochecks'

const rank: Readonly<Record<string, number>> = { passing: 0, warning: 1, critical: 2 }

const maintPrefix = '_service_maintenance:'

/** The routing status of one instance (see the module comment). */
export function instanceStatus(e: HealthEntry): InstanceStatus {
  return e.status ?? statusOf(e.Service.ID, e.Checks ?? noChecks)
}

/** The status of instance `id` with `checks` (its node's and its own). */
function statusOf(id: string, checks: readonly ConsulCheck[]): InstanceStatus {
  let worst = 0
  let serviceChecks = 0
  for (const c of checks) {
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

export function sameTagList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
