/**
 * The request path's failure rules (src/proxy/request-path.ts): socket error codes to failure kinds, what each
 * kind answers (haproxy's statuses and termination states), and which failures may be retried.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { failureKind, failures, mayRetry, type FailureKind } from '../../src/proxy/request-path.js'

test('failureKind: connect errors by code, anything after the connect is a reset', () => {
  const cases: [string | undefined, boolean, FailureKind][] = [
    ['ECONNREFUSED', true, 'refused'],
    ['ETIMEDOUT', true, 'connect_timeout'],
    ['EHOSTUNREACH', true, 'connect_error'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', true, 'connect_error'],
    [undefined, true, 'connect_error'],
    ['ECONNRESET', false, 'reset'],
    ['EPIPE', false, 'reset'],
  ]
  for (const [code, connecting, want] of cases) {
    const err = code === undefined ? new Error('closed') : Object.assign(new Error(code), { code })
    assert.equal(failureKind(err, connecting), want, `${code} connecting=${connecting}`)
  }
})

test('failures: haproxy statuses and termination states', () => {
  const rows: [FailureKind, number, string][] = [
    ['refused', 503, 'SC'],
    ['connect_timeout', 503, 'sC'],
    ['connect_error', 503, 'SC'],
    ['no_server', 503, 'SC'],
    ['queue_timeout', 503, 'sQ'],
    ['server_timeout', 504, 'sH'],
    ['protocol', 502, 'PH'],
    ['reset', 502, 'SH'],
    ['body_timeout', 504, 'sD'],
    ['body_reset', 502, 'SD'],
  ]
  for (const [kind, status, termination] of rows) {
    assert.equal(failures[kind].status, status, kind)
    assert.equal(failures[kind].termination, termination, kind)
  }
  assert.equal(failures.refused.connectReason, 'refused')
  assert.equal(failures.connect_timeout.connectReason, 'timeout')
  assert.equal(failures.reset.connectReason, null)
})

test('mayRetry: connect failures always; a reset only on a reused connection for a replayable request', () => {
  for (const kind of ['refused', 'connect_timeout', 'connect_error'] as const)
    assert.equal(mayRetry(kind, false, false), true)
  assert.equal(mayRetry('reset', true, true), true)
  assert.equal(mayRetry('reset', false, true), false, 'fresh connection')
  assert.equal(mayRetry('reset', true, false), false, 'body or non-idempotent method')
  for (const kind of ['server_timeout', 'protocol', 'body_timeout', 'body_reset', 'queue_timeout'] as const)
    assert.equal(mayRetry(kind, true, true), false, kind)
})
