/**
 * prom-client, imported when first needed rather than at a process's start: the import took 54–80 ms and about
 * 100 ms of CPU in a bare process, and at start every lb process (the primary and each worker, on the same cores)
 * is busy with the Consul sync and its own start. lb uses prom-client only for the process metrics
 * (`collectDefaultMetrics`) and their cluster aggregate (metrics.ts, cluster.ts).
 */
import type * as PromClientModule from 'prom-client'

export type PromClient = typeof PromClientModule

let loading: Promise<PromClient> | null = null

/** The prom-client module (imported once). */
export function promClient(): Promise<PromClient> {
  return (loading ??= import('prom-client'))
}
