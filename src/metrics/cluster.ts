/**
 * Cluster scrapes: a worker's reply as it crosses the IPC channel, and the primary's aggregate of the replies
 * (each series combined by its family's aggregator; a worker that did not answer in time is left out and counted
 * in `lb_metrics_workers_missing` instead of failing the scrape).
 */
import type { Registry } from 'prom-client'
import { promClient } from './prom-client.js'
import type { ChunkPool } from './exposition.js'
import { TextFamily, isFamilyData, joinFamilies, mergeFamilies, type FamilyData } from './exposition.js'
import { controlFamilies, familyNames, isProcessFamily, workersMissing } from './families.js'

/** A worker's part of a cluster scrape (`Metrics.reply`), as it crosses the IPC channel. */
export interface MetricsReply {
  /** prom-client's `getMetricsAsJSON()` of the process metrics (empty when they are off). */
  readonly process: readonly object[]
  readonly families: readonly FamilyData[]
}

/** Whether `x` has the shape of a `MetricsReply` (it crossed the IPC channel). */
export function isMetricsReply(x: unknown): x is MetricsReply {
  if (typeof x !== 'object' || x === null) return false
  const r = x as { process?: unknown; families?: unknown }
  return Array.isArray(r.process) && Array.isArray(r.families) && r.families.every(isFamilyData)
}

function familyName(m: object): string {
  const name = (m as { name?: unknown }).name
  return typeof name === 'string' ? name : ''
}

/**
 * The primary's /metrics in cluster mode (`Metrics.aggregate`, `own` is the primary's process-metrics registry, null
 * when they are off): the workers' traffic families (`replies`, one per worker that answered in time) combined per
 * series by each family's aggregator; then the primary's control families (`control()`, written straight to text:
 * only the primary has them); prom-client's process metrics of every process aggregated by prom-client's rules
 * (first); and how many workers did not answer.
 */
export async function aggregateReplies(
  own: Registry | null,
  pool: ChunkPool,
  replies: readonly MetricsReply[],
  missing: number,
  control: () => readonly TextFamily[],
): Promise<Buffer[]> {
  const processJson: object[][] = []
  const traffic: FamilyData[][] = []
  for (const r of replies) {
    processJson.push(r.process.filter((m) => isProcessFamily(familyName(m))))
    traffic.push(r.families.filter((f) => !controlFamilies.has(f.name)))
  }
  if (own !== null) processJson.push(await own.getMetricsAsJSON())
  let process = ''
  if (processJson.some((list) => list.length !== 0))
    process = await (await promClient()).AggregatorRegistry.aggregate(processJson).metrics()
  const missingFamily = new TextFamily(workersMissing, pool)
  missingFamily.add('', missing)
  return joinFamilies(process, [...mergeFamilies(familyNames, traffic, pool), ...control(), missingFamily])
}
