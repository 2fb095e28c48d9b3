/**
 * Messages between the cluster primary and its worker processes (node:cluster IPC). Plain data only.
 *
 * States are versioned. A whole state (`WholeState`: config, snapshot and every server's status) goes packed, as
 * `lb:apply-packed`: a worker gets one when it starts (after its `lb:hello`), when the config changes, and when it
 * asks with `lb:resync`.
 * Every other change of the snapshot is an `lb:delta` against the version before it (provider/delta.ts: the
 * services and routes removed and added, and the statuses of the changed services' servers): a worker applies
 * it in place when it holds exactly that `base` version, acks, and otherwise sends `lb:resync` and waits for
 * the whole state (a worker that missed a version never serves a guess). `lb:servers` carries only the servers
 * whose status changed since (the channel is ordered).
 */
import { deserialize, serialize } from 'node:v8'
import type { Config } from '../config/types.js'
import type { HttpRouteSpec, ServerSpec, ServiceSpec, Snapshot, TcpRouteSpec } from '../model/snapshot.js'
import type { ServersState } from '../health/service.js'
import type { SnapshotDelta } from '../provider/delta.js'

/**
 * Passive observations since the last report, per server id (the health service's, health/service.ts):
 * `runs[0]` failures before any success, each later entry a run of failures that followed one or more successes
 * (so order-sensitive `error_limit` counting comes out the same in the primary as if it had seen every request).
 */
export type ObserveReport = readonly (readonly [id: number, runs: readonly number[]])[]

/** The whole serving state: config (listeners, http options) and the merged snapshot, with its version. */
export interface WholeState {
  readonly type: 'lb:apply'
  readonly version: number
  readonly config: Config
  readonly snapshot: Snapshot
  /** The servers' state for this snapshot, applied before the worker acks (and, the first time, listens). */
  readonly servers: ServersState
  /**
   * The session ticket secret (hex) all workers share (src/proxy/ticket-keys.ts); a worker takes it when the
   * first state makes its Worker. Absent: that worker makes its own (tests of the state protocol).
   */
  readonly tickets?: string
}

/** Primary → worker. */
export type ToWorker =
  /**
   * The snapshot of `base` changed into `version` by `delta`, with the statuses of the changed services' servers.
   * Applied only on top of `base`; else the worker asks for the whole state (`lb:resync`).
   */
  | {
      readonly type: 'lb:delta'
      readonly version: number
      readonly base: number
      readonly delta: SnapshotDelta
      readonly servers: ServersState
    }
  /**
   * A whole state, serialized once for every worker it goes to (`packWhole`): the primary's structured clone of a
   * 10,000-service state took 75 ms per worker, and the next worker's copy waited for it. Sent packed to one
   * worker too, so that the worker can free the bytes before it applies them (worker-process.ts
   * `StateReceiver.packed`).
   */
  | { readonly type: 'lb:apply-packed'; readonly bytes: Uint8Array }
  /** Some servers' status changed (health verdict, runtime control): apply them, then ack the `seq`. */
  | { readonly type: 'lb:servers'; readonly state: ServersState }
  /** Drain and exit 0: stop listening, let in-flight requests finish up to `timeout` ms, close tunnels. */
  | { readonly type: 'lb:stop'; readonly timeout: number }
  /**
   * Answer with this worker's metrics (`Metrics.reply()`: its traffic families as sample arrays); with `sample`,
   * only what the dashboard samples (`Metrics.sampleReply()`).
   */
  | { readonly type: 'lb:metrics'; readonly id: number; readonly sample?: boolean }

/** Worker → primary. */
export type FromWorker =
  /** The worker's message handler is installed: send it the current state. */
  | { readonly type: 'lb:hello' }
  /** `version` is applied (routes swapped, listeners synced); `error` when applying failed. */
  | { readonly type: 'lb:ack'; readonly version: number; readonly error: string | null }
  | { readonly type: 'lb:metrics'; readonly id: number; readonly metrics: unknown }
  /** A delta did not fit the state this worker holds (`version`, 0 = none): send the whole state. */
  | { readonly type: 'lb:resync'; readonly version: number }
  /** `lb:servers` state `seq` is applied. */
  | { readonly type: 'lb:servers-ack'; readonly seq: number }
  /** Passive health seen by this worker since its last report (sent at most every `observeFlush` ms). */
  | { readonly type: 'lb:observe'; readonly reports: ObserveReport }

const toWorkerTypes: ReadonlySet<string> = new Set([
  'lb:apply-packed',
  'lb:delta',
  'lb:servers',
  'lb:stop',
  'lb:metrics',
])
const fromWorkerTypes: ReadonlySet<string> = new Set([
  'lb:hello',
  'lb:ack',
  'lb:resync',
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

/** `msg` serialized once (V8's format, as the channel's own), for an `lb:apply-packed` to each worker. */
export function packWhole(msg: WholeState): Uint8Array {
  return serialize(msg)
}

/**
 * The whole state inside an `lb:apply-packed`; throws when the bytes hold anything else. Its snapshot holds one
 * copy of each equal string (`shareStrings`).
 */
export function unpackWhole(bytes: Uint8Array): WholeState {
  const msg: unknown = deserialize(bytes)
  if (typeOf(msg) !== 'lb:apply') throw new Error('lb:apply-packed does not hold a whole state')
  const whole = msg as WholeState
  shareStrings(whole.snapshot)
  return whole
}

/** Mutable views of the snapshot's objects, for `shareStrings` alone (the deserializer's are fresh and unshared). */
type Writable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * The snapshot's repeated strings pointed at one copy (in place). V8's deserializer keeps objects shared but makes
 * a new string for every occurrence of one: at 10,000 Consul services a worker's heap held 30,000 copies of a
 * server's state `up`, 10,000 each of a service's `http` and `roundrobin`, and a second copy of every service's
 * name per route, 1.8 MB in all, and nothing else of the data repeated (a heap snapshot; bench/RESULTS.md). So
 * only those fields: walking every string of the state took 90 ms at 10,000 services, these take a few.
 */
function shareStrings(snapshot: Snapshot): void {
  const names = new Map<string, string>()
  const words = new Map<string, string>()
  for (const svc of snapshot.services as Writable<ServiceSpec>[]) {
    names.set(svc.name, svc.name)
    svc.balance = one(words, svc.balance)
    svc.proto = one(words, svc.proto)
    for (const server of svc.servers as Writable<ServerSpec>[]) server.state = one(words, server.state)
  }
  for (const r of snapshot.routes as Writable<HttpRouteSpec>[]) r.service = names.get(r.service) ?? r.service
  for (const r of snapshot.tcpRoutes as Writable<TcpRouteSpec>[])
    r.service = names.get(r.service) ?? r.service
}

/** The first string equal to `s` that `seen` was given. */
function one<T extends string>(seen: Map<string, string>, s: T): T {
  const first = seen.get(s)
  if (first !== undefined) return first as T
  seen.set(s, s)
  return s
}

/** Delay before replacing a worker that died, given how many died recently: 0, then 100 ms doubling to `max`. */
export function respawnDelay(recentCrashes: number, max = 10_000): number {
  if (recentCrashes <= 1) return 0
  return Math.min(max, 100 * 2 ** (recentCrashes - 2))
}
