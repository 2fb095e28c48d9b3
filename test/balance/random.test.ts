import assert from 'node:assert/strict'
import { test } from 'node:test'
import { selectBackend } from '../../src/balance/pool.js'
import { mulberry32, picks, pool, runPickerCases, server, type ServerOptions } from './picker.cases.js'

runPickerCases('random')

const NAMES = 'abcdefgh'

/** A rand() that returns the given values in turn. */
function sequence(values: readonly number[]): () => number {
  let i = 0
  return () => values[i++ % values.length] as number
}

test('random: the same seed makes the same picks', () => {
  const p = () =>
    pool('random', [
      server('a', { weight: 2 }),
      server('b'),
      server('c', { weight: 3 }),
      server('d', { weight: 1 }),
    ])
  assert.equal(picks(p(), 30, mulberry32(99)), picks(p(), 30, mulberry32(99)))
  assert.notEqual(picks(p(), 30, mulberry32(99)), picks(p(), 30, mulberry32(100)))
})

test('random: two weighted draws, the less loaded wins', () => {
  const table: readonly {
    desc: string
    servers: readonly ServerOptions[]
    rand: readonly number[]
    want: string
  }[] = [
    {
      desc: 'second draw less loaded',
      servers: [{ inflight: 5 }, { inflight: 1 }],
      rand: [0.1, 0.9],
      want: 'b',
    },
    {
      desc: 'first draw less loaded',
      servers: [{ inflight: 1 }, { inflight: 5 }],
      rand: [0.1, 0.9],
      want: 'a',
    },
    {
      desc: 'a tie keeps the first draw',
      servers: [{ inflight: 2 }, { inflight: 2 }],
      rand: [0.9, 0.1],
      want: 'b',
    },
    {
      desc: 'both draws on one server (with replacement)',
      servers: [{ inflight: 5 }, { inflight: 0 }],
      rand: [0.1, 0.2],
      want: 'a',
    },
    {
      desc: 'draws are weighted (0.7 of 4 → a, 0.8 of 4 → b)',
      servers: [{ weight: 3 }, { weight: 1 }],
      rand: [0.7, 0.7],
      want: 'a',
    },
    {
      desc: 'draws are weighted, upper part',
      servers: [{ weight: 3 }, { weight: 1 }],
      rand: [0.8, 0.8],
      want: 'b',
    },
    {
      desc: 'load is relative to weight',
      servers: [
        { weight: 4, inflight: 6 },
        { weight: 1, inflight: 2 },
      ],
      rand: [0.99, 0.1],
      want: 'a',
    },
    {
      desc: 'unavailable servers take no draws',
      servers: [{ up: false }, { admin: 'maint' }, { inflight: 3 }],
      rand: [0, 0],
      want: 'c',
    },
    { desc: 'rand() returning 1 still lands on a server', servers: [{}, {}], rand: [1, 1], want: 'b' },
  ]
  for (const row of table) {
    const p = pool(
      'random',
      row.servers.map((o, i) => server(NAMES.charAt(i), o)),
    )
    assert.equal(selectBackend(p, sequence(row.rand), null)?.name, row.want, row.desc)
  }
})

test('random: avoid takes no draws', () => {
  const p = pool('random', [server('a'), server('b'), server('c')])
  // without avoid 0.1 and 0.2 of 3 both land on a; with a avoided they land on b (of 2)
  assert.equal(selectBackend(p, sequence([0.1, 0.2]), null)?.name, 'a')
  assert.equal(selectBackend(p, sequence([0.1, 0.2]), p.normal[0] ?? null)?.name, 'b')
})
