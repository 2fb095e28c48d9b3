/** strip= / prepend= / host_header rewrite the upstream request; X-Forwarded-Prefix is set on strip. */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

let up: TestUpstream
let lb: TestLb

before(async () => {
  up = await startUpstream('u')
  lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [
      route('', '/foo', 'svc', { strip: '/foo' }),
      route('', '/bar', 'svc', { prepend: '/baz' }),
      route('', '/both', 'svc', { strip: '/both', prepend: '/v2/' }),
      route('dst.test', '/', 'svc', { hostHeader: 'dst' }),
      route('literal.test', '/', 'svc', { hostHeader: 'internal.example' }),
    ]
  })
})

after(async () => {
  await lb.close()
  await up.close()
})

const cases = [
  { desc: 'strip removes the prefix', path: '/foo/x?q=1', host: 'a.test', url: '/x?q=1', prefix: '/foo' },
  { desc: 'strip of the whole path leaves /', path: '/foo', host: 'a.test', url: '/', prefix: '/foo' },
  { desc: 'prepend adds a prefix', path: '/bar/y', host: 'a.test', url: '/baz/bar/y', prefix: undefined },
  { desc: 'strip then prepend', path: '/both/z', host: 'a.test', url: '/v2/z', prefix: '/both' },
]

for (const c of cases) {
  test(c.desc, async () => {
    const n = up.requests.length
    const r = await get(lb.url, c.path, { host: c.host })
    assert.equal(r.status, 200)
    const seen = up.requests[n]
    assert.equal(seen?.url, c.url)
    assert.equal(seen?.headers['x-forwarded-prefix'], c.prefix)
  })
}

test('host_header: dst sends the server address as Host', async () => {
  const n = up.requests.length
  await get(lb.url, '/', { host: 'dst.test' })
  assert.equal(up.requests[n]?.headers.host, `127.0.0.1:${up.port}`)
  assert.equal(up.requests[n]?.headers['x-forwarded-host'], 'dst.test')
})

test('host_header: a literal replaces Host', async () => {
  const n = up.requests.length
  await get(lb.url, '/', { host: 'literal.test' })
  assert.equal(up.requests[n]?.headers.host, 'internal.example')
})

test('without host_header the client Host is kept', async () => {
  const n = up.requests.length
  await get(lb.url, '/foo/k', { host: 'Keep.Me.test' })
  assert.equal(up.requests[n]?.headers.host, 'Keep.Me.test')
})
