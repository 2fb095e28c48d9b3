/**
 * The forked worker processes of cluster mode: start them, feed them versioned states over IPC (ipc.ts: a whole
 * state when a worker starts, asks or the config changes, else a delta against the version before), replace
 * one that crashes (with backoff when it keeps crashing), restart them one at a time, drain them. Wiring lives in
 * primary.ts; this only speaks cluster IPC.
 */
import { newTicketSecret } from '../proxy/ticket-keys.js'
import cluster, { type Worker as ClusterWorker } from 'node:cluster'
import type { Config } from '../config/types.js'
import type { Logger } from '../log/log.js'
import type { Snapshot } from '../model/snapshot.js'
import { isMetricsReply, type MetricsReply } from '../metrics/cluster.js'
import {
  isFromWorker,
  packWhole,
  respawnDelay,
  type FromWorker,
  type ObserveReport,
  type ToWorker,
  type WholeState,
} from './ipc.js'
import type { ServersState } from '../health/service.js'
import { workerTunables } from './malloc-tunable.js'
import { workerExecArgv } from './young-generation.js'
import { changedBy, deltaSize, diffSnapshot, type SnapshotDelta } from '../provider/delta.js'

/** What `publish` sent, and its outcome. */
export interface Publication {
  /** Some worker was sent the whole state (not a delta). */
  readonly whole: boolean
  readonly problems: Promise<string[]>
}

interface Slot {
  readonly w: ClusterWorker
  /** When it applied its first state (so listens); 0 before. */
  readyAt: number
  hello: boolean
  /** The version last sent to it (whole or as a delta on top of the one before); 0 = none yet. */
  sent: number
  acked: number
  /** The apply error of each version acked with one (cleared when a later version applies). */
  lastError: { version: number; error: string } | null
  /** Highest `lb:servers` seq acked. */
  serversAcked: number
  /** Asked to exit (stop or rolling restart): not a crash. */
  leaving: boolean
  /** The error of the first apply (e.g. a port in use), '' when it worked. */
  firstError: string
  /** Messages sent to it not yet written to its channel. */
  writing: number
}

/**
 * A worker that served this long (from its first applied state) before dying was not crash-looping: it is
 * replaced at once and the crash counter starts over. Deaths before that (at boot, or just after it) back off
 * (respawnDelay in src/process/ipc.ts).
 */
const stableAfter = 1_000

/**
 * The forked worker processes: start, feed versioned states, replace on crash with backoff, rolling restart,
 * drain. Wiring lives in Primary; this class only speaks cluster IPC.
 */
export class WorkerPool {
  readonly log: Logger
  readonly size: number
  readonly #slots: Map<number, Slot>
  readonly #waiters: Set<() => void>
  #state: { version: number; config: Config; snapshot: Snapshot }
  /** The session ticket secret (hex) every worker gets with its whole states (src/proxy/ticket-keys.ts). */
  readonly #tickets: string
  /** Deltas sent and whole states sent, since the start (for tests and the log). */
  readonly sent: { deltas: number; full: number }
  /**
   * The servers' statuses: every one (`only` null, sent with each whole state), or those of the services named
   * in `only` (sent with a delta).
   */
  readonly #servers: (only: ReadonlySet<string> | null) => ServersState
  /** Passive health reported by a worker (`lb:observe`). */
  readonly #onObserve: (reports: ObserveReport) => void
  #stopping: boolean
  #recentCrashes: number
  crashes: number
  /** Metric scrapes in progress: id → replies so far. */
  readonly #scrapes: Map<number, MetricsReply[]>
  #scrapeId: number

