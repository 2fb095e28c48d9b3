/** Session ticket keys: the same for every process with one secret, per listener and rotation period. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { newTicketSecret, ticketKey, ticketPeriod, untilRotation } from '../../src/proxy/ticket-keys.js'

test('a key is 48 bytes, the same for the same secret, listener and period, else different', () => {
  const secret = newTicketSecret()
  const k = ticketKey(secret, 'web', 7)
  assert.equal(k.length, 48)
  assert.deepEqual(ticketKey(Buffer.from(secret), 'web', 7), k, 'another process with the same secret')
  assert.notDeepEqual(ticketKey(secret, 'web', 8), k, 'the next period')
  assert.notDeepEqual(ticketKey(secret, 'api', 7), k, 'another listener')
  assert.notDeepEqual(ticketKey(newTicketSecret(), 'web', 7), k, 'another lb')
})

test('periods and the time to the next boundary', () => {
  const cases = [
    { desc: 'never rotates', rotation: 0, now: 5_000, period: 0, until: Infinity },
    { desc: 'inside a period', rotation: 60_000, now: 130_000, period: 2, until: 50_000 },
    { desc: 'on a boundary: a whole period to go', rotation: 60_000, now: 120_000, period: 2, until: 60_000 },
  ]
  for (const c of cases) {
    assert.equal(ticketPeriod(c.rotation, c.now), c.period, c.desc)
    assert.equal(untilRotation(c.rotation, c.now), c.until, c.desc)
  }
})
