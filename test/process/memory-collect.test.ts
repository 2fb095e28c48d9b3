/**
 * memory.ts `collect()`: V8's last-resort GC at once (it gives back the pages and young generation a burst grew),
 * not a release (no timer armed, `runs` unchanged); nothing without a GC function or below COLLECT_FROM bytes of
 * heap in use; logged at info, naming the burst.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { COLLECT_FROM, loggedMemoryRelease, memoryRelease } from '../../src/process/memory.js'
import type { GcFunction } from '../../src/net/node-internals.js'

const LAST_RESORT = { type: 'major', execution: 'sync', flavor: 'last-resort' }

test('collect() runs one last-resort GC at once and arms nothing', () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const calls: unknown[][] = []
    const collected: number[] = []
    const m = memoryRelease({
      settleDelay: 1_000,
      gc: ((...args: unknown[]) => calls.push(args)) as GcFunction,
      resident: () => Number.MAX_SAFE_INTEGER,
      heapUsed: () => COLLECT_FROM,
      onCollect: (ms) => collected.push(ms),
    })
    m.collect()
    assert.deepEqual(calls, [[LAST_RESORT]])
    assert.equal(collected.length, 1)
    mock.timers.tick(60_000)
    assert.deepEqual(calls, [[LAST_RESORT]])
    assert.equal(m.runs, 0)
  } finally {
    mock.timers.reset()
  }
})

test('collect() does nothing without a GC function', () => {
  let collected = 0
  const m = memoryRelease({ gc: null, heapUsed: () => COLLECT_FROM, onCollect: () => collected++ })
  m.collect()
  assert.equal(collected, 0)
})

test('collect() does nothing below COLLECT_FROM bytes of heap in use', () => {
  let gcs = 0
  const m = memoryRelease({ gc: () => gcs++, heapUsed: () => COLLECT_FROM - 1 })
  m.collect()
  assert.equal(gcs, 0)
})

test('a logged collect names the burst, with the heap and RSS figures', () => {
  const lines: [Record<string, unknown>, string][] = []
  const m = loggedMemoryRelease(
    { info: (fields: Record<string, unknown>, msg: string) => lines.push([fields, msg]) } as never,
    'a discovery burst',
    { gc: () => {}, heapUsed: () => COLLECT_FROM },
  )
  m.collect()
  assert.deepEqual(
    lines.map(([, msg]) => msg),
    ['garbage collected in a discovery burst'],
  )
  assert.deepEqual(Object.keys(lines[0]?.[0] ?? {}).sort(), ['heapUsedMB', 'ms', 'rssMB'])
})
