/** Admin API, read-only endpoints: every GET answers without a token, in the documented shape. */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { describeTable } from '../../src/route/describe.js'
import { startAdmin, type TestAdmin } from '../helpers/admin.js'
import { get } from '../helpers/client.js'
import { route, service } from '../helpers/lb.js'

let a: TestAdmin

before(async () => {
  a = await startAdmin((c) => {
    c.services = [service('web', [1, 2]), service('api', [3])]
    c.routes = [
      route('example.com', '/', 'web'),
      route('*.example.com', '/api', 'api', { strip: '/api' }),
      route('', '/', 'web'),
    ]
  })
})
after(() => a.close())

test('admin GET /health: 200 while serving, 503 when not', async () => {
  assert.equal((await a.get('/health')).status, 200)
  a.status.serving = false
  const r = await a.get('/health')
  a.status.serving = true
  assert.equal(r.status, 503)
})

test('admin GET /api/routes: JSON routes with their servers, weights and states', async () => {
  const r = await a.get('/api/routes')
  assert.equal(r.status, 200)
  assert.match(String(r.headers['content-type']), /application\/json/)
  const body = JSON.parse(r.body) as {
    pathMatch: string
    routes: {
      host: string
      path: string
      service: string
      strip: string
      servers: { server: string; status: string; weight: number }[]
    }[]
  }
  assert.equal(body.routes.length, 3)
  const wild = body.routes.find((x) => x.host === '*.example.com')
  assert.deepEqual(
    { path: wild?.path, service: wild?.service, strip: wild?.strip },
    { path: '/api', service: 'api', strip: '/api' },
  )
  assert.deepEqual(
    wild?.servers.map((s) => [s.server, s.status, s.weight]),
    [['s0', 'UP', 1]],
  )
  const web = body.routes.find((x) => x.host === 'example.com')
  assert.deepEqual(
    web?.servers.map((s) => s.server),
    ['s0', 's1'],
  )
})

test('admin GET /api/routes: the canonical text form with ?format=text or Accept: text/plain', async () => {
  const want = describeTable(a.lb.worker.state.table)
  assert.ok(want.includes('route add api *.example.com/api strip=/api'))
  const q = await a.get('/api/routes?format=text')
  assert.equal(q.status, 200)
  assert.match(String(q.headers['content-type']), /text\/plain/)
  assert.equal(q.body, want)
  assert.equal((await a.get('/api/routes', { accept: 'text/plain' })).body, want)
  assert.ok((await a.get('/api/routes', { accept: 'application/json, text/plain' })).body.startsWith('{'))
})

test('admin GET /api/services: one row per service with its routes', async () => {
  const rows = JSON.parse((await a.get('/api/services')).body) as {
    service: string
    balance: string
    servers: number
    serving: number
    routes: string[]
  }[]
  const web = rows.find((r) => r.service === 'web')
  assert.deepEqual(web, {
    service: 'web',
    balance: 'roundrobin',
    proto: 'http',
    check: null,
    servers: 2,
    serving: 2,
    queued: 0,
    routes: ['example.com/', '/'],
  })
})

test('admin GET /api/servers: state, weight, health, last check, in-flight and totals per server', async () => {
  const rows = JSON.parse((await a.get('/api/servers')).body) as Record<string, unknown>[]
  assert.equal(rows.length, 3)
  const s0 = rows.find((r) => r.service === 'web' && r.server === 's0')
  assert.equal(s0?.status, 'UP')
  assert.equal(s0?.address, '127.0.0.1:1')
  for (const key of [
    'weight',
    'effectiveWeight',
    'health',
    'checkStatus',
    'lastCheck',
    'inflight',
    'checks',
    'failedChecks',
    'reason',
  ]) {
    assert.ok(s0 !== undefined && key in s0, `has ${key}`)
  }
})

test('admin GET /metrics: Prometheus text', async () => {
  const r = await a.get('/metrics')
  assert.equal(r.status, 200)
  assert.match(r.body, /# TYPE /)
})

test('admin GET /: the web page, self-contained, with a restrictive CSP', async () => {
  const r = await a.get('/')
  assert.equal(r.status, 200)
  assert.match(String(r.headers['content-type']), /text\/html/)
  assert.match(String(r.headers['content-security-policy']), /default-src 'none'/)
  assert.ok(r.body.includes('<table id="routes"'))
  assert.doesNotMatch(r.body, /https?:\/\//, 'no external resources')
  assert.doesNotMatch(r.body, /innerHTML/, 'values are written with textContent')
})

const errors: { desc: string; method: string; path: string; status: number; match: RegExp }[] = [
  { desc: 'unknown path', method: 'GET', path: '/nope', status: 404, match: /no admin endpoint \/nope/ },
  { desc: 'unknown POST path', method: 'POST', path: '/api/nope', status: 404, match: /no admin endpoint/ },
  { desc: 'PUT', method: 'PUT', path: '/api/routes', status: 405, match: /method PUT not allowed/ },
  { desc: 'POST to a read-only path', method: 'POST', path: '/api/routes', status: 405, match: /read-only/ },
  {
    desc: 'GET on an action',
    method: 'GET',
    path: '/api/servers/web/s0/state',
    status: 405,
    match: /use POST/,
  },
  { desc: 'GET on reload', method: 'GET', path: '/api/reload', status: 405, match: /use POST/ },
]

for (const c of errors) {
  test(`admin errors: ${c.desc} → ${c.status} with a reason`, async () => {
    const r = c.method === 'GET' ? await a.get(c.path) : await get(a.url, c.path, { method: c.method })
    assert.equal(r.status, c.status)
    assert.match((JSON.parse(r.body) as { error: string }).error, c.match)
    if (c.status === 405) assert.ok(r.headers.allow !== undefined, 'Allow header')
  })
}
