/**
 * Admin API POST actions: server state and weight through the body (text, JSON, form) or the query, applied to
 * the runtime server; bad input is 400 with the reason, an unknown server 404, a large body 413.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { bearer, startAdmin, type TestAdmin } from '../helpers/admin.js'
import { patchServer, route, service } from '../helpers/lb.js'

const auth = bearer('tok')
let a: TestAdmin

before(async () => {
  a = await startAdmin((c) => {
    c.admin.token = 'tok'
    const web = service('web', [1, 2])
    patchServer(web, 0, { weight: 10 })
    c.services = [web, service('svc@consul', [3])]
    c.routes = [route('', '/', 'web')]
  })
})
after(() => a.close())

function upstream(svc: string, srv: string): { admin: string; weight: number } {
  const u = a.lb.worker.state.services.get(svc)?.upstreams.find((x) => x.name === srv)
  if (u === undefined) throw new Error(`no ${svc}/${srv}`)
  return u
}

const stateCases: { desc: string; path: string; body: string; type?: string; want: string }[] = [
  { desc: 'plain text body', path: '/api/servers/web/s1/state', body: 'maint', want: 'maint' },
  {
    desc: 'JSON body',
    path: '/api/servers/web/s1/state',
    body: '{"state":"drain"}',
    type: 'application/json',
    want: 'drain',
  },
  {
    desc: 'form body',
    path: '/api/servers/web/s1/state',
    body: 'state=maint',
    type: 'application/x-www-form-urlencoded',
    want: 'maint',
  },
  { desc: 'query', path: '/api/servers/web/s1/state?state=ready', body: '', want: 'ready' },
  { desc: 'encoded service name', path: '/api/servers/svc%40consul/s0/state', body: 'drain', want: 'drain' },
]

for (const c of stateCases) {
  test(`admin POST state: ${c.desc}`, async () => {
    const headers = c.type === undefined ? auth : { ...auth, 'content-type': c.type }
    const r = await a.post(c.path, c.body, headers)
    assert.equal(r.status, 200, r.body)
    const svc = c.path.includes('consul') ? 'svc@consul' : 'web'
    const srv = c.path.includes('consul') ? 's0' : 's1'
    assert.equal(upstream(svc, srv).admin, c.want)
  })
}

test('admin POST weight: absolute and N% of the configured weight', async () => {
  let r = await a.post('/api/servers/web/s0/weight', '5', auth)
  assert.equal(r.status, 200, r.body)
  assert.equal((JSON.parse(r.body) as { weight: number }).weight, 5)
  assert.equal(upstream('web', 's0').weight, 5)
  r = await a.post('/api/servers/web/s0/weight?weight=50%25', '', auth)
  assert.equal(r.status, 200, r.body)
  assert.equal(upstream('web', 's0').weight, 5, '50% of the configured 10')
  r = await a.post('/api/servers/web/s0/weight', '{"weight": 10}', auth)
  assert.equal(upstream('web', 's0').weight, 10)
})

const bad: { desc: string; path: string; body: string; status: number; match: RegExp }[] = [
  {
    desc: 'unknown state',
    path: '/api/servers/web/s0/state',
    body: 'off',
    status: 400,
    match: /^state must be ready, drain or maint$/,
  },
  {
    desc: 'missing state',
    path: '/api/servers/web/s0/state',
    body: '',
    status: 400,
    match: /state is required/,
  },
  {
    desc: 'weight not a number',
    path: '/api/servers/web/s0/weight',
    body: 'heavy',
    status: 400,
    match: /weight must be an integer 0\.\.256 or N% \(digits only\)/,
  },
  {
    desc: 'weight too large',
    path: '/api/servers/web/s0/weight',
    body: '300',
    status: 400,
    match: /got 300/,
  },
  {
    desc: 'missing weight',
    path: '/api/servers/web/s0/weight',
    body: '',
    status: 400,
    match: /weight is required/,
  },
  {
    desc: 'invalid JSON',
    path: '/api/servers/web/s0/state',
    body: '{"state":',
    status: 400,
    match: /not valid JSON/,
  },
  {
    desc: 'unknown server',
    path: '/api/servers/web/s9/state',
    body: 'drain',
    status: 404,
    match: /no server web\/s9/,
  },
  {
    desc: 'unknown service',
    path: '/api/servers/nope/s0/weight',
    body: '1',
    status: 404,
    match: /no server nope\/s0/,
  },
  {
    desc: 'body over 4 KiB',
    path: '/api/servers/web/s0/state',
    body: 'x'.repeat(5000),
    status: 413,
    match: /over 4096 bytes/,
  },
]

for (const c of bad) {
  test(`admin POST errors: ${c.desc} → ${c.status}`, async () => {
    const before = { ...upstream('web', 's0') }
    const r = await a.post(c.path, c.body, auth)
    assert.equal(r.status, c.status, r.body)
    assert.match((JSON.parse(r.body) as { error: string }).error, c.match)
    assert.equal(upstream('web', 's0').admin, before.admin)
    assert.equal(upstream('web', 's0').weight, before.weight)
  })
}

test('admin POST /api/reload with the token calls reload', async () => {
  const r = await a.post('/api/reload', '', auth)
  assert.equal(r.status, 200)
  assert.deepEqual(JSON.parse(r.body), { ok: true, problems: [] })
})
