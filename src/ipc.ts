/**
 * Messages between the cluster primary and its worker processes (node:cluster IPC). Plain data only: every
 * message is a complete state, never a delta, so a worker that missed one catches up with the next (STYLE §5).
 */
import type { Config } from './config/schema.js'
import type { Snapshot } from './snapshot.js'

/** Primary → worker. */
export type ToWorker =
  /** The whole serving state: config (listeners, http options) and the merged snapshot, with its version. */
  | {
      readonly type: 'lb:apply'
      readonly version: number
      readonly config: Config
      readonly snapshot: Snapshot
    }
  /** Drain and exit 0: stop listening, let in-flight requests finish up to `timeout` ms, close tunnels. */
  | { readonly type: 'lb:stop'; readonly timeout: number }
  /** Answer with this worker's metrics (prom-client `getMetricsAsJSON`). */
  | { readonly type: 'lb:metrics'; readonly id: number }

/** Worker → primary. */
export type FromWorker =
  /** The worker's message handler is installed: send it the current state. */
  | { readonly type: 'lb:hello' }
  /** `version` is applied (routes swapped, listeners synced); `error` when applying failed. */
  | { readonly type: 'lb:ack'; readonly version: number; readonly error: string | null }
  | { readonly type: 'lb:metrics'; readonly id: number; readonly metrics: unknown }

const toWorkerTypes: ReadonlySet<string> = new Set(['lb:apply', 'lb:stop', 'lb:metrics'])
const fromWorkerTypes: ReadonlySet<string> = new Set(['lb:hello', 'lb:ack', 'lb:metrics'])

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
