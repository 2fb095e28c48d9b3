/**
 * src/admin/explain.ts: the lookup trace for exact, wildcard, port, fallback, catch-all and no-route cases (always
 * agreeing with lookupHttp), ACL verdicts, and the pick preview, which must never move a picker's state.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Pool, selectBackend } from '../../src/balance/pool.js'
import { Backend } from '../../src/balance/backend.js'
import type { PathMatch } from '../../src/model/snapshot.js'
import { explainPick, explainRoute, formatExplain, previewPick } from '../../src/admin/explain.js'
import { buildTable } from '../../src/route/table.js'
import { lookupHttp } from '../../src/route/lookup.js'
import type { BalanceName } from '../../src/model/snapshot.js'
import { spec } from '../helpers/route-spec.js'

const routes = [
  spec('exact', 'example.com', '/'),
  spec('exact-api', 'example.com', '/api'),
  spec('port', 'example.com:8080', '/only8080'),
  spec('wild', '*.example.com', '/'),
  spec('deep', '*.a.example.com', '/deep'),
  spec('wild-port', '*.example.com:8080', '/p'),
  spec('fallback', '', '/'),
  spec('fallback-x', '', '/x/'),
]

const cases: {
  desc: string
  host: string
  path: string
  pathMatch?: PathMatch
  service: string | null
  /** host:kind of every candidate tried, in order */
  tried: string[]
}[] = [
  {
    desc: 'exact host, longest path',
    host: 'example.com',
    path: '/api/v1',
    service: 'exact-api',
    tried: ['example.com:exact'],
  },
  {
    desc: 'exact host, case and default port',
    host: 'EXAMPLE.com:443',
    path: '/',
    service: 'exact',
    tried: ['example.com:exact'],
  },
  { desc: 'wildcard', host: 'b.example.com', path: '/z', service: 'wild', tried: ['*.example.com:wildcard'] },
  {
    desc: 'more specific wildcard without a matching path falls to the next',
    host: 'x.a.example.com',
    path: '/other',
    service: 'wild',
    tried: ['*.a.example.com:wildcard', '*.example.com:wildcard'],
  },
  {
    desc: 'more specific wildcard',
    host: 'x.a.example.com',
    path: '/deep/1',
    service: 'deep',
    tried: ['*.a.example.com:wildcard'],
  },
  {
    desc: 'host:port exact',
    host: 'example.com:8080',
    path: '/only8080',
    service: 'port',
    tried: ['example.com:8080:exact'],
  },
  {
    desc: 'host:port falls back to the host without its port',
    host: 'example.com:8080',
    path: '/api',
    service: 'exact-api',
    tried: ['example.com:8080:exact', 'example.com:exact'],
  },
  {
    desc: 'port wildcard',
    host: 'q.example.com:8080',
    path: '/p',
    service: 'wild-port',
    tried: ['*.example.com:8080:wildcard'],
  },
  {
    desc: 'unknown host → catch-all',
    host: 'other.org',
    path: '/x/1',
    service: 'fallback-x',
    tried: [':catch-all'],
  },
  { desc: 'no Host header → catch-all', host: '', path: '/', service: 'fallback', tried: [':catch-all'] },
]

for (const c of cases) {
  test(`explainRoute: ${c.desc}`, () => {
    const table = buildTable(routes, { pathMatch: c.pathMatch ?? 'prefix' })
    const e = explainRoute(table, c.host, c.path)
    assert.equal(e.route?.service ?? null, c.service)
    assert.equal(
      e.route?.id,
      lookupHttp(table, c.host === '' ? undefined : c.host, c.path)?.id,
      'agrees with lookupHttp',
    )
    assert.deepEqual(
      e.candidates.map((x) => `${x.host}:${x.kind}`),
      c.tried,
    )
    const last = e.candidates.at(-1)
    assert.equal(last?.matched, e.route?.id)
  })
}

test('explainRoute: path verdicts name why each route of the host lost', () => {
  const table = buildTable(routes, { pathMatch: 'prefix' })
  const e = explainRoute(table, 'example.com', '/api/v1?q=1')
  assert.deepEqual(e.candidates[0]?.routes, [
    { id: 1, path: '/api', service: 'exact-api', matched: true, reason: '' },
    { id: 0, path: '/', service: 'exact', matched: false, reason: 'the longer path /api wins' },
  ])
  const miss = explainRoute(table, 'x.a.example.com', '/other')
  assert.equal(miss.candidates[0]?.routes[0]?.reason, 'path /deep is not a prefix of /other')
})

