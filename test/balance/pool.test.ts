import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { BalanceName, ServerSpec } from '../../src/model/snapshot.js'
import { Pool, selectBackend } from '../../src/balance/pool.js'
import { Backend, backendInit, isAvailable, type BackendInit } from '../../src/balance/backend.js'
import { pickers } from '../../src/balance/pickers.js'
import { mulberry32, picks, server, type ServerOptions } from './picker.cases.js'

const INIT: BackendInit = {
  service: 'svc',
  name: 'a',
  host: '10.0.0.1',
  port: 8080,
  weight: 10,
  backup: false,
  maxconn: 5,
}

test('Backend: every field is set by the constructor, in one shape', () => {
  const b = new Backend(INIT)
  assert.deepEqual(
    { ...b },
    {
      spec: INIT,
      serviceSpec: { name: 'svc' },
      weight: 10,
      effectiveWeight: 10,
      currentWeight: 0,
      maxconn: 5,
      inflight: 0,
      up: true,
      admin: 'ready',
    },
  )
  // The spec's constant fields are read through it, not copied.
  assert.deepEqual([b.service, b.name, b.host, b.port, b.backup], ['svc', 'a', '10.0.0.1', 8080, false])
  const c = new Backend({ ...INIT, up: false, admin: 'drain' })
  assert.deepEqual(Object.keys(c), Object.keys(b), 'same property order, so one hidden class')
  assert.equal(c.up, false)
  assert.equal(c.admin, 'drain')
})

test('Backend: a subclass keeps the base fields (class Upstream extends Backend)', () => {
  class Upstream extends Backend {
    readonly connections: number[]
    constructor(init: BackendInit) {
      super(init)
      this.connections = []
    }
  }
  const u = new Upstream(INIT)
  const p = new Pool('svc', 'roundrobin', [u])
  assert.equal(selectBackend(p, Math.random, null), u)
})

test('Backend: rejects weights and maxconn the pickers cannot use', () => {
  const table: readonly { desc: string; init: Partial<BackendInit> }[] = [
    { desc: 'negative weight', init: { weight: -1 } },
    { desc: 'weight above MAX_GENERATED_WEIGHT', init: { weight: 1_000_001 } },
    { desc: 'fractional weight', init: { weight: 1.5 } },
    { desc: 'NaN weight', init: { weight: NaN } },
    { desc: 'negative maxconn', init: { maxconn: -1 } },
    { desc: 'fractional maxconn', init: { maxconn: 0.5 } },
  ]
  for (const row of table) assert.throws(() => new Backend({ ...INIT, ...row.init }), RangeError, row.desc)
  assert.doesNotThrow(() => new Backend({ ...INIT, weight: 0, maxconn: 0 }))
  assert.doesNotThrow(() => new Backend({ ...INIT, weight: 256 }))
})

test('Backend.setWeight: sets weight and effectiveWeight, validates', () => {
  const b = new Backend(INIT)
  b.setWeight(0)
  assert.equal(b.weight, 0)
  assert.equal(b.effectiveWeight, 0)
  b.setWeight(256)
  assert.equal(b.effectiveWeight, 256)
  assert.throws(() => b.setWeight(1_000_001), RangeError)
  assert.equal(b.weight, 256, 'unchanged after a rejected value')
})

test('backendInit: snapshot state → up + admin', () => {
  const spec: ServerSpec = { name: 'a', host: 'h', port: 1, weight: 3, backup: true, maxconn: 7, state: 'up' }
  const table = [
    { state: 'up', up: true, admin: 'ready' },
    { state: 'down', up: false, admin: 'ready' },
    { state: 'drain', up: true, admin: 'drain' },
    { state: 'maint', up: true, admin: 'maint' },
  ] as const
  for (const row of table) {
    const init = backendInit('svc', { ...spec, state: row.state })
    assert.deepEqual(
      init,
      {
        service: 'svc',
        name: 'a',
        host: 'h',
        port: 1,
        weight: 3,
        backup: true,
        maxconn: 7,
        up: row.up,
        admin: row.admin,
      },
      row.state,
    )
  }
})

