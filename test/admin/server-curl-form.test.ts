/**
 * The admin API's POST actions take the value as curl sends it with `-d`: `curl -d drain …/state` posts the
 * bare value `drain` as `application/x-www-form-urlencoded` (the README's and docs/admin-api.md's examples).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { bearer, startAdmin, type TestAdmin } from '../helpers/admin.js'
import { patchServer, route, service } from '../helpers/lb.js'

const form = { ...bearer('tok'), 'content-type': 'application/x-www-form-urlencoded' }
let a: TestAdmin

before(async () => {
  a = await startAdmin((c) => {
    c.admin.token = 'tok'
    const web = service('web', [1, 2])
    patchServer(web, 1, { weight: 10 })
    c.services = [web]
    c.routes = [route('', '/', 'web')]
  })
})
after(() => a.close())

function upstream(srv: string): { admin: string; weight: number } {
  const u = a.lb.worker.state.services.get('web')?.upstreams.find((x) => x.name === srv)
  if (u === undefined) throw new Error(`no web/${srv}`)
  return u
}

const cases: { desc: string; path: string; body: string; want: { admin: string; weight: number } }[] = [
  {
    desc: 'curl -d drain',
    path: '/api/servers/web/s0/state',
    body: 'drain',
    want: { admin: 'drain', weight: 1 },
  },
  {
    desc: 'curl -d 50%',
    path: '/api/servers/web/s1/weight',
    body: '50%',
    want: { admin: 'ready', weight: 5 },
  },
  { desc: 'curl -d 3', path: '/api/servers/web/s1/weight', body: '3', want: { admin: 'ready', weight: 3 } },
]

for (const c of cases) {
  test(`admin POST as curl sends it: ${c.desc}`, async () => {
    const r = await a.post(c.path, c.body, form)
    assert.equal(r.status, 200, r.body)
    const srv = c.path.includes('/s0/') ? 's0' : 's1'
    const u = upstream(srv)
    assert.deepEqual({ admin: u.admin, weight: u.weight }, c.want)
  })
}
