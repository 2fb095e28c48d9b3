/**
 * memory.ts: one GC `settleDelay` after the last burst (re-armed by each call), none when RSS has not
 * grown, none after close(); then scavenges until the young generation has shrunk; and this Node does yield
 * V8's gc function (else releasing is a no-op), whose `{ type: 'minor' }` is a scavenge.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { PerformanceObserver, constants } from 'node:perf_hooks'
import { GROWTH_THRESHOLD, YOUNG_ATTEMPTS, YOUNG_SMALL, memoryRelease } from '../../src/process/memory.js'
import { nodeInternals } from '../../src/net/node-internals.js'
import { gcsAfterBursts } from '../helpers/memory-release.js'

test('a GC runs once, settleDelay after the last of several bursts', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    let gcs = 0
    const released: number[] = []
    const m = memoryRelease({
      settleDelay: 10_000,
      gc: () => gcs++,
      resident: () => Number.MAX_SAFE_INTEGER,
      onRelease: (ms) => released.push(ms),
    })
    m.releaseSoon()
    mock.timers.tick(6_000)
    m.releaseSoon() // a second burst re-arms the delay
    mock.timers.tick(9_999)
    assert.equal(gcs, 0)
    mock.timers.tick(1)
    assert.equal(gcs, 1)
    assert.equal(m.runs, 1)
    assert.equal(released.length, 1)
    mock.timers.tick(60_000)
    assert.equal(gcs, 1)
  } finally {
    mock.timers.reset()
  }
})

test('no GC when the heap has not grown, or after close()', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    let gcs = 0
    const idle = memoryRelease({ settleDelay: 1_000, gc: () => gcs++, resident: () => 0 })
    idle.releaseSoon()
    mock.timers.tick(1_000)
    const closed = memoryRelease({
      settleDelay: 1_000,
      gc: () => gcs++,
      resident: () => Number.MAX_SAFE_INTEGER,
    })
    closed.releaseSoon()
    closed.close()
    mock.timers.tick(1_000)
    assert.equal(gcs, 0)
  } finally {
    mock.timers.reset()
  }
})

test('a GC runs only when RSS grew by GROWTH_THRESHOLD over what it was after the last one', () => {
  // RSS, not V8's committed heap: pages a GC of V8's own freed stay resident in its page pool (memory.ts). Before
  // the first release it counts from 0; then relative to RSS right after the last GC.
  const MB = 1024 * 1024
  assert.deepEqual(
    gcsAfterBursts([
      GROWTH_THRESHOLD - 1,
      100 * MB,
      100 * MB + GROWTH_THRESHOLD - 1,
      100 * MB + GROWTH_THRESHOLD,
    ]),
    [0, 1, 1, 2],
  )
})

test('the RSS after the scavenges that shrank the young generation is what the next growth counts from', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const MB = 1024 * 1024
    let resident = 200 * MB
    let young = 32 * MB
    let fulls = 0
    const m = memoryRelease({
      settleDelay: 1_000,
      gc: (options) => {
        if (options?.type !== 'minor') fulls++
        else {
          young = YOUNG_SMALL // the scavenge shrinks it, and RSS with it
          resident = 180 * MB
        }
      },
      resident: () => resident,
      young: () => young,
    })
    m.releaseSoon()
    mock.timers.tick(1_000)
    assert.equal(fulls, 1)
    assert.equal(young, YOUNG_SMALL)
    // Grown by GROWTH_THRESHOLD over the 180 MB after the scavenge (not over the 200 MB after the full GC).
    resident = 180 * MB + GROWTH_THRESHOLD
    young = 32 * MB
    m.releaseSoon()
    mock.timers.tick(1_000)
    assert.equal(fulls, 2)
  } finally {
    mock.timers.reset()
  }
})

test('after a release, one scavenge a second until the young generation has shrunk, at most YOUNG_ATTEMPTS', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const calls: string[] = []
    let young = 32 * 1024 * 1024
    let minorToShrink = 3 // V8 shrinks it at the third scavenge
    let rss = 0
    const shrunk: number[] = []
    const m = memoryRelease({
      settleDelay: 1_000,
      gc: (options) => {
        calls.push(options?.type === 'minor' ? 'minor' : 'full')
        if (options?.type === 'minor' && --minorToShrink === 0) young = YOUNG_SMALL
      },
      resident: () => (rss += GROWTH_THRESHOLD), // grown again at every look,
      young: () => young,
      onYoungShrunk: (n) => shrunk.push(n),
    })
    m.releaseSoon()
    mock.timers.tick(1_000)
    assert.deepEqual(calls, ['full', 'minor'])
    mock.timers.tick(999)
    assert.deepEqual(calls, ['full', 'minor'])
    mock.timers.tick(1)
    assert.deepEqual(calls, ['full', 'minor', 'minor'])
    mock.timers.tick(1_000)
    assert.deepEqual(calls, ['full', 'minor', 'minor', 'minor'])
    assert.deepEqual(shrunk, [3])
    for (let i = 0; i < 60; i++) mock.timers.tick(1_000)
    assert.equal(calls.length, 4)

    // It never shrinks: YOUNG_ATTEMPTS scavenges, then it gives up.
    young = 32 * 1024 * 1024
    minorToShrink = Infinity
    calls.length = 0
    m.releaseSoon()
    for (let i = 0; i < 61; i++) mock.timers.tick(1_000)
    assert.deepEqual(calls, ['full', ...Array<string>(YOUNG_ATTEMPTS).fill('minor')])
    assert.deepEqual(shrunk, [3])

    // Already small after the full GC: no scavenge.
    young = YOUNG_SMALL
    calls.length = 0
    m.releaseSoon()
    for (let i = 0; i < 61; i++) mock.timers.tick(1_000)
    assert.deepEqual(calls, ['full'])
    assert.deepEqual(shrunk, [3, 0])
  } finally {
    mock.timers.reset()
  }
})

test("V8's gc runs a scavenge, not a full GC, with { type: 'minor' } (none with internals off)", async () => {
  const gc = nodeInternals.gc()
  if (!nodeInternals.enabled) {
    assert.equal(gc, null)
    return
  }
  assert.ok(gc !== null, 'gc function not found: releasing memory would be a no-op on this Node')
  const kinds: number[] = []
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) kinds.push((e as unknown as { detail: { kind: number } }).detail.kind)
  })
  observer.observe({ entryTypes: ['gc'] })
  try {
    gc({ type: 'minor' })
    // GC entries reach observers asynchronously; a few turns of the event loop deliver them.
    for (let i = 0; i < 100 && kinds.length === 0; i++) await new Promise((resolve) => setImmediate(resolve))
  } finally {
    observer.disconnect()
  }
  assert.ok(kinds.includes(constants.NODE_PERFORMANCE_GC_MINOR), `gc kinds seen: ${kinds.join(',')}`)
  assert.ok(!kinds.includes(constants.NODE_PERFORMANCE_GC_MAJOR), `gc kinds seen: ${kinds.join(',')}`)
})
