/**
 * The balance algorithms: one small function each, in a registry keyed by the config name.
 * Semantics follow haproxy (docs/haproxy.md, balance algorithms). Pure; randomness is the `rand` parameter.
 *
 * Contract for every picker (test/balance/picker.cases.ts checks it):
 * - `servers` is `pool.normal` or `pool.backup`; per-list state lives on `pool.normalState`/`pool.backupState`
 *   or on the servers themselves;
 * - the result is `isAvailable`, or `undefined` when no server in `servers` is;
 * - `avoid` is returned only when it is the one available server;
 * - hot path: indexed loops, no allocation. `servers[i] as Backend` is safe because `i < length`.
 */
import type { BalanceName } from '../model/snapshot.js'
import { isAvailable, type Backend, type ListState, type PickerPool } from './backend.js'

export type Picker = (
  pool: PickerPool,
  servers: readonly Backend[],
  rand: () => number,
  avoid: Backend | null,
) => Backend | undefined

/**
 * Smooth weighted round-robin (nginx): every available server gains its effective weight, the largest
 * current weight wins and pays back the total. Weights 5,1,1 give a a b a c a a. Dynamic: weight changes
 * apply at the next pick. Like nginx's tried-set, `avoid` sits the round out and gains nothing.
 */
export function roundrobin(
  _pool: PickerPool,
  servers: readonly Backend[],
  _rand: () => number,
  avoid: Backend | null,
): Backend | undefined {
  let best: Backend | undefined
  let alone: Backend | undefined
  let total = 0
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i] as Backend
    if (!isAvailable(s)) continue
    if (s === avoid) {
      alone = s
      continue
    }
    s.currentWeight += s.effectiveWeight
    total += s.effectiveWeight
    if (best === undefined || s.currentWeight > best.currentWeight) best = s
  }
  if (best === undefined) return alone
  best.currentWeight -= total
  return best
}

/**
 * Static weighted round-robin: walks the sequence the pool precomputed from configured weights, skipping
 * unavailable entries. Runtime weight changes are ignored except 0 (the server is skipped); a server
 * configured with weight 0 is not in the sequence and stays out until the pool is rebuilt.
 */
export function staticRoundRobin(
  pool: PickerPool,
  servers: readonly Backend[],
  _rand: () => number,
  avoid: Backend | null,
): Backend | undefined {
  const state = listState(pool, servers)
  const seq = state.sequence
  const len = seq.length
  let pos = state.seqCursor
  let alone: Backend | undefined
  for (let scanned = 1; scanned <= len; scanned++) {
    const s = servers[seq[pos] as number] as Backend
    if (++pos === len) pos = 0
    if (isAvailable(s)) {
      if (s !== avoid) {
        state.seqCursor = pos
        return s
      }
      alone = s
    }
    // The sequence can be up to 256 entries per server: after one entry per server without a hit, make
    // sure a hit exists before walking the rest (all servers full at maxconn is the overload case).
    if (scanned === servers.length && !hasOther(servers, avoid)) break
  }
  return alone ?? loneAvoid(servers, avoid)
}

/**
 * Least connections: lowest inflight / effectiveWeight, compared by cross-multiplication. The scan starts
 * one past the previous pick, so servers with equal load take turns (haproxy: round-robin within equal
 * load). With no load at all every server ties and weights do not matter.
 */
export function leastconn(
  pool: PickerPool,
  servers: readonly Backend[],
  _rand: () => number,
  avoid: Backend | null,
): Backend | undefined {
  const n = servers.length
  if (n === 0) return undefined
  const state = listState(pool, servers)
  const start = state.lcCursor < n ? state.lcCursor : 0
  let best: Backend | undefined
  let bestAt = 0
  let alone: Backend | undefined
  for (let k = 0; k < n; k++) {
    const i = start + k < n ? start + k : start + k - n
    const s = servers[i] as Backend
    if (!isAvailable(s)) continue
    if (s === avoid) {
      alone = s
      continue
    }
    if (best === undefined || s.inflight * best.effectiveWeight < best.inflight * s.effectiveWeight) {
      best = s
      bestAt = i
    }
  }
  if (best === undefined) return alone
  state.lcCursor = bestAt + 1
  return best
}

/**
 * Power of two choices (haproxy `random`, draws = 2): two draws weighted by effectiveWeight, with
 * replacement, and the one with the lower inflight / weight wins (the first draw on a tie).
 */
export function random(
  _pool: PickerPool,
  servers: readonly Backend[],
  rand: () => number,
  avoid: Backend | null,
): Backend | undefined {
  let total = 0
  let alone: Backend | undefined
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i] as Backend
    if (!isAvailable(s)) continue
    if (s === avoid) alone = s
    else total += s.effectiveWeight
  }
  if (total === 0) return alone
  const r1 = rand() * total
  const r2 = rand() * total
  let a: Backend | undefined
  let b: Backend | undefined
  let last: Backend | undefined
  let acc = 0
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i] as Backend
    if (s === avoid || !isAvailable(s)) continue
    acc += s.effectiveWeight
    last = s
    if (a === undefined && r1 < acc) a = s
    if (b === undefined && r2 < acc) b = s
    if (a !== undefined && b !== undefined) break
  }
  // `last` is set because total > 0; the fallbacks only matter if rand() returned 1 or more.
  const x = a ?? (last as Backend)
  const y = b ?? (last as Backend)
  return y.inflight * x.effectiveWeight < x.inflight * y.effectiveWeight ? y : x
}

/**
 * haproxy `first`: the first available server in list order. Weight is ignored (0 still excludes);
 * with maxconn set, traffic fills one server and spills to the next.
 */
export function first(
  _pool: PickerPool,
  servers: readonly Backend[],
  _rand: () => number,
  avoid: Backend | null,
): Backend | undefined {
  let alone: Backend | undefined
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i] as Backend
    if (!isAvailable(s)) continue
    if (s !== avoid) return s
    alone = s
  }
  return alone
}

export const pickers = {
  roundrobin,
  'static-rr': staticRoundRobin,
  leastconn,
  random,
  first,
} as const satisfies Record<BalanceName, Picker>

export type PickerName = keyof typeof pickers

function listState(pool: PickerPool, servers: readonly Backend[]): ListState {
  if (servers === pool.normal) return pool.normalState
  if (servers === pool.backup) return pool.backupState
  throw new TypeError(`servers must be pool.normal or pool.backup of pool "${pool.service}"`)
}

/** Whether an available server other than `avoid` is in `servers`. */
function hasOther(servers: readonly Backend[], avoid: Backend | null): boolean {
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i] as Backend
    if (s !== avoid && isAvailable(s)) return true
  }
  return false
}

/** `avoid`, when it is in `servers` and available. */
function loneAvoid(servers: readonly Backend[], avoid: Backend | null): Backend | undefined {
  if (avoid === null || !isAvailable(avoid)) return undefined
  for (let i = 0; i < servers.length; i++) if (servers[i] === avoid) return avoid
  return undefined
}
