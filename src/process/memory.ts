/**
 * Give memory back to the system after a burst of discovery work (a Consul sync of thousands of services).
 *
 * Why: such a burst grows V8's young generation to its maximum (2 × 16 MB committed, nearly empty once the
 * burst is over) and leaves half-empty old-space pages behind; V8 shrinks those only in a memory-reducing GC,
 * which it starts on its own under memory pressure, not when the process just goes quiet. And the pages a GC
 * frees stay in V8's page pool, resident, unless the GC is V8's last-resort one (node-internals.ts
 * `releasingGc`). Measured with 10,000 services × 3 (lb's own process, heap pages read from /proc/<pid>/smaps):
 * after a compacting full GC, 114 MB of heap pages resident for a 67 MB heap (RSS 217 MB); after the
 * last-resort GC, 60 MB (RSS 150 MB).
 *
 * How: `releaseSoon()` (re)arms an unref'd timer; when it fires, `settleDelay` after the last call (V8 averages
 * its allocation rate over 5 s; a GC while it is high does not shrink the young generation), and the process's
 * RSS has grown by GROWTH_THRESHOLD (WORKER_GROWTH_THRESHOLD in a cluster worker) since the last release, the
 * last-resort GC runs. It is a pause (measured 125 ms for a 63 MB heap on the 2-core bench VM; compacting GCs took
 * 0.2–1.1 s there when it was loaded), once per burst, never per request. The GC function is V8's `gc` extension,
 * which Node does not offer without `--expose-gc`: src/net/node-internals.ts gets it. Where that yields no
 * function (or LB_NODE_INTERNALS=off), releasing is a no-op.
 *
 * The young generation: V8 shrinks it after a GC only when the allocation rate it measured over about the last
 * 5 s is low but not zero, and the full GC's reading can still cover the burst. In the daemon at 10,000 services
 * it left 30.8 MB of young generation committed (RSS 150 MB; ≈ 120 MB without it). So one scavenge a second
 * follows (`{ type: 'minor' }`, ≈ 1 ms each), up to YOUNG_ATTEMPTS, until the young generation is down to
 * YOUNG_SMALL. In a standalone script it shrank at the full GC or at the 5th scavenge; an allocation just
 * before the full GC (tried earlier to make the rate non-zero) delayed it to the 5th.
 */
import { getHeapSpaceStatistics } from 'node:v8'
import type { Logger } from '../log/log.js'
import { nodeInternals, releasingGc, type GcFunction } from '../net/node-internals.js'

/** Quiet time after the last burst before the GC (V8 averages its allocation rate over 5 s). */
export const SETTLE_DELAY = 10_000

export interface MemoryRelease {
  /** A burst just ended: run a full GC once nothing has called this for `settleDelay` ms. */
  releaseSoon(): void
  /**
   * V8's last-resort GC now (`releasingGc`), at a point where a burst's input has just become garbage and a large
   * build follows (the Consul sync's parsed answers, before its first build): the build then starts from a small
   * heap instead of V8 growing it past that garbage, since V8 does not start a full GC for garbage that was young a
   * moment ago; and the pages and the young generation the burst grew are given back, not kept for the build.
   * Measured at 10,000 Consul services × 3, peak RSS over a run: 177–179 MB against 203–209 MB without a GC there
   * (single process; the primary with two workers 180–185 against 214), then 168.8–172.5 MB against 174.9–182.0 MB
   * with the last-resort GC instead of a plain full one (bench/RESULTS.md, consul-scale). Once per sync. Only from
   * COLLECT_FROM bytes of heap in use: below, the garbage is not worth it. Not a release: `runs` does not count it.
   */
  collect(): void
  /** Cancel a pending release. */
  close(): void
  /** Full GCs run so far. */
  readonly runs: number
}

