/** Host + path-prefix routing end to end: exact host, wildcard, catch-all fallback, longest prefix. */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

let ups: TestUpstream[] = []
let lb: TestLb

before(async () => {
  ups = await Promise.all(
    ['exact', 'exact-api', 'wild', 'deeper-wild', 'fallback', 'fallback-api'].map((n) => startUpstream(n)),
  )
  const [exact, exactApi, wild, deeperWild, fallback, fallbackApi] = ups.map((u) => u.port) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  lb = await startLb((c) => {
    c.services = [
      service('exact', [exact]),
      service('exact-api', [exactApi]),
      service('wild', [wild]),
      service('deeper-wild', [deeperWild]),
      service('fallback', [fallback]),
      service('fallback-api', [fallbackApi]),
    ]
    c.routes = [
      route('example.com', '/', 'exact'),
      route('example.com', '/api/', 'exact-api'),
      route('*.example.com', '/', 'wild'),
      route('*.eu.example.com', '/', 'deeper-wild'),
      route('', '/', 'fallback'),
      route('', '/api/', 'fallback-api'),
    ]
  })
})

after(async () => {
  await lb.close()
  await Promise.all(ups.map((u) => u.close()))
})

const cases = [
  { desc: 'exact host, root', host: 'example.com', path: '/', want: 'exact' },
  { desc: 'exact host, longest prefix', host: 'example.com', path: '/api/users?x=1', want: 'exact-api' },
  {
    desc: 'host is case-insensitive, default port stripped',
    host: 'EXAMPLE.com:80',
    path: '/api/x',
    want: 'exact-api',
  },
  { desc: 'wildcard host', host: 'shop.example.com', path: '/', want: 'wild' },
  { desc: 'more specific wildcard first', host: 'shop.eu.example.com', path: '/x', want: 'deeper-wild' },
  { desc: 'unknown host falls back to the catch-all', host: 'other.org', path: '/', want: 'fallback' },
  { desc: 'catch-all longest prefix', host: 'other.org', path: '/api/v1', want: 'fallback-api' },
]

for (const c of cases) {
  test(c.desc, async () => {
    const r = await get(lb.url, c.path, { host: c.host })
    assert.equal(r.status, 200)
    assert.equal(r.body, c.want)
  })
}

test('the upstream receives the original path and query', async () => {
  const target = ups[1] as TestUpstream
  const before = target.requests.length
  await get(lb.url, '/api/users?x=1&y=2', { host: 'example.com' })
  assert.equal(target.requests[before]?.url, '/api/users?x=1&y=2')
})
