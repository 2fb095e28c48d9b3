/**
 * Every prom-client metric, defined once (STYLE §10). Each worker owns a `Metrics` (its own Registry, no
 * globals); label children are resolved per service when the table swaps (`forService`), so a request only
 * increments prebuilt children. In cluster mode the primary collects every worker's `getMetricsAsJSON()` over
 * lb's own IPC message with a per-scrape timeout and aggregates with `AggregatorRegistry.aggregate`: a slow or
 * dead worker leaves its numbers out and is counted in `lb_metrics_workers_missing` instead of failing the
 * scrape (prom-client's own `clusterMetrics()` fails the whole scrape).
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client'

export const statusClasses = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

/** The children one service's requests touch: by status class (index = status / 100 - 1) and the latency. */
export interface ServiceMetrics {
  readonly byClass: readonly Counter.Internal[]
  readonly duration: Histogram.Internal<'service'>
}

export class Metrics {
  readonly registry: Registry
  readonly requests: Counter<'service' | 'code'>
  readonly duration: Histogram<'service'>

  constructor() {
    this.registry = new Registry()
    this.requests = new Counter({
      name: 'lb_http_requests_total',
      help: 'HTTP requests answered, by service and status class',
      labelNames: ['service', 'code'],
      registers: [this.registry],
    })
    this.duration = new Histogram({
      name: 'lb_http_request_duration_seconds',
      help: 'Time from request start to the end of the response, by service',
      labelNames: ['service'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    })
  }

  /** Resolve the label children for `service` (at table swap, never per request). */
  forService(service: string): ServiceMetrics {
    const byClass: Counter.Internal[] = []
    for (let i = 0; i < statusClasses.length; i++)
      byClass.push(this.requests.labels({ service, code: statusClasses[i] as string }))
    return { byClass, duration: this.duration.labels({ service }) }
  }
}

/** Count one finished request (hot path: two increments on prebuilt children). */
export function observeRequest(m: ServiceMetrics, status: number, seconds: number): void {
  const c = m.byClass[((status / 100) | 0) - 1]
  if (c !== undefined) c.inc()
  m.duration.observe(seconds)
}

/**
 * The primary's /metrics in cluster mode: aggregate what the workers answered (`replies`, one per worker that
 * answered in time) and report how many did not.
 */
export function aggregate(replies: readonly object[][], missing: number): Registry {
  const registry = AggregatorRegistry.aggregate<'text/plain; version=0.0.4; charset=utf-8'>([...replies])
  const gauge = new Gauge({
    name: 'lb_metrics_workers_missing',
    help: 'Workers that did not answer this scrape in time (their numbers are left out)',
    registers: [registry],
  })
  gauge.set(missing)
  return registry
}
