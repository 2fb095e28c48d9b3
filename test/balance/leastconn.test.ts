import assert from 'node:assert/strict'
import { test } from 'node:test'
import { selectBackend } from '../../src/balance/pool.js'
import { mulberry32, picks, pool, runPickerCases, server, type ServerOptions } from './picker.cases.js'

runPickerCases('leastconn', {
  skip: {
    'distribution follows weights (requests end at once)':
      'with no load every server ties and leastconn round-robins, ignoring weight (as haproxy does)',
  },
})

const NAMES = 'abcdefgh'

test('leastconn: picks the lowest inflight / weight', () => {
  const table: readonly { desc: string; servers: readonly ServerOptions[]; want: string }[] = [
    { desc: 'fewest requests', servers: [{ inflight: 3 }, { inflight: 1 }, { inflight: 2 }], want: 'b' },
    {
      desc: 'load is relative to weight',
      servers: [
        { weight: 3, inflight: 5 },
        { weight: 1, inflight: 2 },
      ],
      want: 'a',
    },
    {
      desc: 'idle beats any load',
      servers: [
        { weight: 256, inflight: 1 },
        { weight: 1, inflight: 0 },
      ],
      want: 'b',
    },
    {
      desc: 'unavailable servers are ignored however idle',
      servers: [{ inflight: 9 }, { up: false }, { admin: 'drain' }, { maxconn: 1, inflight: 1 }],
      want: 'a',
    },
  ]
  for (const row of table) {
    const p = pool(
      'leastconn',
      row.servers.map((o, i) => server(NAMES.charAt(i), o)),
    )
    assert.equal(selectBackend(p, mulberry32(1), null)?.name, row.want, row.desc)
  }
})

test('leastconn: equal load takes turns', () => {
  const table: readonly { desc: string; servers: readonly ServerOptions[]; want: string }[] = [
    { desc: 'all idle', servers: [{}, {}, {}], want: 'a b c a b c' },
    { desc: 'the loaded server waits', servers: [{}, { inflight: 5 }, {}], want: 'a c a c' },
    {
      desc: 'equal ratios compare exactly (1/3 = 2/6)',
      servers: [
        { weight: 3, inflight: 1 },
        { weight: 6, inflight: 2 },
      ],
      want: 'a b a b',
    },
  ]
  for (const row of table) {
    const p = pool(
      'leastconn',
      row.servers.map((o, i) => server(NAMES.charAt(i), o)),
    )
    assert.equal(picks(p, row.want.split(' ').length), row.want, row.desc)
  }
})

test('leastconn: held requests spread by weight', () => {
  const p = pool('leastconn', [server('a', { weight: 2 }), server('b', { weight: 1 })])
  for (let i = 0; i < 300; i++) {
    const b = selectBackend(p, mulberry32(1), null)
    assert.ok(b !== undefined)
    b.inflight++
  }
  assert.deepEqual(
    p.normal.map((b) => b.inflight),
    [200, 100],
  )
})

test('leastconn: a request ending makes its server the next pick', () => {
  const p = pool('leastconn', [
    server('a', { inflight: 4 }),
    server('b', { inflight: 4 }),
    server('c', { inflight: 4 }),
  ])
  const c = p.normal[2]
  assert.ok(c !== undefined)
  c.inflight--
  assert.equal(picks(p, 1), 'c')
})
