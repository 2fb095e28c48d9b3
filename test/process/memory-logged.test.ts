/**
 * loggedMemoryRelease (the primary's and a cluster worker's): both steps are logged at info, naming the burst,
 * with the heap and RSS figures; and which applies count as large in a cluster worker.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { YOUNG_SMALL, loggedMemoryRelease } from '../../src/process/memory.js'
import { LARGE_APPLY, isLargeApply } from '../../src/process/worker-process.js'
import type { Snapshot } from '../../src/model/snapshot.js'

test('both steps of a release are logged, naming the burst', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const lines: [Record<string, unknown>, string][] = []
    let young = 32 * 1024 * 1024
    const m = loggedMemoryRelease(
      { info: (fields: Record<string, unknown>, msg: string) => lines.push([fields, msg]) } as never,
      'applying a large table',
      {
        settleDelay: 1_000,
        gc: (options) => {
          if (options?.type === 'minor') young = YOUNG_SMALL
        },
        resident: () => Number.MAX_SAFE_INTEGER,
        young: () => young,
      },
    )
    m.releaseSoon()
    mock.timers.tick(1_000)
    assert.deepEqual(
      lines.map(([, msg]) => msg),
      [
        'memory released after applying a large table',
        'young generation released after applying a large table',
      ],
    )
    const [released, shrunk] = lines.map(([fields]) => fields)
    assert.deepEqual(Object.keys(released ?? {}).sort(), [
      'heapCommittedMB',
      'heapUsedMB',
      'ms',
      'newSpaceMB',
      'rssMB',
    ])
    assert.equal((shrunk ?? {}).minorGcs, 1)
    assert.ok(typeof (shrunk ?? {}).rssMB === 'number' && ((shrunk ?? {}).rssMB as number) > 0)
  } finally {
    mock.timers.reset()
  }
})

test('a cluster worker counts an apply as large from LARGE_APPLY services', () => {
  const snapshot = (n: number): Snapshot =>
    ({
      services: Array.from({ length: n }, (_, i) => ({ name: `s${i}` })),
      routes: [],
      tcpRoutes: [],
    }) as never
  assert.equal(isLargeApply(snapshot(LARGE_APPLY - 1)), false)
  assert.equal(isLargeApply(snapshot(LARGE_APPLY)), true)
})
