/**
 * Probe timeouts come from the checker's schedule (no timer per check): a probe that has not reported by its
 * `timeout` is expired on the tick, a probe that reported is never expired, and stop / removal / maint expire
 * running probes without recording a result. Fake probes and node:test mock timers; real probes are in
 * probes*.test.ts.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { HealthChecker, type StartProbeFn } from '../../src/health/checker.js'
import type { HealthTarget } from '../../src/health/server-health.js'
import type { ProbeResult } from '../../src/health/probes.js'
import { checkDefaults } from '../../src/config/defaults.js'
import type { HealthCheckSpec } from '../../src/model/snapshot.js'

interface Started {
  at: number
  expiredAt: number | null
  reportedAt: number | null
}

/**
 * A probe that reports `ok` after `answerMs`, or never (Infinity); expire() reports L4TOUT. `unread`: the answer
 * arrives at `answerMs` but is handed over from a setImmediate, like socket data read after the timers phase.
 */
function fakeProbe(answerMs: number, started: Started[], unread = false): StartProbeFn {
  return (_spec, _target, _now, owner, done) => {
    const rec: Started = { at: Date.now(), expiredAt: null, reportedAt: null }
    started.push(rec)
    const report = (r: ProbeResult): void => {
      if (rec.reportedAt !== null) return
      rec.reportedAt = Date.now()
      done(owner, r)
    }
    if (answerMs !== Infinity) {
      const ok: ProbeResult = { ok: true, reason: 'L4OK', code: 0, detail: '', duration: answerMs }
      setTimeout(() => (unread ? setImmediate(() => report(ok)) : report(ok)), answerMs)
    }
    return {
      expire: () => {
        rec.expiredAt = Date.now()
        report({ ok: false, reason: 'L4TOUT', code: 0, detail: 'timeout', duration: Date.now() - rec.at })
      },
    }
  }
}

const spec: HealthCheckSpec = {
  ...checkDefaults,
  inter: 1_000,
  fastinter: 0,
  downinter: 0,
  timeout: 305,
  rise: 1,
  fall: 2,
  initState: 'fully-up',
}
/**
 * Mock time forward `ms` in 5 ms steps (node's mock timers read Date as the end of one big tick), letting the
 * checker's setImmediate (real: expiry waits for the loop to read sockets first) run after each step.
 */
async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 5) {
    mock.timers.tick(Math.min(5, ms - t))
    await new Promise((resolve) => setImmediate(resolve))
  }
}

const target: HealthTarget = { label: 'svc/a', host: '127.0.0.1', port: 1, address: '127.0.0.1' }

function setup(answerMs: number, unread = false) {
  const started: Started[] = []
  const results: string[] = []
  const changes: string[] = []
  const checker = new HealthChecker({
    now: () => Date.now(),
    rand: () => 0.5,
    tick: 10,
    onChange: (_h, up) => changes.push(`${Date.now()} ${up ? 'UP' : 'DOWN'}`),
    onResult: (_h, r) => results.push(`${Date.now()} ${r.reason}`),
    startProbe: fakeProbe(answerMs, started, unread),
  })
  checker.sync(new Map([[target, { spec, observe: null, slowstart: 0 }]]))
  mock.timers.tick(0)
  return { checker, started, results, changes }
}

test('checker timeouts: a silent probe is expired at its timeout, rounded up to the 10 ms tick', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 })
  const { checker, started, results, changes } = setup(Infinity)
  try {
    await advance(2_400)
    assert.deepEqual(
      started.map((s) => `${s.at} → ${s.expiredAt}`),
      ['0 → 310', '1000 → 1310', '2000 → 2310'],
    )
    assert.deepEqual(results, ['310 L4TOUT', '1310 L4TOUT', '2310 L4TOUT'])
    // fall 2: DOWN on the second timeout; the cadence stays one interval after the previous due time.
    assert.deepEqual(changes, ['1310 DOWN'])
    assert.equal(checker.get(target)?.last?.reason, 'L4TOUT')
  } finally {
    checker.stop()
    mock.timers.reset()
  }
})

test('checker timeouts: a probe that reports in time is never expired', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 })
  const { checker, started, results } = setup(50)
  try {
    await advance(2_400)
    assert.deepEqual(
      started.map((s) => `${s.at} ${s.reportedAt} ${s.expiredAt}`),
      ['0 50 null', '1000 1050 null', '2000 2050 null'],
    )
    assert.deepEqual(results, ['50 L4OK', '1050 L4OK', '2050 L4OK'])
  } finally {
    checker.stop()
    mock.timers.reset()
  }
})

test('checker timeouts: an answer that came in time but is still unread when the timer fires wins', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 })
  // The answer comes at 310 ms, the same timer turn as the deadline (305 ms on the 10 ms tick).
  const { checker, started, results } = setup(310, true)
  try {
    await advance(400)
    assert.deepEqual(
      started.map((s) => `${s.at} ${s.reportedAt} ${s.expiredAt}`),
      ['0 310 null'],
    )
    assert.deepEqual(results, ['310 L4OK'])
  } finally {
    checker.stop()
    mock.timers.reset()
  }
})

test('checker timeouts: stop, removal and maint expire a running probe and record nothing', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 })
  try {
    const stopped = setup(Infinity)
    await advance(100)
    stopped.checker.stop()
    await stopped.checker.settled()
    assert.deepEqual(
      stopped.started.map((s) => s.expiredAt),
      [100],
    )
    assert.deepEqual(stopped.results, [])
    assert.deepEqual(stopped.changes, [])

    const removed = setup(Infinity)
    await advance(100)
    removed.checker.sync(new Map())
    await removed.checker.settled()
    await advance(5_000)
    assert.deepEqual(
      removed.started.map((s) => s.expiredAt),
      [200],
    )
    assert.deepEqual(removed.results, [])
    removed.checker.stop()

    const maint = setup(Infinity)
    await advance(100)
    const h = maint.checker.get(target)
    assert.ok(h !== undefined)
    maint.checker.pause(h, true)
    await maint.checker.settled()
    await advance(5_000)
    assert.deepEqual(
      maint.started.map((s) => s.expiredAt),
      [5_300],
    )
    assert.deepEqual(maint.results, [])
    assert.equal(h.last, null)
    maint.checker.stop()
  } finally {
    mock.timers.reset()
  }
})
