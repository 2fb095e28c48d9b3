/**
 * Give memory back to the system after a burst of discovery work (a Consul sync of thousands of services).
 *
 * Why: such a burst grows V8's young generation to its maximum (2 × 16 MB committed, nearly empty once the
 * burst is over) and leaves half-empty old-space pages behind; V8 shrinks those only in a memory-reducing GC,
 * which it starts on its own under memory pressure, not when the process just goes quiet. Measured with 10,000
 * services × 3 (`node dist/bench/consul-rss.js`, lb's own process): 210–245 MB RSS after the sync; 25 s later
 * with one plain full GC 192 MB, with one compacting full GC 165 MB.
 *
 * How: `releaseSoon()` (re)arms an unref'd timer; when it fires, `settleDelay` after the last call (V8 averages
 * its allocation rate over 5 s; a GC while it is high does not shrink the young generation), and V8's heap has
 * grown by GROWTH_THRESHOLD since the last release, one compacting full GC runs. It is a pause (measured 0.2–1.1 s
 * for a 66 MB heap on the loaded 2-core bench VM), once per burst, never per request. The GC function is V8's
 * `gc` extension: `globalThis.gc` when Node runs with `--expose-gc`, else made available once through
 * `v8.setFlagsFromString('--expose-gc')` + a new vm context (the flag is read when a context is created; it is
 * switched off again right after). Where that yields no function, releasing is a no-op.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** V8's `gc()`: a full, synchronous GC. (Node 20's V8 does less with `{ type: 'major' }`: measured, 8 of 90 MB freed.) */
type GcFunction = () => unknown

/** Quiet time after the last burst before the GC (V8 averages its allocation rate over 5 s). */
export const SETTLE_DELAY = 10_000

let gcFunction: GcFunction | null | undefined

/** V8's `gc`, or null where it cannot be had. Looked up once. */
export function gcFunctionOf(): GcFunction | null {
  if (gcFunction !== undefined) return gcFunction
  const exposed = (globalThis as { gc?: unknown }).gc
  if (typeof exposed === 'function') return (gcFunction = exposed as GcFunction)
  try {
    setFlagsFromString('--expose-gc')
    const fn: unknown = runInNewContext('typeof gc === "function" ? gc : null')
    gcFunction = typeof fn === 'function' ? (fn as GcFunction) : null
  } catch {
    gcFunction = null
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
  return gcFunction
}

export interface MemoryRelease {
  /** A burst just ended: run a full GC once nothing has called this for `settleDelay` ms. */
  releaseSoon(): void
  /** Cancel a pending release. */
  close(): void
  /** Full GCs run so far. */
  readonly runs: number
}

export interface MemoryReleaseOptions {
  readonly settleDelay?: number
  /** Called after each GC with its duration (ms) and the heap used before/after (bytes). */
  readonly onRelease?: (ms: number, before: number, after: number) => void
  /** The GC to run (tests); default gcFunctionOf(). */
  readonly gc?: GcFunction | null
  /** V8's committed heap in bytes (tests); default heapCommitted(). */
  readonly committed?: () => number
}

/**
 * Heap growth (bytes) worth a full GC: V8's committed heap exceeds what was live after the last release (0
 * before the first) by this much. How much of the committed heap is garbage cannot be known without a GC
 * (the young generation's used part, mostly garbage after a burst, varied 3–13 MB at the same point).
 */
export const GROWTH_THRESHOLD = 24 * 1024 * 1024

let nudge: unknown[] | null = null

/**
 * V8 shrinks its young generation after a GC only when the allocation rate it measured since the previous GC
 * is low but not zero; after 10 quiet seconds it is often exactly zero, and the young generation then stays at
 * the 32 MB the burst grew it to. A small allocation just before the GC makes the rate tiny instead (measured
 * in a standalone script: 32 → 1 MB with it, unchanged without).
 */
function nudgeAllocationRate(): void {
  nudge = new Array<unknown>(4096)
  for (let i = 0; i < nudge.length; i++) nudge[i] = { i }
  nudge = null
}

/** Bytes of heap V8 has committed (resident), all spaces. */
export function heapCommitted(): number {
  let n = 0
  for (const s of getHeapSpaceStatistics()) n += s.physical_space_size
  return n
}

export function memoryRelease(o: MemoryReleaseOptions = {}): MemoryRelease {
  const delay = o.settleDelay ?? SETTLE_DELAY
  let timer: NodeJS.Timeout | null = null
  let runs = 0
  /** Heap used right after the last release (0 before the first). */
  let live = 0
  const run = (): void => {
    timer = null
    const gc = o.gc === undefined ? gcFunctionOf() : o.gc
    if (gc === null || (o.committed ?? heapCommitted)() - live < GROWTH_THRESHOLD) return
    const before = process.memoryUsage().heapUsed
    const t0 = performance.now()
    // Compacting moves objects off half-empty pages so that those can be given back (measured at 10,000
    // services: 192 → 165 MB RSS), at the price of a longer pause. The flag is read per GC.
    setFlagsFromString('--compact-on-every-full-gc')
    try {
      nudgeAllocationRate()
      gc()
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc')
    }
    runs++
    live = process.memoryUsage().heapUsed
    o.onRelease?.(performance.now() - t0, before, live)
  }
  return {
    releaseSoon(): void {
      if (timer !== null) clearTimeout(timer)
      timer = setTimeout(run, delay)
      timer.unref()
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
