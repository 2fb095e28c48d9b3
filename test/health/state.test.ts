/** haproxy's health counter, fed the sequences from its source (docs/haproxy.md, health checks). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  checkDelay,
  describeHealth,
  goodLayer7Status,
  initialHealth,
  isUp,
  nextHealth,
  passiveHealth,
  slowstartWeight,
  type HealthParams,
  type InitState,
  type OnError,
} from '../../src/health/state.js'

/** `+` = passed check, `-` = failed check; the expected UP/DOWN after each result, as a string of U/D. */
const sequences: readonly {
  desc: string
  p: HealthParams
  init: InitState
  results: string
  states: string
  health?: readonly number[]
}[] = [
  {
    desc: 'default init (health = rise): the first failure marks down',
    p: { rise: 2, fall: 3 },
    init: 'up',
    results: '-',
    states: 'D',
    health: [0],
  },
  {
    desc: 'fully up: down on exactly the fall-th consecutive failure',
    p: { rise: 2, fall: 3 },
    init: 'fully-up',
    results: '---',
    states: 'UUD',
    health: [3, 2, 0],
  },
  {
    desc: 'a pass in between refills the counter: fall more failures needed again',
    p: { rise: 2, fall: 3 },
    init: 'fully-up',
    results: '--+---',
    states: 'UUUUUD',
    health: [3, 2, 4, 3, 2, 0],
  },
  {
    desc: 'fully down: up on exactly the rise-th consecutive pass, then jumps to fully up',
    p: { rise: 2, fall: 3 },
    init: 'fully-down',
    results: '++',
    states: 'DU',
    health: [1, 4],
  },
  {
    desc: 'a failure while rising clamps back to 0',
    p: { rise: 3, fall: 2 },
    init: 'fully-down',
    results: '++-+++',
    states: 'DDDDDU',
    health: [1, 2, 0, 1, 2, 4],
  },
  {
    desc: 'init down (rise - 1): the first pass brings it up',
    p: { rise: 2, fall: 2 },
    init: 'down',
    results: '+',
    states: 'U',
    health: [3],
  },
  {
    desc: 'the counter saturates at both ends',
    p: { rise: 1, fall: 1 },
    init: 'fully-up',
    results: '++--++',
    states: 'UUDDUU',
    health: [1, 1, 0, 0, 1, 1],
  },
  {
    desc: 'rise 2 fall 2 (the apiserver case): down after 2, up after 2',
    p: { rise: 2, fall: 2 },
    init: 'up',
    results: '+--++',
    states: 'UUDDU',
    health: [3, 2, 0, 1, 3],
  },
]

for (const s of sequences) {
  test(`nextHealth: ${s.desc}`, () => {
    let h = initialHealth(s.init, s.p)
    let states = ''
    const healths: number[] = []
    for (const r of s.results) {
      h = nextHealth(h, r === '+', s.p)
      healths.push(h)
      states += isUp(h, s.p) ? 'U' : 'D'
    }
    assert.equal(states, s.states)
    if (s.health !== undefined) assert.deepEqual(healths, s.health)
  })
}

test('initialHealth: the four init states', () => {
  const p = { rise: 2, fall: 3 }
  assert.deepEqual(
    (['up', 'fully-up', 'down', 'fully-down'] as const).map((i) => [
      initialHealth(i, p),
      isUp(initialHealth(i, p), p),
    ]),
    [
      [2, true],
      [4, true],
      [1, false],
      [0, false],
    ],
  )
})

const passive: readonly { desc: string; action: OnError; from: number; to: number; up: boolean }[] = [
  { desc: 'fastinter keeps the counter', action: 'fastinter', from: 4, to: 4, up: true },
  { desc: 'fail-check from fully up: one failure', action: 'fail-check', from: 4, to: 3, up: true },
  { desc: 'fail-check at rise: down', action: 'fail-check', from: 2, to: 0, up: false },
  {
    desc: 'sudden-death from fully up: one step from down',
    action: 'sudden-death',
    from: 4,
    to: 2,
    up: true,
  },
  { desc: 'mark-down from fully up: down now', action: 'mark-down', from: 4, to: 0, up: false },
  { desc: 'mark-down while down stays at 0', action: 'mark-down', from: 1, to: 0, up: false },
]
for (const c of passive) {
  test(`passiveHealth: ${c.desc}`, () => {
    const p = { rise: 2, fall: 3 }
    const h = passiveHealth(c.from, c.action, p)
    assert.equal(h, c.to)
    assert.equal(isUp(h, p), c.up)
  })
}

test('passiveHealth: after sudden-death the next failed check marks down', () => {
  const p = { rise: 2, fall: 3 }
  const h = passiveHealth(4, 'sudden-death', p)
  assert.equal(isUp(nextHealth(h, false, p), p), false)
})

test('checkDelay: inter fully up, downinter fully down, fastinter in between and before the first check', () => {
  const p = { rise: 2, fall: 3 }
  const t = { inter: 10_000, fastinter: 1_000, downinter: 5_000 }
  assert.equal(checkDelay(4, p, t), 10_000)
  assert.equal(checkDelay(0, p, t), 5_000)
  assert.equal(checkDelay(initialHealth('up', p), p, t), 1_000)
  assert.equal(checkDelay(3, p, t), 1_000)
  assert.equal(checkDelay(1, p, t), 1_000)
  assert.equal(checkDelay(0, p, { inter: 2_000, fastinter: 0, downinter: 0 }), 2_000)
  assert.equal(checkDelay(2, p, { inter: 2_000, fastinter: 0, downinter: 0 }), 2_000)
})

test('describeHealth: haproxy status strings', () => {
  const p = { rise: 2, fall: 3 }
  assert.deepEqual(
    [4, 3, 2, 1, 0].map((h) => describeHealth(h, p)),
    ['UP 3/3', 'UP 2/3', 'UP 1/3', 'DOWN 1/2', 'DOWN 0/2'],
  )
})

test('goodLayer7Status: 100-499, 501, 505', () => {
  const good = [100, 200, 302, 404, 499, 501, 505]
  const bad = [500, 502, 503, 504, 506, 599, 0]
  for (const s of good) assert.equal(goodLayer7Status(s), true, String(s))
  for (const s of bad) assert.equal(goodLayer7Status(s), false, String(s))
})

test('slowstartWeight: linear ramp from 1 to the full weight', () => {
  assert.deepEqual(
    [0, 2_500, 5_000, 7_500, 10_000, 20_000].map((e) => slowstartWeight(100, e, 10_000)),
    [1, 25, 50, 75, 100, 100],
  )
  assert.equal(slowstartWeight(100, 5_000, 0), 100)
  assert.equal(slowstartWeight(0, 5_000, 10_000), 0)
})
