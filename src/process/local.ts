/**
 * The health service and this process's Worker, connected without IPC: every status the service publishes
 * (verdicts, overrides, and each check's counters) applies to the Worker as it happens, and the Worker's passive
 * observations go straight to the service. The primary runs its Worker this way (the serving one with
 * `workers: 0|1`, the admin API's view in cluster mode), and so do tests that run lb in-process. Worker processes
 * get the same statuses over IPC instead (primary.ts, worker.ts `runWorkerProcess`).
 */
import { HealthService, type HealthServiceOptions } from '../health/service.js'
import type { Logger } from '../log/log.js'
import type { Snapshot } from '../model/snapshot.js'
import type { Worker } from './worker.js'

/** A health service for `worker`'s process, resolving through its resolver and timing checks on its clock. */
export function localHealth(
  worker: Worker,
  log: Logger,
  probes: Pick<HealthServiceOptions, 'probe' | 'startProbe'> = {},
): HealthService {
  const health = new HealthService({
    now: worker.clock,
    rand: worker.ctx.rand,
    addresses: worker.addresses,
    log,
    onResult: (id, ms) => {
      const u = worker.upstreamById(id)
      if (u !== undefined) worker.metrics.checkDone(u, ms)
    },
    ...probes,
  })
  worker.observer = (id, ok) => health.observe(id, ok)
  health.subscribe((state) => worker.applyServers(state))
  return health
}

/**
 * One snapshot for both: the service takes its servers first, then the Worker applies it with the statuses of
 * the services that changed (all of them when it builds everything); both look only at what changed since the
 * Worker's last snapshot when it can tell.
 */
export async function applyLocal(worker: Worker, health: HealthService, snapshot: Snapshot): Promise<void> {
  syncHealth(worker, health, snapshot)
  await applyWorker(worker, health, snapshot)
}

/** applyLocal's first step: the service takes the snapshot's servers. */
export function syncHealth(worker: Worker, health: HealthService, snapshot: Snapshot): void {
  health.sync(snapshot, worker.changesFor(snapshot))
}

/** applyLocal's second step, after syncHealth: the Worker applies the snapshot with the service's statuses. */
export async function applyWorker(worker: Worker, health: HealthService, snapshot: Snapshot): Promise<void> {
  await worker.apply(snapshot, (only) => (only === null ? health.state() : health.stateOf(only)))
}