test('isAvailable', () => {
  const table: readonly { desc: string; options: ServerOptions; want: boolean }[] = [
    { desc: 'ready', options: {}, want: true },
    { desc: 'down', options: { up: false }, want: false },
    { desc: 'drain', options: { admin: 'drain' }, want: false },
    { desc: 'maint', options: { admin: 'maint' }, want: false },
    { desc: 'weight 0', options: { weight: 0 }, want: false },
    { desc: 'maxconn 0 is unlimited', options: { maxconn: 0, inflight: 10_000 }, want: true },
    { desc: 'below maxconn', options: { maxconn: 3, inflight: 2 }, want: true },
    { desc: 'at maxconn', options: { maxconn: 3, inflight: 3 }, want: false },
  ]
  for (const row of table) assert.equal(isAvailable(server('a', row.options)), row.want, row.desc)
})

test('Pool: splits normal and backup servers, keeping list order', () => {
  const list = [server('x', { backup: true }), server('a'), server('y', { backup: true }), server('b')]
  const p = new Pool('svc', 'leastconn', list)
  assert.deepEqual(
    p.normal.map((b) => b.name),
    ['a', 'b'],
  )
  assert.deepEqual(
    p.backup.map((b) => b.name),
    ['x', 'y'],
  )
  assert.equal(p.picker, pickers.leastconn)
  assert.equal(p.service, 'svc')
  assert.equal(p.balance, 'leastconn')
})

test('Pool: the static-rr sequence is only built for static-rr', () => {
  const list = () => [server('a', { weight: 2 }), server('b'), server('x', { backup: true, weight: 3 })]
  const s = new Pool('svc', 'static-rr', list())
  assert.deepEqual([...s.normalState.sequence], [0, 1, 0])
  assert.deepEqual([...s.backupState.sequence], [0])
  const r = new Pool('svc', 'roundrobin', list())
  assert.equal(r.normalState.sequence.length, 0)
})

test('Pool: rejects an unknown balance name', () => {
  assert.throws(() => new Pool('svc', 'source' as BalanceName, []), TypeError)
  assert.throws(() => new Pool('svc', 'toString' as BalanceName, []), TypeError)
})

test('pickers with per-list state reject a list that is not the pool’s', () => {
  const p = new Pool('svc', 'leastconn', [server('a')])
  const foreign = [server('a')]
  for (const name of ['leastconn', 'static-rr'] as const) {
    assert.throws(() => pickers[name](p, foreign, Math.random, null), TypeError, name)
  }
})

test('selectBackend: backup rules', () => {
  const table: readonly { desc: string; servers: readonly [string, ServerOptions][]; want: string }[] = [
    { desc: 'no servers', servers: [], want: '- -' },
    { desc: 'backups only', servers: [['x', { backup: true }]], want: 'x x' },
    { desc: 'normal down, no backups', servers: [['a', { up: false }]], want: '- -' },
    {
      desc: 'normal at weight 0 is not usable: backups take over (haproxy)',
      servers: [
        ['a', { weight: 0 }],
        ['x', { backup: true }],
      ],
      want: 'x x',
    },
    {
      desc: 'all backups unavailable',
      servers: [
        ['a', { up: false }],
        ['x', { backup: true, admin: 'maint' }],
        ['y', { backup: true, maxconn: 1, inflight: 1 }],
      ],
      want: '- -',
    },
    {
      desc: 'backups ignore the pool algorithm: first available in order',
      servers: [
        ['a', { admin: 'maint' }],
        ['x', { backup: true, weight: 1 }],
        ['y', { backup: true, weight: 256 }],
      ],
      want: 'x x',
    },
  ]
  for (const balance of Object.keys(pickers) as BalanceName[]) {
    for (const row of table) {
      const p = new Pool(
        'svc',
        balance,
        row.servers.map(([name, o]) => server(name, o)),
      )
      assert.equal(picks(p, 2, mulberry32(1)), row.want, `${balance}: ${row.desc}`)
    }
  }
})
