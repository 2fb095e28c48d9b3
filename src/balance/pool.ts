/**
 * Per-service pools and server selection (haproxy semantics: docs/haproxy.md). Pure: no I/O, logging or
 * metrics. The server objects are in backend.ts, the algorithms in pickers.ts.
 *
 * Rules that hold for every picker (see pickers.ts):
 * - a picker only returns a server for which `isAvailable` is true;
 * - `avoid` (the server that just failed, on a retry) is returned only when no other server is available;
 * - picking allocates nothing.
 */
import type { BalanceName } from '../model/snapshot.js'
import { isAvailable, ListState, type Backend, type PickerPool } from './backend.js'
import { pickers, type Picker } from './pickers.js'

/** Throws on a balance name with no picker (config validation rejects it first). */
export function checkBalance(balance: BalanceName): void {
  if (!Object.hasOwn(pickers, balance)) throw new TypeError(`unknown balance algorithm "${balance}"`)
}

const NONE: readonly Backend[] = Object.freeze([])
const NO_STATE = new ListState(NONE, 'roundrobin')

/** The balancer of one service: its servers split into normal and backup lists, and the picker for them. */
export class Pool implements PickerPool {
  readonly service: string
  readonly balance: BalanceName
  /** Non-backup servers, in configured order. */
  readonly normal: readonly Backend[]
  /** Backup servers, in configured order. */
  readonly backup: readonly Backend[]
  /** `pickers[balance]`, resolved once. */
  readonly picker: Picker
  readonly normalState: ListState
  readonly backupState: ListState

  constructor(service: string, balance: BalanceName, backends: readonly Backend[]) {
    checkBalance(balance)
    const normal: Backend[] = []
    const backup: Backend[] = []
    for (let i = 0; i < backends.length; i++) {
      const b = backends[i] as Backend
      if (b.backup) backup.push(b)
      else normal.push(b)
    }
    this.service = service
    this.balance = balance
    // Exact-size lists (an array grown by push keeps room for 17): the caller's own list when it has no backups.
    this.normal = normal.length === backends.length ? backends : normal.slice()
    this.backup = backup.length === 0 ? NONE : backup.slice()
    this.picker = pickers[balance]
    this.normalState = new ListState(this.normal, balance)
    // No backups (most services): no picker ever runs over the empty list, so its state is never written.
    this.backupState = backup.length === 0 ? NO_STATE : new ListState(this.backup, balance)
  }
}

/**
 * Picks a server for one request (or one retry: `avoid` is the server that just failed).
 *
 * The pool's algorithm runs over `normal`. Backups are considered only when no normal server is *usable*
 * (up, `ready` and weight > 0 — haproxy's rule: draining and weight-0 servers do not count), and then, like
 * haproxy without `option allbackups`, the first available backup in list order wins. A usable normal
 * server that is merely full at maxconn keeps the backups out (haproxy would queue on it): the result is
 * then `undefined` (no server).
 */
export function selectBackend(pool: Pool, rand: () => number, avoid: Backend | null): Backend | undefined {
  const picked = pool.picker(pool, pool.normal, rand, avoid)
  if (picked !== undefined || pool.backup.length === 0 || anyUsable(pool.normal)) return picked
  return pickers.first(pool, pool.backup, rand, avoid)
}

/** Some server could take a request right now (selectBackend would return one). */
export function canTake(pool: Pool): boolean {
  for (let i = 0; i < pool.normal.length; i++) if (isAvailable(pool.normal[i] as Backend)) return true
  if (anyUsable(pool.normal)) return false
  for (let i = 0; i < pool.backup.length; i++) if (isAvailable(pool.backup[i] as Backend)) return true
  return false
}

/** Some server is usable but full at maxconn: a request may wait for it (haproxy queues; else 503). */
export function canQueue(pool: Pool): boolean {
  return anyUsable(pool.normal) || anyUsable(pool.backup)
}

function anyUsable(servers: readonly Backend[]): boolean {
  for (let i = 0; i < servers.length; i++) {
    const s = servers[i] as Backend
    if (s.up && s.admin === 'ready' && s.effectiveWeight > 0) return true
  }
  return false
}
