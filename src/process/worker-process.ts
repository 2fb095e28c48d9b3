/**
 * A cluster worker process: one Worker, fed by the primary over IPC (ipc.ts). Applies every `lb:apply-packed` (a
 * whole state), `lb:delta` (a change against the version it holds) and `lb:servers` in order, reports passive
 * observations in batches, answers metric scrapes, and drains and exits on `lb:stop` or when the primary goes
 * away.
 */
import cluster from 'node:cluster'
import {
  isToWorker,
  observeFlush,
  unpackWhole,
  type FromWorker,
  type ToWorker,
  type WholeState,
} from './ipc.js'
import { createAccessLogger, createLogger, type Logger } from '../log/log.js'
import { Metrics } from '../metrics/metrics.js'
import {
  collectNativeHeld,
  loggedMemoryRelease,
  WORKER_GROWTH_THRESHOLD,
  type MemoryRelease,
  type MemoryReleaseOptions,
} from './memory.js'
import type { Config } from '../config/types.js'
import type { Snapshot } from '../model/snapshot.js'
import type { ServersState } from '../health/service.js'
import { applyDeltaInPlace, changedBy } from '../provider/delta.js'
import { Worker } from './worker.js'

function ignoreSignal(): void {
  // The primary decides: systemd (KillMode=control-group) and a terminal's Ctrl-C signal every process.
}

/** Services in a snapshot from which applying it counts as a burst for the memory release (as the primary's
 * Consul provider counts ≥ 500 service reads). */
export const LARGE_APPLY = 500

/**
 * Whether applying a whole `snapshot` in a cluster worker is worth a memory release (src/process/memory.ts) once
 * applies go quiet: at thousands of services decoding and building it grows the worker's heap as the sync grows the
 * primary's. A smaller whole state never gets near the release's growth threshold; a series of deltas can, and
 * each delta arms the release (`delta`).
 */
export function isLargeApply(snapshot: Snapshot): boolean {
  return snapshot.services.length >= LARGE_APPLY
}

/**
 * Bytes of a packed whole state (ipc.ts `packWhole`) from which a worker frees them before applying it (`packed`):
 * 7 MB at 10,000 Consul services × 3, about 6,000 services at this size. Held through the apply, they were part of
 * the worker's peak: 129.0–131.9 MB at its first state; 119.4–122.4 MB with them and the young generation freed
 * first (memory.ts `collectNativeHeld`, about 70–85 ms of GC there; bench/RESULTS.md, consul-rss).
 */
export const FREE_PACKED_FROM = 4 * 1024 * 1024

/** Makes the Worker on the first whole state (a test passes its own loggers and metrics). */
export type MakeWorker = (config: Config, ticketSecret?: Buffer) => { worker: Worker; log: Logger }

/**
 * The state side of a worker process: holds the version and snapshot applied last, applies whole states and
 * deltas to its Worker, acks each version, and asks for the whole state (`lb:resync`) when a delta does not
 * fit the version it holds. The first whole state makes the Worker and opens its listeners: a worker started
 * mid-stream (whose first message is a delta) serves nothing until it has the current state.
 */
export class StateReceiver {
  worker: Worker | null
  log: Logger | null
  /** The version applied last; 0 before the first whole state and while waiting for one. */
  version: number
  #snapshot: Snapshot | null
  /** A `lb:resync` is out: deltas are dropped until the whole state comes. */
  #resyncing: boolean
  readonly #send: (m: FromWorker) => void
  readonly #make: MakeWorker
  /** After the first whole state (starts passive-health reporting in a real worker process). */
  readonly #onStarted: () => void
  #memory: MemoryRelease | null
  /** What the memory release reads, when a test gives its own GC, RSS and young generation. */
  readonly #memoryReads: Pick<MemoryReleaseOptions, 'gc' | 'resident' | 'young'>

  constructor(
    send: (m: FromWorker) => void,
    make: MakeWorker,
    onStarted: () => void = () => {},
    memoryReads: Pick<MemoryReleaseOptions, 'gc' | 'resident' | 'young'> = {},
  ) {
    this.worker = null
    this.log = null
    this.version = 0
    this.#snapshot = null
    this.#resyncing = false
    this.#send = send
    this.#make = make
    this.#onStarted = onStarted
    this.#memory = null
    this.#memoryReads = memoryReads
  }

  /** A whole state: apply it (the first one makes the Worker, then it listens), ack its version. */
  async full(msg: WholeState): Promise<void> {
    let error: string | null = null
    this.#resyncing = false
    try {
      if (this.worker === null || this.log === null) {
        const made =
          msg.tickets === undefined
            ? this.#make(msg.config)
            : this.#make(msg.config, Buffer.from(msg.tickets, 'hex'))
        this.worker = made.worker
        this.log = made.log
        // Health and runtime state come with the snapshot, before the first listen: a new worker never serves
        // a server the others know is down.
        await this.worker.apply(msg.snapshot, msg.servers)
        await this.worker.syncListeners(msg.config, 0)
        this.#onStarted()
      } else {
        this.worker.config = msg.config
        await this.worker.apply(msg.snapshot, msg.servers)
        await this.worker.syncListeners(msg.config, msg.config.shutdown.timeout)
      }
      this.#snapshot = msg.snapshot
      this.version = msg.version
      if (isLargeApply(msg.snapshot)) this.#releaseSoon(this.log)
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
      this.log?.error({ err, version: msg.version }, 'applying the state failed')
    }
    this.#send({ type: 'lb:ack', version: msg.version, error })
  }

