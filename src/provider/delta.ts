/**
 * The difference between two snapshots as what was removed and what was added, found by object identity (pure).
 *
 * Providers emit whole snapshots, but a provider that keeps unchanged services and routes as the same objects
 * (Consul's build cache, provider/consul/build.ts) and the merge that keeps their qualified copies
 * (provider/merge.ts `MergeMemo`) make consecutive snapshots share every object that did not change. So a change
 * of one service out of 10,000 is a few objects removed and a few added: the primary ships that to its worker
 * processes instead of the whole table (process/worker-pool.ts), and a Worker rebuilds only what those objects
 * touch (process/worker.ts, route/update.ts). Finding them costs one pass of Set lookups over each list
 * (pointer work, ≈ 1 ms at 30,000 objects), not a comparison of their fields.
 *
 * A delta reproduces the new lists exactly (`applyDelta(prev, diffSnapshot(prev, next)) ≡ next`, element for
 * element) when the objects both lists keep are in the same relative order; `diffSnapshot` checks that and
 * returns null otherwise (the caller sends the whole snapshot then).
 */
import type { HttpRouteSpec, ServiceSpec, Snapshot, TcpRouteSpec } from '../model/snapshot.js'

/** One list's change: the old positions removed (ascending), then the new items at their new positions. */
export interface ListDelta<T> {
  readonly removed: readonly number[]
  /** [position in the new list, item], ascending by position. */
  readonly added: readonly (readonly [number, T])[]
}

export interface SnapshotDelta {
  readonly services: ListDelta<ServiceSpec>
  readonly routes: ListDelta<HttpRouteSpec>
  readonly tcpRoutes: ListDelta<TcpRouteSpec>
  /** The no-route page when it changed (null = unchanged; '' = none now). */
  readonly noRoutePage: string | null
}

/** The removed and added objects of a delta applied to `prev` (what a Worker rebuilds). */
export interface Changed {
  /** Names of the services removed, added or replaced. */
  readonly services: ReadonlySet<string>
  readonly removedRoutes: readonly HttpRouteSpec[]
  readonly addedRoutes: readonly HttpRouteSpec[]
  /** Service specs removed or replaced, and their replacements or the new ones. */
  readonly removedServices: readonly ServiceSpec[]
  readonly addedServices: readonly ServiceSpec[]
  readonly tcpRoutes: boolean
}

/**
 * The two lists walked in step: equal objects pair up; at a mismatch, a short look-ahead on either side finds
 * where the lists meet again (the objects skipped on one side were removed or added), else both objects count
 * as changed. Whatever it pairs is in order on both sides, so the delta always rebuilds `next` exactly; an
 * object moved far away only shows up as removed and added again.
 */
export function diffList<T>(prev: readonly T[], next: readonly T[]): ListDelta<T> {
  const removed: number[] = []
  const added: [number, T][] = []
  if (prev === next) return { removed, added }
  let i = 0
  let j = 0
  while (i < prev.length && j < next.length) {
    if (prev[i] === next[j]) {
      i++
      j++
      continue
    }
    const inNext = find(next, prev[i] as T, j + 1)
    const inPrev = find(prev, next[j] as T, i + 1)
    if (inNext >= 0 && (inPrev < 0 || inNext - j <= inPrev - i)) {
      for (; j < inNext; j++) added.push([j, next[j] as T])
    } else if (inPrev >= 0) {
      for (; i < inPrev; i++) removed.push(i)
    } else {
      removed.push(i++)
      added.push([j, next[j] as T])
      j++
    }
  }
  for (; i < prev.length; i++) removed.push(i)
  for (; j < next.length; j++) added.push([j, next[j] as T])
  return { removed, added }
}

/** How far the walk looks ahead for an object at a mismatch. */
const LOOK_AHEAD = 64

function find<T>(list: readonly T[], item: T, from: number): number {
  const end = Math.min(list.length, from + LOOK_AHEAD)
  for (let k = from; k < end; k++) if (list[k] === item) return k
  return -1
}

/** `next` as a delta against `prev` (never null today; callers send the whole state when it is). */
export function diffSnapshot(prev: Snapshot, next: Snapshot): SnapshotDelta | null {
  const services = diffList(prev.services, next.services)
  const routes = diffList(prev.routes, next.routes)
  const tcpRoutes = diffList(prev.tcpRoutes, next.tcpRoutes)
  const page = next.noRoutePage ?? ''
  return { services, routes, tcpRoutes, noRoutePage: page === (prev.noRoutePage ?? '') ? null : page }
}

function applyList<T>(prev: readonly T[], d: ListDelta<T>): T[] {
  const out = new Array<T>(prev.length - d.removed.length + d.added.length)
  let r = 0
  let a = 0
  let i = 0
  for (let k = 0; k < out.length; k++) {
    const add = d.added[a]
    if (add !== undefined && add[0] === k) {
      out[k] = add[1]
      a++
      continue
    }
    while (r < d.removed.length && d.removed[r] === i) {
      r++
      i++
    }
    if (i >= prev.length) throw new RangeError(DOES_NOT_FIT)
    out[k] = prev[i++] as T
  }
  return out
}