  constructor(
    log: Logger,
    size: number,
    config: Config,
    snapshot: Snapshot,
    servers: (only: ReadonlySet<string> | null) => ServersState,
    onObserve: (reports: ObserveReport) => void = () => {},
    tickets: Buffer = newTicketSecret(),
  ) {
    this.#tickets = tickets.toString('hex')
    this.log = log
    this.size = size
    this.#slots = new Map()
    this.#waiters = new Set()
    this.#state = { version: 1, config, snapshot }
    this.sent = { deltas: 0, full: 0 }
    this.#servers = servers
    this.#onObserve = onObserve
    this.#stopping = false
    this.#recentCrashes = 0
    this.crashes = 0
    this.#scrapes = new Map()
    this.#scrapeId = 0
    // V8 serialization: plain data either way, but faster for large snapshots (V8's structured clone: slower for tiny
    // messages, several times faster for large ones).
    // Workers serve the traffic: they get the young-generation cap (young-generation.ts) like the unit's lb.
    cluster.setupPrimary({ serialization: 'advanced', execArgv: workerExecArgv(process.execArgv) })
    cluster.on('exit', (w, code, signal) => this.#onExit(w, code, signal))
  }

  get version(): number {
    return this.#state.version
  }

  /** Live worker pids (for tests and the admin view). */
  pids(): number[] {
    const out: number[] = []
    for (const s of this.#slots.values()) if (s.w.process.pid !== undefined) out.push(s.w.process.pid)
    return out
  }

  /** Fork `size` workers and wait until every one has applied the first state (is listening). */
  async start(): Promise<void> {
    const slots: Slot[] = []
    for (let i = 0; i < this.size; i++) slots.push(this.#fork())
    const ready = await Promise.all(slots.map((s) => this.#ready(s)))
    const failed = slots.find((s, i) => !ready[i] || s.firstError !== '')
    if (failed !== undefined) {
      await this.stop(0)
      throw new Error(`worker ${failed.w.id} did not start: ${failed.firstError || 'it exited'}`)
    }
    this.log.info({ workers: this.size, pids: this.pids() }, 'workers ready')
  }

  #fork(): Slot {
    const w = cluster.fork({ GLIBC_TUNABLES: workerTunables(process.env.GLIBC_TUNABLES) })
    const slot: Slot = {
      w,
      readyAt: 0,
      hello: false,
      sent: 0,
      acked: 0,
      lastError: null,
      serversAcked: 0,
      leaving: false,
      firstError: '',
      writing: 0,
    }
    this.#slots.set(w.id, slot)
    w.on('message', (msg: unknown) => {
      if (isFromWorker(msg)) this.#onMessage(slot, msg)
    })
    // An IPC write to a dying worker: its exit is handled in #onExit.
    w.on('error', (err) => this.log.warn({ err, worker: w.id }, 'worker channel error'))
    return slot
  }

  #send(slot: Slot, msg: ToWorker): void {
    if (!slot.w.isConnected()) return
    slot.writing++
    slot.w.send(msg, () => {
      slot.writing--
      this.#notify()
    })
  }

  /**
   * Resolves once every message sent so far is written to its worker's channel (a whole state at 10,000 services
   * is megabytes, written as the worker reads it), or the worker is gone; false after `timeout` ms.
   */
  flushed(timeout = 5_000): Promise<boolean> {
    return this.#until(() => {
      for (const s of this.#slots.values()) if (s.writing > 0 && s.w.isConnected()) return false
      return true
    }, timeout)
  }

  /** The whole current state as the message to a worker. */
  #whole(): WholeState {
    return { type: 'lb:apply', ...this.#state, servers: this.#servers(null), tickets: this.#tickets }
  }

  /** The whole current state to one worker or to several, packed (serialized once for all of them). */
  #sendFull(slots: readonly Slot[]): void {
    if (slots.length === 0) return
    const msg: ToWorker = { type: 'lb:apply-packed', bytes: packWhole(this.#whole()) }
    for (const slot of slots) {
      slot.sent = this.#state.version
      this.sent.full++
      this.#send(slot, msg)
    }
  }

  #onMessage(slot: Slot, msg: FromWorker): void {
    switch (msg.type) {
      case 'lb:hello':
        slot.hello = true
        this.#sendFull([slot])
        return
      case 'lb:resync':
        this.log.warn(
          { worker: slot.w.id, had: msg.version, version: this.#state.version },
          'worker asked for the whole state',
        )
        this.#sendFull([slot])
        return
      case 'lb:ack':
        if (msg.error !== null)
          this.log.error({ worker: slot.w.id, version: msg.version, error: msg.error }, 'worker apply failed')
        if (slot.acked === 0 && msg.error !== null) slot.firstError = msg.error
        if (slot.acked === 0) slot.readyAt = Date.now()
        if (msg.version > slot.acked) {
          slot.acked = msg.version
          slot.lastError = msg.error === null ? null : { version: msg.version, error: msg.error }
        }
        this.#notify()
        return
      case 'lb:servers-ack':
        if (msg.seq > slot.serversAcked) slot.serversAcked = msg.seq
        this.#notify()
        return
      case 'lb:observe':
        if (Array.isArray(msg.reports)) this.#onObserve(msg.reports)
        return
      case 'lb:metrics': {
        const replies = this.#scrapes.get(msg.id)
        if (replies !== undefined && isMetricsReply(msg.metrics)) {
          replies.push(msg.metrics)
          this.#notify()
        }
        return
      }
    }
  }

  #notify(): void {
    for (const f of [...this.#waiters]) f()
  }

  /** Resolve when `done()` holds, re-checked on every ack and exit; false after `timeout` ms. */
  #until(done: () => boolean, timeout: number): Promise<boolean> {
    if (done()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return
        finish(true)
      }
      const finish = (ok: boolean): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve(ok)
      }
      const timer = setTimeout(() => finish(false), timeout)
      this.#waiters.add(check)
    })
  }

