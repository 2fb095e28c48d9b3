/**
 * For the tests of memory.ts's growth threshold: a release with a stub GC, driven through bursts at given RSS.
 */
import { mock } from 'node:test'
import { memoryRelease, type MemoryReleaseOptions } from '../../src/process/memory.js'

/**
 * The full GCs a memoryRelease with `options` has run after each burst, the process's RSS being `residents[i]` at
 * burst i and the release settling after each (fake timers; the young generation reads as shrunk).
 */
export function gcsAfterBursts(
  residents: readonly number[],
  options: Pick<MemoryReleaseOptions, 'threshold'> = {},
): number[] {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    let gcs = 0
    let resident = 0
    const m = memoryRelease({
      ...options,
      settleDelay: 1_000,
      gc: (o) => {
        if (o?.type !== 'minor') gcs++
      },
      resident: () => resident,
      young: () => 0,
    })
    return residents.map((r) => {
      resident = r
      m.releaseSoon()
      mock.timers.tick(1_000)
      return gcs
    })
  } finally {
    mock.timers.reset()
  }
}
