/** IPC message guards and the respawn backoff. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isFromWorker, isToWorker, respawnDelay } from '../../src/process/ipc.js'
import { recordObservation, replayRuns } from '../../src/health/view.js'

test('ipc: guards accept lb messages only', () => {
  assert.equal(isToWorker({ type: 'lb:stop', timeout: 1 }), true)
  assert.equal(isToWorker({ type: 'lb:hello' }), false)
  assert.equal(isFromWorker({ type: 'lb:hello' }), true)
  assert.equal(isFromWorker({ type: 'lb:ack', version: 1, error: null }), true)
  assert.equal(isToWorker({ type: 'lb:servers', state: { seq: 1, servers: [] } }), true)
  assert.equal(isFromWorker({ type: 'lb:servers-ack', seq: 1 }), true)
  assert.equal(isFromWorker({ type: 'lb:observe', reports: [] }), true)
  for (const other of [null, 1, 'lb:hello', {}, { type: 3 }, { cmd: 'NODE_CLUSTER' }])
    assert.equal(isToWorker(other) || isFromWorker(other), false, JSON.stringify(other))
})

test('ipc: respawnDelay is 0 for a first crash, then doubles from 100 ms up to the cap', () => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 0],
    [2, 100],
    [3, 200],
    [4, 400],
    [8, 6_400],
    [9, 10_000],
    [50, 10_000],
  ]
  for (const [crashes, want] of cases) assert.equal(respawnDelay(crashes), want, `${crashes} crashes`)
  assert.equal(respawnDelay(5, 300), 300)
})

const observations: { desc: string; seen: boolean[]; runs: number[] }[] = [
  { desc: 'nothing', seen: [], runs: [0] },
  { desc: 'failures only continue the count', seen: [false, false], runs: [2] },
  { desc: 'a success first resets', seen: [true, false], runs: [0, 1] },
  { desc: 'successes in a row are one reset', seen: [true, true, true], runs: [0, 0] },
  {
    desc: 'failure runs split by successes',
    seen: [false, true, false, false, true, true, false],
    runs: [1, 2, 1],
  },
  { desc: 'a trailing success is kept (it resets the count)', seen: [false, false, true], runs: [2, 0] },
]

for (const c of observations) {
  test(`ipc: observation runs, ${c.desc}`, () => {
    const runs = [0]
    for (const ok of c.seen) recordObservation(runs, ok)
    assert.deepEqual(runs, c.runs)
    // Replaying gives the same effect on a consecutive-error counter as seeing every result.
    const counter = (seq: boolean[]): number[] => {
      let n = 0
      const trace: number[] = []
      for (const ok of seq) trace.push((n = ok ? 0 : n + 1))
      return trace.filter((x, i, a) => x !== 0 || a[i - 1] !== 0)
    }
    const replayed: boolean[] = []
    replayRuns(runs, (ok) => replayed.push(ok))
    assert.deepEqual(counter(replayed), counter(c.seen))
  })
}
