import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HealthHistory, HISTORY_SIZE } from '../../src/health/history.js'
import type { HealthStatus } from '../../src/health/view.js'
import type { ProbeResult } from '../../src/health/probes.js'

function status(checks: number, failed: number, up: boolean, last: ProbeResult | null, lastPassive = '') {
  const health: HealthStatus = {
    up,
    health: up ? 2 : 0,
    upSince: 0,
    last,
    lastPassive,
    checks,
    failedChecks: failed,
    downTransitions: 0,
  }
  return { seq: checks, servers: [{ id: 7, admin: null, weight: null, health }] }
}

const ok: ProbeResult = { ok: true, reason: 'L7OK', code: 200, duration: 3, detail: '' }
const bad: ProbeResult = { ok: false, reason: 'L7STS', code: 503, duration: 4, detail: 'HTTP status 503' }

test('health history: check results with their reasons and the state changes, bounded per server', () => {
  let t = 1_000
  const h = new HealthHistory(() => t)
  h.record(status(0, 0, true, null))
  h.record(status(1, 0, true, ok))
  t = 2_000
  h.record(status(2, 1, false, bad))
  // A status that is not a new check (a weight change) adds nothing.
  h.record(status(2, 1, false, bad))
  assert.deepEqual(
    h.of(7).map((e) => [e.at, e.kind, e.ok, e.result, e.detail]),
    [
      [1_000, 'check', true, 'L7OK 200', ''],
      [2_000, 'check', false, 'L7STS 503', 'HTTP status 503'],
      [2_000, 'state', false, 'DOWN', 'L7STS 503: HTTP status 503'],
    ],
  )
  // Passive: down without a new check.
  h.record(status(3, 1, true, ok))
  h.record(status(3, 1, false, ok, '3 consecutive failures'))
  assert.deepEqual(h.of(7).at(-1)?.detail, '3 consecutive failures')
  for (let i = 4; i < 100; i++) h.record(status(i, 1, false, ok))
  assert.equal(h.of(7).length, HISTORY_SIZE)
  h.retain((id) => id === 8)
  assert.deepEqual(h.of(7), [])
})
