import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Backend } from '../../src/balance/backend.js'
import { selectBackend } from '../../src/balance/pool.js'
import { mulberry32, picks, pool, runPickerCases, server } from './picker.cases.js'

runPickerCases('static-rr')

const NAMES = 'abcdefgh'

function weighted(weights: readonly number[]) {
  return pool(
    'static-rr',
    weights.map((weight, i) => server(NAMES.charAt(i), { weight })),
  )
}

test('static-rr: interleaved sequences from configured weights', () => {
  const table = [
    { desc: 'weights 5,1,1', weights: [5, 1, 1], want: 'a a a b c a a' },
    { desc: 'weights 2,2,1', weights: [2, 2, 1], want: 'a b c a b' },
    { desc: 'weights 3,1', weights: [3, 1], want: 'a a b a' },
    { desc: 'weights 4,2,2 reduce by their gcd', weights: [4, 2, 2], want: 'a b c a' },
    { desc: 'equal weights rotate in list order', weights: [7, 7, 7], want: 'a b c' },
    { desc: 'configured weight 0 is not in the sequence', weights: [1, 0, 2], want: 'c a c' },
  ]
  for (const row of table) {
    const p = weighted(row.weights)
    const n = row.want.split(' ').length
    assert.equal(p.normalState.sequence.length, n, `${row.desc}: sequence length`)
    assert.equal(picks(p, 2 * n), `${row.want} ${row.want}`, row.desc)
  }
})

test('static-rr: every server gets its exact share per cycle, spread smoothly', () => {
  const rand = mulberry32(123)
  const backends: Backend[] = []
  for (let i = 0; i < 100; i++) backends.push(server(`s${i}`, { weight: 1 + Math.floor(rand() * 256) }))
  const p = pool('static-rr', backends)
  const seq = p.normalState.sequence
  const total = backends.reduce((sum, b) => sum + b.weight, 0)
  assert.equal(seq.length, total) // random weights: gcd 1
  const count = new Array<number>(backends.length).fill(0)
  for (let t = 0; t < seq.length; t++) {
    const i = seq[t] as number
    count[i] = (count[i] as number) + 1
    // smooth: no prefix runs more than one pick ahead of (or behind) the exact proportional share
    const share = ((t + 1) * (backends[i] as Backend).weight) / total
    assert.ok(Math.abs((count[i] as number) - share) <= 1, `slot ${t}: s${i} has ${count[i]}, share ${share}`)
  }
  for (let i = 0; i < backends.length; i++) assert.equal(count[i], (backends[i] as Backend).weight, `s${i}`)
})

test('static-rr: runtime weight changes are ignored except 0', () => {
  const p = weighted([3, 1])
  const [a, b] = p.normal
  assert.ok(a !== undefined && b !== undefined)
  a.setWeight(1)
  assert.equal(picks(p, 4), 'a a b a', 'weight 3 → 1 ignored')
  b.setWeight(0)
  assert.equal(picks(p, 4), 'a a a a', 'weight 0 takes b out')
  b.setWeight(1)
  assert.equal(picks(p, 4), 'a b a a', 'weight back: b resumes its slots')
})

test('static-rr: a server configured with weight 0 stays out until the pool is rebuilt', () => {
  const p = weighted([1, 0])
  p.normal[1]?.setWeight(5)
  assert.equal(picks(p, 3), 'a a a')
})

test('static-rr: unavailable entries are skipped without reordering the rest', () => {
  const p = weighted([1, 1, 1])
  const b = p.normal[1]
  assert.ok(b !== undefined)
  b.up = false
  assert.equal(picks(p, 4), 'a c a c')
  b.up = true
  assert.equal(picks(p, 3), 'a b c')
})

test('static-rr: finds the one free server in a long sequence, or none', () => {
  const backends: Backend[] = []
  for (let i = 0; i < 50; i++) backends.push(server(`heavy${i}`, { weight: 256, maxconn: 1, inflight: 1 }))
  backends.push(server('light', { weight: 1, maxconn: 1 }))
  const p = pool('static-rr', backends)
  const light = p.normal[50]
  assert.ok(light !== undefined)
  assert.equal(selectBackend(p, Math.random, null), light)
  light.inflight = 1
  assert.equal(selectBackend(p, Math.random, null), undefined)
  assert.equal(selectBackend(p, Math.random, light), undefined)
  light.inflight = 0
  assert.equal(selectBackend(p, Math.random, light), light, 'avoid, alone')
})

test('static-rr: with every server full, a pick costs about one look per server, not one per slot', () => {
  let looks = 0
  const backends: Backend[] = []
  for (let i = 0; i < 49; i++) {
    const b = server(`s${i}`, { weight: 256, maxconn: 1, inflight: 1 })
    let up = true
    Object.defineProperty(b, 'up', {
      get: () => (looks++, up),
      set: (v: boolean) => (up = v),
    })
    backends.push(b)
  }
  backends.push(server('odd', { weight: 1, maxconn: 1, inflight: 1 }))
  const p = pool('static-rr', backends)
  assert.equal(p.normalState.sequence.length, 49 * 256 + 1)
  assert.equal(selectBackend(p, Math.random, null), undefined)
  assert.ok(looks <= 3 * 50, `${looks} looks`)
})
