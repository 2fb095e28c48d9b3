/**
 * A cluster worker process: one Worker, fed by the primary over IPC (ipc.ts). Applies every `lb:apply` and
 * `lb:servers` in order, reports passive observations in batches, answers metric scrapes, and drains and exits on
 * `lb:stop` or when the primary goes away.
 */
import cluster from 'node:cluster'
import { isToWorker, observeFlush, type FromWorker, type ToWorker } from './ipc.js'
import { createAccessLogger, createLogger, type Logger } from '../log/log.js'
import { Metrics } from '../metrics/metrics.js'
import { loggedMemoryRelease, type MemoryRelease } from './memory.js'
import type { Snapshot } from '../model/snapshot.js'
import { Worker } from './worker.js'

function ignoreSignal(): void {
  // The primary decides: systemd (KillMode=control-group) and a terminal's Ctrl-C signal every process.
}

/** Services in a snapshot from which applying it counts as a burst for the memory release (as the primary's
 * Consul provider counts ≥ 500 service reads). */
export const LARGE_APPLY = 500

/**
 * Whether applying `snapshot` in a cluster worker is worth a memory release (src/process/memory.ts) once applies go
 * quiet: every apply carries the whole table, and at thousands of services decoding and building it grows the
 * worker's heap as the sync grows the primary's. Smaller tables never get near the release's growth threshold.
 */
export function isLargeApply(snapshot: Snapshot): boolean {
  return snapshot.services.length >= LARGE_APPLY
}

/**
 * A cluster worker process: say hello, then apply every `lb:apply` in order (each is the whole state), ack its
 * version, and drain + exit on `lb:stop`. Exits when the primary goes away.
 */
export function runWorkerProcess(): void {
  const id = cluster.worker?.id ?? 0
  let worker: Worker | null = null
  let log: Logger | null = null
  let chain: Promise<void> = Promise.resolve()
  let memory: MemoryRelease | null = null
  const send = (m: FromWorker): void => {
    if (process.connected) process.send?.(m)
  }
  // Passive health goes to the primary in batches: one message per `observeFlush` ms at most.
  let reporter: ReturnType<typeof setInterval> | null = null
  const report = (): void => {
    const reports = worker?.takeObservations() ?? null
    if (reports !== null) send({ type: 'lb:observe', reports })
  }
  const startReporting = (): void => {
    reporter = setInterval(report, observeFlush)
    reporter.unref()
  }
  const handle = async (msg: ToWorker): Promise<void> => {
    switch (msg.type) {
      case 'lb:apply': {
        let error: string | null = null
        try {
          if (worker === null || log === null) {
            log = createLogger(msg.config.log).child({ worker: id })
            worker = new Worker({
              config: msg.config,
              log,
              accessLog: createAccessLogger(msg.config.log),
              metrics: new Metrics({ processMetrics: true, enabled: msg.config.metrics.enabled }),
            })
            // Health and runtime state come with the snapshot, before the first listen: a new worker never serves
            // a server the others know is down.
            await worker.apply(msg.snapshot, msg.servers)
            await worker.syncListeners(msg.config, 0)
            startReporting()
          } else {
            worker.config = msg.config
            await worker.apply(msg.snapshot, msg.servers)
            await worker.syncListeners(msg.config, msg.config.shutdown.timeout)
          }
          if (isLargeApply(msg.snapshot)) {
            memory ??= loggedMemoryRelease(log, 'applying a large table')
            memory.releaseSoon()
          }
        } catch (err) {
          error = err instanceof Error ? err.message : String(err)
          log?.error({ err, version: msg.version }, 'applying the state failed')
        }
        send({ type: 'lb:ack', version: msg.version, error })
        return
      }
      case 'lb:servers':
        worker?.applyServers(msg.state)
        send({ type: 'lb:servers-ack', seq: msg.state.seq })
        return
      case 'lb:stop':
        if (reporter !== null) clearInterval(reporter)
        memory?.close()
        report()
        await worker?.stop(msg.timeout)
        log?.flush()
        process.exit(0)
        return
      case 'lb:metrics':
        send({
          type: 'lb:metrics',
          id: msg.id,
          metrics: worker === null ? { process: [], families: [] } : await worker.metrics.reply(),
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
