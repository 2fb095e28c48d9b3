import assert from 'node:assert/strict'
import { test } from 'node:test'
import { selectBackend } from '../../src/balance/pool.js'
import { mulberry32, picks, pool, runPickerCases, server } from './picker.cases.js'

const IGNORES_WEIGHT = 'first ignores weight: every pick goes to the first server with a free slot'

runPickerCases('first', {
  skip: {
    'distribution follows weights (requests end at once)': IGNORES_WEIGHT,
    'distribution follows weights (requests held open)': IGNORES_WEIGHT,
  },
})

test('first: list order, weight ignored (except 0)', () => {
  const p = pool('first', [
    server('z', { weight: 0 }),
    server('a', { weight: 1 }),
    server('b', { weight: 100 }),
  ])
  assert.equal(picks(p, 3), 'a a a')
})

test('first: fills a server to maxconn, then spills to the next', () => {
  const p = pool('first', [
    server('a', { maxconn: 2 }),
    server('b', { maxconn: 1 }),
    server('c', { maxconn: 0 }),
  ])
  const rand = mulberry32(1)
  const got: string[] = []
  for (let i = 0; i < 5; i++) {
    const b = selectBackend(p, rand, null)
    assert.ok(b !== undefined)
    b.inflight++
    got.push(b.name)
  }
  assert.equal(got.join(' '), 'a a b c c')
  const a = p.normal[0]
  assert.ok(a !== undefined)
  a.inflight--
  assert.equal(picks(p, 1), 'a', 'a freed slot goes back to the first server')
})