/**
 * `applyDelta` into `prev` itself, for a holder of one snapshot that needs no copy of the one before (a cluster
 * worker, which takes what changed from the delta: `changedBy` before this). The services and routes lists are
 * changed in place, a few splices, where `applyDelta` makes new lists of every service and route: at 10,000
 * services 240 KB per delta that lived until the next one, which over a long burst grew a worker's young
 * generation. The TCP routes, which a TCP listener reads until the worker swaps its state, get a new list when
 * they change. Returns `prev`, or a new object over the same lists when the no-route page changes. Throws
 * RangeError, with `prev` untouched, when the delta does not fit it.
 */
export function applyDeltaInPlace(prev: Snapshot, delta: SnapshotDelta): Snapshot {
  checkFits(prev.services, delta.services)
  checkFits(prev.routes, delta.routes)
  checkFits(prev.tcpRoutes, delta.tcpRoutes)
  spliceIn(prev.services as ServiceSpec[], delta.services)
  spliceIn(prev.routes as HttpRouteSpec[], delta.routes)
  const tcp = delta.tcpRoutes
  const tcpRoutes =
    tcp.removed.length + tcp.added.length === 0 ? prev.tcpRoutes : applyList(prev.tcpRoutes, tcp)
  const page = delta.noRoutePage ?? prev.noRoutePage ?? ''
  if (tcpRoutes === prev.tcpRoutes && page === (prev.noRoutePage ?? '')) return prev
  const { services, routes } = prev
  return page === '' ? { services, routes, tcpRoutes } : { services, routes, tcpRoutes, noRoutePage: page }
}

/** Throws RangeError unless `d` fits `list`: removed positions ascending in it, added ones in the result. */
function checkFits<T>(list: readonly T[], d: ListDelta<T>): void {
  const length = list.length - d.removed.length + d.added.length
  let last = -1
  for (const r of d.removed) {
    if (!(Number.isInteger(r) && r > last && r < list.length)) throw new RangeError(DOES_NOT_FIT)
    last = r
  }
  last = -1
  for (const [at] of d.added) {
    if (!(Number.isInteger(at) && at > last && at < length)) throw new RangeError(DOES_NOT_FIT)
    last = at
  }
}

const DOES_NOT_FIT = 'delta does not fit the snapshot it is applied to'

/** `d` applied to `list` in place (`checkFits` first): the removed ones out from the back, the added ones in. */
function spliceIn<T>(list: T[], d: ListDelta<T>): void {
  for (let k = d.removed.length - 1; k >= 0; k--) list.splice(d.removed[k] as number, 1)
  for (let k = 0; k < d.added.length; k++) {
    const [at, item] = d.added[k] as readonly [number, T]
    list.splice(at, 0, item)
  }
}

/** `prev` with `delta` applied; throws RangeError when the delta was made against another snapshot. */
export function applyDelta(prev: Snapshot, delta: SnapshotDelta): Snapshot {
  const services = applyList(prev.services, delta.services)
  const routes = applyList(prev.routes, delta.routes)
  const tcpRoutes = applyList(prev.tcpRoutes, delta.tcpRoutes)
  const page = delta.noRoutePage ?? prev.noRoutePage ?? ''
  return page === '' ? { services, routes, tcpRoutes } : { services, routes, tcpRoutes, noRoutePage: page }
}

function removedOf<T>(prev: readonly T[], d: ListDelta<T>): T[] {
  const out = new Array<T>(d.removed.length)
  for (let i = 0; i < d.removed.length; i++) out[i] = prev[d.removed[i] as number] as T
  return out
}

function addedOf<T>(d: ListDelta<T>): T[] {
  const out = new Array<T>(d.added.length)
  for (let i = 0; i < d.added.length; i++) out[i] = (d.added[i] as readonly [number, T])[1]
  return out
}

/** What `delta` removes from and adds to `prev`. */
export function changedBy(prev: Snapshot, delta: SnapshotDelta): Changed {
  const removedServices = removedOf(prev.services, delta.services)
  const addedServices = addedOf(delta.services)
  const services = new Set<string>()
  for (const s of removedServices) services.add(s.name)
  for (const s of addedServices) services.add(s.name)
  return {
    services,
    removedRoutes: removedOf(prev.routes, delta.routes),
    addedRoutes: addedOf(delta.routes),
    removedServices,
    addedServices,
    tcpRoutes: delta.tcpRoutes.removed.length + delta.tcpRoutes.added.length > 0,
  }
}

/** Objects in a delta (its size on the wire, roughly). */
export function deltaSize(delta: SnapshotDelta): number {
  return (
    delta.services.removed.length +
    delta.services.added.length +
    delta.routes.removed.length +
    delta.routes.added.length +
    delta.tcpRoutes.removed.length +
    delta.tcpRoutes.added.length
  )
}