export interface MemoryReleaseOptions {
  readonly settleDelay?: number
  /** RSS growth (bytes) over the last release from which a release runs; default GROWTH_THRESHOLD. */
  readonly threshold?: number
  /** Called after each full GC with its duration (ms) and the heap used before/after (bytes). */
  readonly onRelease?: (ms: number, before: number, after: number) => void
  /** Called after each `collect()` that ran a GC, with the same figures. */
  readonly onCollect?: (ms: number, before: number, after: number) => void
  /** Called when the young generation has shrunk after a release, with the minor GCs that took (0: none). */
  readonly onYoungShrunk?: (minorGcs: number) => void
  /**
   * The GC to run (tests); default V8's (src/net/node-internals.ts). With no argument it must run a full GC
   * (Node 20's V8 did less with `{ type: 'major' }`: measured, 8 of 90 MB freed); `{ type: 'minor' }` is a
   * scavenge of the young generation only (≈ 1 ms when it holds little).
   */
  readonly gc?: GcFunction | null
  /** The process's resident memory in bytes (tests); default `process.memoryUsage.rss()`. */
  readonly resident?: () => number
  /** V8's committed young generation in bytes (tests); default newSpaceCommitted(). */
  readonly young?: () => number
  /** V8's heap in use in bytes (tests); default `process.memoryUsage().heapUsed`. */
  readonly heapUsed?: () => number
}

/**
 * Heap in use (bytes) from which `collect()` runs its GC. At the Consul sync's first build the heap in use was
 * 18.7 MB at 1,000 services × 3 (4.6 MB of it garbage), 35.8 MB at 5,000 (15.5 MB garbage) and 59–67 MB at 10,000
 * (31–39 MB). At 1,000 the GC only cost the changes after it, in 3 interleaved rounds of bench/consul-scale.ts:
 * lb CPU per change 8.9–9.7 ms without it, 10.3 ms in each round with it.
 */
export const COLLECT_FROM = 32 * 1024 * 1024

/**
 * Growth (bytes) worth a full GC: the process's RSS exceeds what it was after the last release (0 before the first)
 * by this much. RSS, not V8's committed heap, which V8's own GCs shrink while the pages stay resident in its page
 * pool (node-internals.ts `releasingGc`). Measured with the committed heap: in 3 of 11 runs of bench/consul-scale.ts
 * at 10,000 services no release ran after the 100 changes, and RSS stayed at 152–159 MB 30 s later (131–135 MB in the
 * others; V8's heap pages 74 MB against 53 MB in one of each). How much is garbage cannot be known without a GC (the
 * young generation's used part, mostly garbage after a burst, varied 3–13 MB at the same point).
 */
export const GROWTH_THRESHOLD = 16 * 1024 * 1024

/**
 * A cluster worker's growth threshold. Between bursts of deltas a worker's RSS stayed up to GROWTH_THRESHOLD over
 * where its last release left it (about 100 MB at 10,000 Consul services): 107.0–116.9 MB 15 s after each quarter
 * of 500 changes, and 123.5 MB once in a run of 1,000. With 8 MB: 104.0–105.8 MB, with the same change latency
 * and CPU per change (bench/RESULTS.md, consul-scale `--churn`). Its heap is half the primary's, so the
 * last-resort GC is a shorter pause there (48–51 ms at 10,000 services).
 */
export const WORKER_GROWTH_THRESHOLD = 8 * 1024 * 1024

/** The young generation counts as shrunk at or below this many committed bytes (V8's minimum is 2 × 0.5–1 MB). */
export const YOUNG_SMALL = 4 * 1024 * 1024
/** Minor GCs after the full one, one per second, until the young generation has shrunk. */
export const YOUNG_ATTEMPTS = 8
const YOUNG_INTERVAL = 1_000

/**
 * Free memory that native objects kept alive after they died: a deserializer (node:v8's, the IPC channel's) holds
 * its input until its native half is deleted, which happens on a turn of the event loop after a GC has found it
 * dead. So: a full GC, a turn, then V8's last-resort GC (`releasingGc`), which also gives back the pages freed and
 * the young generation the deserializing grew, so that what is built next starts from a small heap. Measured in a
 * cluster worker at 10,000 Consul services, the 7 MB of a packed whole state stayed allocated through two GCs in a
 * row and 300 ms without one. With two full GCs the worker's peak around its first state was 125.0–127.4 MB, with
 * this 119.9–122.6 MB; the GCs took about 70–85 ms there, 20–34 and 48–51 ms (bench/RESULTS.md, consul-rss).
 * Resolves at once without a GC function.
 */
export async function collectNativeHeld(gc: GcFunction | null = nodeInternals.gc()): Promise<void> {
  if (gc === null) return
  gc()
  await new Promise<void>((resolve) => setImmediate(resolve))
  releasingGc(gc)
}