  /** The slot applied a state (so it listens), or it is gone. */
  #ready(slot: Slot): Promise<boolean> {
    return this.#until(() => slot.acked > 0 || !this.#slots.has(slot.w.id), 60_000).then(
      (ok) => ok && this.#slots.has(slot.w.id),
    )
  }

  /**
   * Send `snapshot` as a new version to every worker (at once, before this returns): as a delta against the
   * version before (with the statuses of the changed services' servers) to each worker that was sent that
   * version, else, or when the config changed or most of the snapshot did, as the whole state. `whole`: some
   * worker was sent the whole state. `problems` resolves once all live workers acked it: a worker that did not
   * ack within `timeout` ms, or that failed to apply it ([] = ok).
   */
  publish(config: Config, snapshot: Snapshot, timeout = 30_000): Publication {
    const prev = this.#state
    const version = prev.version + 1
    this.#state = { version, config, snapshot }
    const size = snapshot.services.length + snapshot.routes.length + snapshot.tcpRoutes.length
    // A delta holds at least the difference in length of each list: not worth diffing when that alone is too much
    // (the initial sync, from no service to all of them).
    const p = prev.snapshot
    const least =
      Math.abs(snapshot.services.length - p.services.length) +
      Math.abs(snapshot.routes.length - p.routes.length) +
      Math.abs(snapshot.tcpRoutes.length - p.tcpRoutes.length)
    let delta: SnapshotDelta | null =
      config === prev.config && least <= size / 4 ? diffSnapshot(p, snapshot) : null
    if (delta !== null && deltaSize(delta) > size / 4) delta = null
    let servers: ServersState | null = null
    const whole: Slot[] = []
    for (const slot of this.#slots.values()) {
      if (!slot.hello) continue
      if (delta === null || slot.sent !== prev.version) {
        whole.push(slot)
        continue
      }
      servers ??= this.#servers(changedBy(prev.snapshot, delta).services)
      slot.sent = version
      this.sent.deltas++
      this.#send(slot, { type: 'lb:delta', version, base: prev.version, delta, servers })
    }
    this.#sendFull(whole)
    return { whole: whole.length > 0, problems: this.#acked(version, timeout) }
  }

  /** The problems with `version` once every live worker acked it, or after `timeout` ms. */
  async #acked(version: number, timeout: number): Promise<string[]> {
    const ok = await this.#until(() => {
      for (const s of this.#slots.values()) if (!s.leaving && s.acked < version) return false
      return true
    }, timeout)
    const problems: string[] = []
    for (const s of this.#slots.values()) {
      if (s.leaving) continue
      if (s.acked < version)
        problems.push(`worker ${s.w.id} did not acknowledge version ${version} within ${timeout / 1000}s`)
      else if (s.lastError !== null && s.lastError.version === version)
        problems.push(`worker ${s.w.id} failed to apply version ${version}: ${s.lastError.error}`)
    }
    if (!ok) this.log.warn({ version, problems }, 'not every worker acknowledged the new state in time')
    return problems
  }

  /**
   * Some servers' status changed: send the changes to every live worker (a worker that starts later gets every
   * status with its first whole state); resolve true once all that serve acked them, false after `timeout` ms.
   */
  async setServers(servers: ServersState, timeout = 5_000): Promise<boolean> {
    for (const slot of this.#slots.values()) {
      if (slot.hello) this.#send(slot, { type: 'lb:servers', state: servers })
    }
    const ok = await this.#until(() => {
      for (const s of this.#slots.values())
        if (!s.leaving && s.acked > 0 && s.serversAcked < servers.seq) return false
      return true
    }, timeout)
    if (!ok) this.log.warn({ seq: servers.seq }, 'not every worker acknowledged the servers state in time')
    return ok
  }

  #onExit(w: ClusterWorker, code: number | null, signal: string | null): void {
    const slot = this.#slots.get(w.id)
    if (slot === undefined) return
    this.#slots.delete(w.id)
    this.#notify()
    if (slot.leaving || this.#stopping) return
    this.crashes++
    const served = slot.readyAt === 0 ? 0 : Date.now() - slot.readyAt
    this.#recentCrashes = served >= stableAfter ? 1 : this.#recentCrashes + 1
    const delay = respawnDelay(this.#recentCrashes)
    this.log.error(
      { worker: w.id, workerPid: w.process.pid, code, signal, served, respawnIn: delay },
      'worker died; replacing it',
    )
    const timer = setTimeout(() => {
      if (!this.#stopping) this.#fork()
    }, delay)
    timer.unref()
  }

  /**
   * Every worker's metrics (`Metrics.reply()`, or with `sample` `Metrics.sampleReply()`), waiting at most
   * `timeout` ms: workers that have not answered by then are left out and counted in `missing`, so one slow
   * worker never fails the scrape.
   */
  async collectMetrics(
    timeout: number,
    sample = false,
  ): Promise<{ replies: MetricsReply[]; missing: number }> {
    const id = ++this.#scrapeId
    const replies: MetricsReply[] = []
    this.#scrapes.set(id, replies)
    let asked = 0
    for (const slot of this.#slots.values()) {
      if (!slot.hello || slot.leaving) continue
      asked++
      this.#send(slot, sample ? { type: 'lb:metrics', id, sample } : { type: 'lb:metrics', id })
    }
    await this.#until(() => replies.length >= asked, timeout)
    this.#scrapes.delete(id)
    return { replies: [...replies], missing: asked - replies.length }
  }

  /** Replace every worker, one at a time: start the new one, wait until it listens, then drain the old one. */
  async restart(timeout: number): Promise<boolean> {
    const old = [...this.#slots.values()]
    for (const slot of old) {
      if (this.#stopping) return false
      if (!this.#slots.has(slot.w.id)) continue
      const fresh = this.#fork()
      if (!(await this.#ready(fresh))) {
        this.log.error({ worker: fresh.w.id }, 'rolling restart: the new worker did not start; stopping here')
        return false
      }
      await this.#retire(slot, timeout)
    }
    this.log.info({ pids: this.pids() }, 'workers restarted')
    return true
  }

  async #retire(slot: Slot, timeout: number): Promise<void> {
    slot.leaving = true
    this.#send(slot, { type: 'lb:stop', timeout })
    const gone = await this.#until(() => !this.#slots.has(slot.w.id), timeout + 5_000)
    if (!gone) slot.w.process.kill('SIGKILL')
  }

  /** Drain every worker (in parallel) and wait for them to exit; SIGKILL stragglers after `timeout` + 5 s. */
  async stop(timeout: number): Promise<void> {
    this.#stopping = true
    await Promise.all([...this.#slots.values()].map((s) => this.#retire(s, timeout)))
  }
}