  /**
   * A whole state as the primary sends it, packed (`lb:apply-packed`): unpacked, its bytes (and the young generation
   * the unpacking grew) freed from FREE_PACKED_FROM, then applied as `full`. Bytes that do not unpack are logged
   * and not acked (the primary reports the version as not acknowledged). Not an async function: a suspended one
   * would keep `bytes` alive in its frame while the GCs run, so the caller must not hold them either.
   */
  packed(bytes: Uint8Array): Promise<void> {
    let whole
    try {
      whole = unpackWhole(bytes)
    } catch (err) {
      this.log?.error({ err }, 'a packed whole state did not unpack')
      return Promise.resolve()
    }
    return bytes.byteLength >= FREE_PACKED_FROM ? this.#fullAfterCollect(whole) : this.full(whole)
  }

  /** `full` once the deserializers' input is freed (memory.ts `collectNativeHeld`). */
  async #fullAfterCollect(whole: WholeState): Promise<void> {
    await collectNativeHeld()
    return this.full(whole)
  }

  /** Memory given back once the applies go quiet, if RSS grew by WORKER_GROWTH_THRESHOLD (memory.ts). */
  #releaseSoon(log: Logger): void {
    this.#memory ??= loggedMemoryRelease(log, 'applying states', {
      ...this.#memoryReads,
      threshold: WORKER_GROWTH_THRESHOLD,
    })
    this.#memory.releaseSoon()
  }

  /** A delta: applied in place on top of its base version and acked, else the whole state is asked for. */
  async delta(msg: Extract<ToWorker, { type: 'lb:delta' }>): Promise<void> {
    const worker = this.worker
    const snapshot = this.#snapshot
    if (worker === null || snapshot === null || msg.base !== this.version) {
      this.#resync()
      return
    }
    try {
      // What changed, read off the delta before it is applied in place (the snapshot is this worker's alone).
      const changed = changedBy(snapshot, msg.delta)
      const next = applyDeltaInPlace(snapshot, msg.delta)
      await worker.apply(next, (only) => statusesFor(only, msg.servers), changed)
      this.#snapshot = next
      this.version = msg.version
      // Garbage of many deltas: released once they go quiet, if RSS grew (memory.ts).
      this.#releaseSoon(this.log as Logger)
    } catch (err) {
      this.log?.warn({ err, version: msg.version }, 'applying a delta failed: asking for the whole state')
      this.#resync()
      return
    }
    this.#send({ type: 'lb:ack', version: msg.version, error: null })
  }

  #resync(): void {
    if (this.#resyncing) return
    this.#resyncing = true
    const had = this.version
    // Whatever this worker holds is no longer a version: only a whole state makes it one again.
    this.version = 0
    this.#snapshot = null
    this.#send({ type: 'lb:resync', version: had })
  }

  close(): void {
    this.#memory?.close()
  }
}

/** A delta's statuses are those of its changed services: the Worker must have found the same change. */
function statusesFor(only: ReadonlySet<string> | null, servers: ServersState): ServersState {
  if (only === null) throw new Error('the delta changed this worker’s whole state')
  return servers
}

/**
 * A cluster worker process: say hello, then apply every message in order (a whole state or a delta, acked by
 * version), and drain + exit on `lb:stop`. Exits when the primary goes away.
 */
export function runWorkerProcess(): void {
  const id = cluster.worker?.id ?? 0
  let chain: Promise<void> = Promise.resolve()
  const send = (m: FromWorker): void => {
    if (process.connected) process.send?.(m)
  }
  // Passive health goes to the primary in batches: one message per `observeFlush` ms at most.
  let reporter: ReturnType<typeof setInterval> | null = null
  const report = (): void => {
    const reports = state.worker?.takeObservations() ?? null
    if (reports !== null) send({ type: 'lb:observe', reports })
  }
  const state = new StateReceiver(
    send,
    (config, ticketSecret) => {
      const log = createLogger(config.log).child({ worker: id })
      const worker = new Worker({
        config,
        log,
        ...(ticketSecret === undefined ? {} : { ticketSecret }),
        accessLog: createAccessLogger(config.log),
        metrics: new Metrics({ processMetrics: true, enabled: config.metrics.enabled }),
      })
      return { worker, log }
    },
    () => {
      reporter = setInterval(report, observeFlush)
      reporter.unref()
    },
  )
  const handle = async (msg: ToWorker): Promise<void> => {
    switch (msg.type) {
      case 'lb:apply-packed':
        return state.packed(msg.bytes)
      case 'lb:delta':
        return state.delta(msg)
      case 'lb:servers':
        state.worker?.applyServers(msg.state)
        send({ type: 'lb:servers-ack', seq: msg.state.seq })
        return
      case 'lb:stop':
        if (reporter !== null) clearInterval(reporter)
        state.close()
        report()
        await state.worker?.stop(msg.timeout)
        state.log?.flush()
        process.exit(0)
        return
      case 'lb:metrics':
        send({
          type: 'lb:metrics',
          id: msg.id,
          metrics:
            state.worker === null
              ? { process: [], families: [] }
              : msg.sample === true
                ? state.worker.metrics.sampleReply()
                : await state.worker.metrics.reply(),
        })
        return
    }
  }
  process.on('SIGTERM', ignoreSignal)
  process.on('SIGINT', ignoreSignal)
  process.on('SIGHUP', ignoreSignal)
  process.on('disconnect', () => process.exit(0))
  process.on('message', (msg: unknown) => {
    if (!isToWorker(msg)) return
    chain = chain.then(() => handle(msg))
  })
  send({ type: 'lb:hello' })
}