/** Bytes of heap V8 has committed (resident), all spaces. */
export function heapCommitted(): number {
  let n = 0
  for (const s of getHeapSpaceStatistics()) n += s.physical_space_size
  return n
}

/** Bytes V8 has committed (resident) for its young generation. */
export function newSpaceCommitted(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.physical_space_size
  return 0
}

export function memoryRelease(o: MemoryReleaseOptions = {}): MemoryRelease {
  const delay = o.settleDelay ?? SETTLE_DELAY
  const threshold = o.threshold ?? GROWTH_THRESHOLD
  const young = o.young ?? newSpaceCommitted
  const resident = o.resident ?? process.memoryUsage.rss
  const heapUsed = o.heapUsed ?? ((): number => process.memoryUsage().heapUsed)
  let timer: NodeJS.Timeout | null = null
  let runs = 0
  let minorGcs = 0
  /** RSS right after the last release, and again once its scavenges are over (0 before the first). */
  let live = 0
  const gcOf = (): GcFunction | null => (o.gc === undefined ? nodeInternals.gc() : o.gc)
  const arm = (fn: () => void, ms: number): void => {
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(fn, ms)
    timer.unref()
  }
  /** The young generation still holds what the burst grew it to: one more scavenge, then look again. */
  const shrinkYoung = (): void => {
    timer = null
    const gc = gcOf()
    if (gc === null) return
    if (young() > YOUNG_SMALL) {
      if (minorGcs >= YOUNG_ATTEMPTS) return
      minorGcs++
      gc({ type: 'minor' })
      if (young() > YOUNG_SMALL) {
        arm(shrinkYoung, YOUNG_INTERVAL)
        return
      }
    }
    live = resident()
    o.onYoungShrunk?.(minorGcs)
  }
  const run = (): void => {
    timer = null
    const gc = gcOf()
    if (gc === null || resident() - live < threshold) return
    const before = heapUsed()
    const t0 = performance.now()
    // Compacting moves objects off half-empty pages, and the last-resort GC gives the freed pages back instead
    // of pooling them (node-internals.ts `releasingGc`), at the price of a longer pause.
    releasingGc(gc)
    runs++
    const after = heapUsed()
    live = resident()
    o.onRelease?.(performance.now() - t0, before, after)
    minorGcs = 0
    shrinkYoung()
  }
  return {
    releaseSoon(): void {
      arm(run, delay)
    },
    collect(): void {
      const gc = gcOf()
      if (gc === null) return
      const before = heapUsed()
      if (before < COLLECT_FROM) return
      const t0 = performance.now()
      releasingGc(gc)
      o.onCollect?.(performance.now() - t0, before, heapUsed())
    },
    close(): void {
      if (timer !== null) clearTimeout(timer)
      timer = null
    },
    get runs(): number {
      return runs
    },
  }
}

/**
 * memoryRelease with its steps (and `collect`) logged at info, with the heap and RSS figures (the primary after
 * discovery bursts, a cluster worker after applying a large table). `after` names the burst in the messages.
 */
export function loggedMemoryRelease(
  log: Pick<Logger, 'info'>,
  after: string,
  o: Omit<MemoryReleaseOptions, 'onRelease' | 'onCollect' | 'onYoungShrunk'> = {},
): MemoryRelease {
  return memoryRelease({
    ...o,
    onCollect: (ms, before, live) =>
      log.info(
        { ms: Math.round(ms), heapUsedMB: [mb(before), mb(live)], rssMB: mb(process.memoryUsage.rss()) },
        `garbage collected in ${after}`,
      ),
    onRelease: (ms, before, live) =>
      log.info(
        {
          ms: Math.round(ms),
          heapUsedMB: [mb(before), mb(live)],
          heapCommittedMB: mb(heapCommitted()),
          newSpaceMB: mb(newSpaceCommitted()),
          rssMB: mb(process.memoryUsage.rss()),
        },
        `memory released after ${after}`,
      ),
    onYoungShrunk: (minorGcs) =>
      log.info(
        { minorGcs, newSpaceMB: mb(newSpaceCommitted()), rssMB: mb(process.memoryUsage.rss()) },
        `young generation released after ${after}`,
      ),
  })
}

function mb(bytes: number): number {
  return Math.round(bytes / 104_857.6) / 10
}
