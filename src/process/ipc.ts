/**
 * Messages between the cluster primary and its worker processes (node:cluster IPC). Plain data only: every
 * message is a complete state, never a delta, so a worker that missed one catches up with the next (STYLE §5).
 */
import type { Config } from '../config/types.js'
import type { Snapshot } from '../model/snapshot.js'
import type { AdminState } from '../balance/backend.js'
import type { ProbeResult } from '../health/probes.js'

/**
 * One server's state as the primary sees it: health verdict (from the checks that run only in the primary),
 * the counter and last check for display, when it came UP (so slowstart ramps the same in every worker) and
 * the runtime overrides. Keyed by `service/server` label.
 */
export interface ServerState {
  readonly label: string
  /** Runtime `set server … state` override; null = as configured. */
  readonly admin: AdminState | null
  /** Runtime `set weight` override; null = as configured. */
  readonly weight: number | null
  /** null when the server is not checked. */
  readonly health: {
    readonly up: boolean
    readonly health: number
    readonly upSince: number
    readonly last: ProbeResult | null
    readonly lastPassive: string
    readonly checks: number
    readonly failedChecks: number
    readonly downTransitions: number
  } | null
}

/** Every server's state, versioned (`seq` grows with every change; a worker ignores an older one). */
export interface ServersState {
  readonly seq: number
  readonly servers: readonly ServerState[]
}

/**
 * Passive observations since the last report, per server label: `runs[0]` failures before any success, each
 * later entry a run of failures that followed one or more successes (so order-sensitive `error_limit` counting
 * comes out the same in the primary as if it had seen every request).
 */
export type ObserveReport = readonly (readonly [label: string, runs: readonly number[]])[]

/** Primary → worker. */
export type ToWorker =
  /** The whole serving state: config (listeners, http options) and the merged snapshot, with its version. */
  | {
      readonly type: 'lb:apply'
      readonly version: number
      readonly config: Config
      readonly snapshot: Snapshot
      /** The servers' state for this snapshot, applied before the worker acks (and, the first time, listens). */
      readonly servers: ServersState
    }
  /** The servers' state changed (health verdict, runtime control): apply it, then ack its `seq`. */
  | { readonly type: 'lb:servers'; readonly state: ServersState }
  /** Drain and exit 0: stop listening, let in-flight requests finish up to `timeout` ms, close tunnels. */
  | { readonly type: 'lb:stop'; readonly timeout: number }
  /** Answer with this worker's metrics (`Metrics.reply()`: its traffic families as sample arrays). */
  | { readonly type: 'lb:metrics'; readonly id: number }

/** Worker → primary. */
export type FromWorker =
  /** The worker's message handler is installed: send it the current state. */
  | { readonly type: 'lb:hello' }
  /** `version` is applied (routes swapped, listeners synced); `error` when applying failed. */
  | { readonly type: 'lb:ack'; readonly version: number; readonly error: string | null }
  | { readonly type: 'lb:metrics'; readonly id: number; readonly metrics: unknown }
  /** `lb:servers` state `seq` is applied. */
  | { readonly type: 'lb:servers-ack'; readonly seq: number }
  /** Passive health seen by this worker since its last report (sent at most every `observeFlush` ms). */
  | { readonly type: 'lb:observe'; readonly reports: ObserveReport }

const toWorkerTypes: ReadonlySet<string> = new Set(['lb:apply', 'lb:servers', 'lb:stop', 'lb:metrics'])
const fromWorkerTypes: ReadonlySet<string> = new Set([
  'lb:hello',
  'lb:ack',
  'lb:metrics',
  'lb:servers-ack',
  'lb:observe',
])

/** ms a worker collects passive observations before reporting them to the primary. */
export const observeFlush = 100

function typeOf(msg: unknown): string | null {
  if (typeof msg !== 'object' || msg === null) return null
  const t = (msg as { type?: unknown }).type
  return typeof t === 'string' ? t : null
}

/** Narrow an IPC message (anything may arrive on the channel, e.g. cluster's or prom-client's own). */
export function isToWorker(msg: unknown): msg is ToWorker {
  const t = typeOf(msg)
  return t !== null && toWorkerTypes.has(t)
}

export function isFromWorker(msg: unknown): msg is FromWorker {
  const t = typeOf(msg)
  return t !== null && fromWorkerTypes.has(t)
}

/** Delay before replacing a worker that died, given how many died recently: 0, then 100 ms doubling to `max`. */
export function respawnDelay(recentCrashes: number, max = 10_000): number {
  if (recentCrashes <= 1) return 0
  return Math.min(max, 100 * 2 ** (recentCrashes - 2))
}

/**
 * Add one passive observation to a run list (see ObserveReport); start with `[0]`. Allocates only when a new
 * failure run starts after a success.
 */
export function recordObservation(runs: number[], ok: boolean): void {
  const last = runs.length - 1
  if (!ok) runs[last] = (runs[last] ?? 0) + 1
  else if (last === 0 || runs[last] !== 0) runs.push(0)
}

/** Feed a run list to `observe` in the order the worker saw it (failures before the first success first). */
export function replayRuns(runs: readonly number[], observe: (ok: boolean) => void): void {
  for (let i = 0; i < runs.length; i++) {
    if (i > 0) observe(true)
    for (let n = runs[i] ?? 0; n > 0; n--) observe(false)
  }
}
