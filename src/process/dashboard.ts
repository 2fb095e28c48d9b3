/**
 * The admin dashboard's data in the primary: the traffic sampler (src/metrics/dashboard.ts) fed every
 * `admin.sample_interval` with the per-service and per-server counters, and the health events
 * (src/health/history.ts) fed by every status the health service publishes. In cluster mode the counters are
 * the worker processes' replies, the same ones /metrics aggregates (src/metrics/cluster.ts); with `workers: 0|1`
 * they are the serving Worker's own.
 */
import type { DashboardSources } from '../admin/dashboard.js'
import { HealthHistory } from '../health/history.js'
import type { HealthService } from '../health/service.js'
import type { Logger } from '../log/log.js'
import { DashboardSampler } from '../metrics/dashboard.js'
import type { FamilyData } from '../metrics/exposition.js'

export class DashboardFeed {
  readonly sampler: DashboardSampler
  readonly history: HealthHistory
  readonly #health: HealthService
  #timer: ReturnType<typeof setInterval> | null

  constructor(health: HealthService) {
    this.sampler = new DashboardSampler()
    this.history = new HealthHistory()
    this.#health = health
    this.#timer = null
    health.subscribe((state) => this.history.record(state))
  }

  /** What the admin server reads; `consul` = the Consul provider's watches, or null without Consul. */
  sources(consul: DashboardSources['consul']): DashboardSources {
    return {
      traffic: (series) => this.sampler.view(series),
      events: (id) => this.history.of(id),
      consul,
    }
  }

  /** One sample of `copies` (one list of families per process) now; health events of gone servers dropped. */
  sample(copies: readonly (readonly FamilyData[])[], now: number = Date.now()): void {
    this.sampler.sample(copies, now)
    this.history.retain((id) => this.#health.has(id))
  }

  /** Sample now and every `interval` ms from `collect` (the Worker's families, or the workers' replies). */
  start(interval: number, collect: () => Promise<FamilyData[][]>, log: Logger): void {
    const tick = (): void => {
      collect().then(
        (copies) => {
          this.sample(copies)
          if (log.isLevelEnabled('debug')) log.debug({ services: this.sampler.size }, 'dashboard sampled')
        },
        (err: unknown) => log.warn({ err }, 'dashboard sample failed'),
      )
    }
    tick()
    this.#timer = setInterval(tick, interval)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }
}
