/**
 * The checker's timer tick follows the checks: 1/20 of the shortest interval or timeout configured, 10–50 ms, so
 * checks due within one tick start together and none starts more than 5 % late. Fake probes, mock timers.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { HealthChecker, MAX_TICK, MIN_TICK, tickFor, type StartProbeFn } from '../../src/health/checker.js'
import type { HealthTarget } from '../../src/health/server-health.js'
import { checkDefaults } from '../../src/config/defaults.js'
import type { HealthCheckSpec } from '../../src/model/snapshot.js'

test('tickFor: 1/20 of the shortest interval or timeout, between 10 and 50 ms', () => {
  const cases = [
    { desc: 'inter 1s', shortest: 1_000, want: 50 },
    { desc: 'inter 2s (default)', shortest: 2_000, want: 50 },
    { desc: 'fastinter 600ms', shortest: 600, want: 30 },
    { desc: 'fastinter 200ms', shortest: 200, want: MIN_TICK },
    { desc: 'timeout 50ms', shortest: 50, want: MIN_TICK },
    { desc: 'no active checks', shortest: Infinity, want: MAX_TICK },
  ]
  for (const c of cases) assert.equal(tickFor(c.shortest), c.want, c.desc)
})

test('checker tick: follows the shortest interval or timeout of the active checks, recomputed on sync', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 })
  const started: string[] = []
  const probe: StartProbeFn = (_spec, target, _now, owner, done) => {
    started.push(`${Date.now()} ${target.port}`)
    setTimeout(() => done(owner, { ok: true, reason: 'L4OK', code: 0, detail: '', duration: 1 }), 1)
    return { expire: () => {} }
  }
  const checker = new HealthChecker({
    now: () => Date.now(),
    rand: () => 0.5,
    onChange: () => {},
    startProbe: probe,
  })
  const advance = (ms: number): void => {
    for (let t = 0; t < ms; t += 5) mock.timers.tick(Math.min(5, ms - t))
  }
  const slow: HealthCheckSpec = { ...checkDefaults, inter: 1_000, initState: 'fully-up' }
  const consul: HealthCheckSpec = { ...checkDefaults, inter: 100, source: 'consul' }
  const targets = [1, 2, 3].map((port): HealthTarget => ({
    label: `s${port}`,
    host: '127.0.0.1',
    port,
    address: '',
  }))
  const other: HealthTarget = { label: 'consul', host: '127.0.0.1', port: 9, address: '' }
  try {
    // Three servers added together start at 0, 333 and 666 ms; on a 50 ms tick those run at 0, 350, 700.
    const wanted = new Map(targets.map((t) => [t, { spec: slow, observe: null, slowstart: 0 }]))
    checker.sync(wanted)
    assert.equal(checker.tick, 50)
    mock.timers.tick(0)
    advance(1_000)
    assert.deepEqual(started, ['0 1', '350 2', '700 3', '1000 1'])
    // A faster spec on one server: the tick drops to 10 ms (s2's next check, due at 1333, runs at 1340; s3's
    // changed spec restarts its cadence from now). A Consul-checked server's 100 ms does not count.
    wanted.set(other, { spec: consul, observe: null, slowstart: 0 })
    wanted.set(targets[2] as HealthTarget, {
      spec: { ...slow, fastinter: 200, initState: 'fully-up' },
      observe: null,
      slowstart: 0,
    })
    checker.sync(wanted)
    assert.equal(checker.tick, 10)
    started.length = 0
    advance(1_000)
    assert.deepEqual(started, ['1340 2', '2000 3', '2000 1'])
  } finally {
    checker.stop()
    mock.timers.reset()
  }
})