test('explainRoute: segment matching explains a prefix that is not at a boundary', () => {
  const table = buildTable([spec('foo', '', '/foo'), spec('root', '', '/')], { pathMatch: 'segment' })
  const e = explainRoute(table, 'h', '/foobar')
  assert.equal(e.route?.service, 'root')
  assert.match(e.candidates[0]?.routes[0]?.reason ?? '', /does not end at a segment boundary/)
})

test('explainRoute: no route at all', () => {
  const table = buildTable([spec('a', 'a.com', '/a')], { pathMatch: 'prefix' })
  const e = explainRoute(table, 'b.com', '/a')
  assert.equal(e.route, null)
  assert.equal(e.summary, 'no route for b.com/a: 404')
  const other = explainRoute(table, 'a.com', '/b')
  assert.equal(other.route, null)
  assert.equal(other.candidates[0]?.routes[0]?.reason, 'path /a is not a prefix of /b')
})

test('explainRoute: allow/deny verdicts for a client address', () => {
  const table = buildTable([spec('adm', '', '/', { allow: ['10.0.0.0/8'], deny: ['10.9.0.0/16'] })], {
    pathMatch: 'prefix',
  })
  const verdict = (client: string): boolean | null =>
    explainRoute(table, '', '/', client).acl?.allowed ?? null
  assert.equal(verdict('10.1.2.3'), true)
  assert.equal(verdict('10.9.1.1'), false)
  assert.equal(verdict('192.168.1.1'), false)
  assert.equal(verdict(''), null)
  assert.match(explainRoute(table, '', '/', '10.9.1.1').summary, /403/)
  assert.deepEqual(explainRoute(table, '', '/').route?.allow, ['10.0.0.0/8'])
})

function pool(balance: BalanceName, weights: number[]): Pool {
  const backends = weights.map(
    (w, i) =>
      new Backend({
        service: 'svc',
        name: `s${i}`,
        host: '127.0.0.1',
        port: 1000 + i,
        weight: w,
        backup: false,
        maxconn: 0,
      }),
  )
  return new Pool('svc', balance, backends)
}

for (const balance of ['roundrobin', 'static-rr', 'leastconn', 'first'] as const) {
  test(`previewPick (${balance}): names the next pick and leaves the rotation where it was`, () => {
    const p = pool(balance, [3, 1, 2])
    const preview = pool(balance, [3, 1, 2])
    const rand = (): number => 0.5
    // Move both pools forward a little first, identically.
    for (let i = 0; i < 4; i++) {
      selectBackend(p, rand, null)
      selectBackend(preview, rand, null)
    }
    for (let i = 0; i < 12; i++) {
      const a = previewPick(preview, rand)?.name
      const b = previewPick(preview, rand)?.name
      assert.equal(a, b, 'previewing twice gives the same answer')
      const real = selectBackend(p, rand, null)?.name
      assert.equal(a, real, `step ${i}`)
      selectBackend(preview, rand, null)
    }
  })
}

test('explainPick: why each server is or is not eligible', () => {
  const p = pool('roundrobin', [1, 1, 0, 1, 1])
  const s = (i: number): Backend => p.normal[i] as Backend
  s(0).up = false
  s(1).admin = 'drain'
  s(3).admin = 'maint'
  s(4).maxconn = 1
  s(4).inflight = 1
  const e = explainPick(p, Math.random, (b) => (b.name === 's0' ? 'L4CON connection refused' : ''))
  assert.deepEqual(
    e.servers.map((s) => [s.server, s.eligible, s.reason]),
    [
      ['s0', false, 'DOWN: L4CON connection refused'],
      ['s1', false, 'draining (drain)'],
      ['s2', false, 'weight 0'],
      ['s3', false, 'in maintenance (maint)'],
      ['s4', false, 'full (1/1 in flight)'],
    ],
  )
  assert.equal(e.pick, null)
  assert.match(
    formatExplain(explainRoute(buildTable([spec('svc', '', '/')], { pathMatch: 'prefix' }), '', '/'), e),
    /next pick: \(none/,
  )
})
