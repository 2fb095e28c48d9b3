/** Duration syntax: `500ms`, `10s`, `5m`, `1h`, `1m30s`; plain integers are milliseconds. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatDuration, maxDurationMs, parseDuration } from '../../src/config/duration.js'

const accepted: { desc: string; input: unknown; ms: number }[] = [
  { desc: 'milliseconds', input: '500ms', ms: 500 },
  { desc: 'seconds', input: '10s', ms: 10_000 },
  { desc: 'minutes', input: '5m', ms: 300_000 },
  { desc: 'hours', input: '1h', ms: 3_600_000 },
  { desc: 'compound', input: '1m30s', ms: 90_000 },
  { desc: 'every unit', input: '1h2m3s4ms', ms: 3_723_004 },
  { desc: 'a fraction with a unit', input: '1.5s', ms: 1_500 },
  { desc: 'zero with a unit', input: '0s', ms: 0 },
  { desc: 'a plain integer is milliseconds', input: 250, ms: 250 },
  { desc: 'a string of digits is milliseconds', input: '250', ms: 250 },
  { desc: 'zero', input: 0, ms: 0 },
  { desc: 'surrounding spaces are ignored', input: ' 2s ', ms: 2_000 },
  { desc: 'the largest timer Node supports', input: maxDurationMs, ms: maxDurationMs },
]

for (const c of accepted) {
  test(`duration accepted: ${c.desc}`, () => {
    assert.deepEqual(parseDuration(c.input), { ok: true, ms: c.ms })
  })
}

const rejected: { desc: string; input: unknown; reason: string }[] = [
  { desc: 'negative number', input: -1, reason: 'must not be negative, got -1' },
  { desc: 'negative string', input: '-5s', reason: 'must not be negative, got "-5s"' },
  {
    desc: 'garbage',
    input: 'abc',
    reason: 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got "abc"',
  },
  { desc: 'missing unit on a fraction', input: '1.5', reason: 'missing unit in "1.5" (ms, s, m or h)' },
  {
    desc: 'a fractional plain number',
    input: 1.5,
    reason:
      'expected a duration like 500ms, 10s, 5m, 1h or 1m30s (a plain number is milliseconds and must be an integer)',
  },
  {
    desc: 'space between number and unit',
    input: '10 s',
    reason: 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got "10 s"',
  },
  {
    desc: 'upper-case unit',
    input: '10S',
    reason: 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got "10S"',
  },
  {
    desc: 'unknown unit',
    input: '1d',
    reason: 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got "1d"',
  },
  {
    desc: 'trailing garbage',
    input: '5s!',
    reason: 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got "5s!"',
  },
  {
    desc: 'empty string',
    input: '',
    reason: 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got an empty string',
  },
  {
    desc: 'below a millisecond',
    input: '0.5ms',
    reason: 'must be a whole number of milliseconds, got "0.5ms"',
  },
  { desc: 'longer than a Node timer', input: '600h', reason: 'too long (at most 596h31m23s647ms)' },
  {
    desc: 'not a string or number',
    input: true,
    reason: 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s',
  },
  {
    desc: 'infinity',
    input: Infinity,
    reason: 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got Infinity',
  },
]

for (const c of rejected) {
  test(`duration rejected: ${c.desc}`, () => {
    assert.deepEqual(parseDuration(c.input), { ok: false, reason: c.reason })
  })
}

const canonical: { desc: string; ms: number; text: string }[] = [
  { desc: 'zero', ms: 0, text: '0s' },
  { desc: 'milliseconds', ms: 500, text: '500ms' },
  { desc: 'seconds and milliseconds', ms: 1_500, text: '1s500ms' },
  { desc: 'minutes and seconds', ms: 90_000, text: '1m30s' },
  { desc: 'hours', ms: 3_600_000, text: '1h' },
  { desc: 'every unit', ms: 3_723_004, text: '1h2m3s4ms' },
]

for (const c of canonical) {
  test(`duration canonical form round-trips: ${c.desc}`, () => {
    assert.equal(formatDuration(c.ms), c.text)
    assert.deepEqual(parseDuration(c.text), { ok: true, ms: c.ms })
  })
}
