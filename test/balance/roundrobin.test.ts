import assert from 'node:assert/strict'
import { test } from 'node:test'
import { picks, pool, runPickerCases, server } from './picker.cases.js'

runPickerCases('roundrobin')

const NAMES = 'abcdefgh'

function weighted(weights: readonly number[]) {
  return pool(
    'roundrobin',
    weights.map((weight, i) => server(NAMES.charAt(i), { weight })),
  )
}

test('roundrobin: smooth weighted sequences', () => {
  const table = [
    {
      desc: 'weights 5,1,1 (the nginx example), two cycles',
      weights: [5, 1, 1],
      want: 'a a b a c a a a a b a c a a',
    },
    { desc: 'equal weights rotate in list order', weights: [1, 1, 1], want: 'a b c a b c' },
    { desc: 'weights 2,1', weights: [2, 1], want: 'a b a a b a' },
    { desc: 'weight 0 is never picked', weights: [1, 0, 1], want: 'a c a c' },
  ]
  for (const row of table)
    assert.equal(picks(weighted(row.weights), row.want.split(' ').length), row.want, row.desc)
})

test('roundrobin: weight changes apply at the next pick', () => {
  const p = weighted([1, 1])
  assert.equal(picks(p, 2), 'a b')
  p.normal[0]?.setWeight(3)
  assert.equal(picks(p, 8), 'a a b a a a b a')
  p.normal[0]?.setWeight(0)
  assert.equal(picks(p, 3), 'b b b')
})

test('roundrobin: avoid sits the round out', () => {
  const p = weighted([1, 1, 1])
  assert.equal(picks(p, 4, undefined, p.normal[0] ?? null), 'b c b c')
  assert.equal(picks(p, 3), 'a b c')
})

test('roundrobin: a server that comes back rejoins the rotation', () => {
  const p = weighted([1, 1, 1])
  const b = p.normal[1]
  assert.ok(b !== undefined)
  b.up = false
  assert.equal(picks(p, 4), 'a c a c')
  b.up = true
  assert.equal(picks(p, 3).split(' ').sort().join(' '), 'a b c')
})
