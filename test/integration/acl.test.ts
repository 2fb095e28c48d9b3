/** Route allow/deny lists (fabio allow=/deny=) → 403, on the real client address (trusted proxies honoured). */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

let up: TestUpstream
let lb: TestLb

before(async () => {
  up = await startUpstream('u')
  lb = await startLb((c) => {
    c.http.trustedProxies = ['127.0.0.1/32']
    c.services = [service('u', [up.port])]
    c.routes = [
      { ...route('', '/open', 'u') },
      { ...route('', '/allow-local', 'u'), allow: ['127.0.0.0/8'] } as (typeof c.routes)[number],
      { ...route('', '/allow-ten', 'u'), allow: ['10.0.0.0/8'] } as (typeof c.routes)[number],
      { ...route('', '/deny-ten', 'u'), deny: ['10.0.0.0/8'] } as (typeof c.routes)[number],
    ]
  })
})

after(async () => {
  await lb.close()
  await up.close()
})

const cases = [
  { desc: 'no list: allowed', path: '/open', xff: undefined, status: 200 },
  { desc: 'allow matches the peer', path: '/allow-local', xff: undefined, status: 200 },
  { desc: 'allow does not match → 403', path: '/allow-ten', xff: undefined, status: 403 },
  {
    desc: 'allow matches the client behind a trusted proxy',
    path: '/allow-ten',
    xff: '10.1.2.3',
    status: 200,
  },
  {
    desc: 'deny matches the client behind a trusted proxy → 403',
    path: '/deny-ten',
    xff: '10.1.2.3',
    status: 403,
  },
  { desc: 'deny does not match', path: '/deny-ten', xff: '192.168.0.1', status: 200 },
]

for (const c of cases) {
  test(c.desc, async () => {
    const r = await get(lb.url, c.path, c.xff === undefined ? {} : { headers: { 'x-forwarded-for': c.xff } })
    assert.equal(r.status, c.status)
  })
}
