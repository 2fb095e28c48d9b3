/** `routes[].hsts`: the Strict-Transport-Security value built from max_age, include_subdomains and preload. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, svc, valid } from './helpers.js'

const cases: { desc: string; hsts: object; header: string }[] = [
  { desc: 'defaults: a year', hsts: {}, header: 'max-age=31536000' },
  { desc: 'max_age in seconds', hsts: { max_age: 600 }, header: 'max-age=600' },
  {
    desc: 'includeSubDomains and preload',
    hsts: { max_age: 63072000, include_subdomains: true, preload: true },
    header: 'max-age=63072000; includeSubDomains; preload',
  },
  { desc: 'max_age 0 (browsers forget the host)', hsts: { max_age: 0 }, header: 'max-age=0' },
]

for (const c of cases) {
  test(`hsts: ${c.desc}`, () => {
    const config = valid({
      services: [svc('web', '127.0.0.1:1')],
      routes: [{ service: 'web', hsts: c.hsts }],
    })
    assert.equal(config.routes[0]?.hsts, c.header)
  })
}

test('hsts: no hsts key, no header value', () => {
  const config = valid({ services: [svc('web', '127.0.0.1:1')], routes: [{ service: 'web' }] })
  assert.equal(config.routes[0]?.hsts, undefined)
})

test('hsts: preload without include_subdomains or with a short max_age; unknown keys', () => {
  const routes = [
    { service: 'web', hsts: { preload: true } },
    { path: '/b', service: 'web', hsts: { max_age: 86400, include_subdomains: true, preload: true } },
    { path: '/c', service: 'web', hsts: { maxage: 86400 } },
  ]
  assert.deepEqual(problemLines({ services: [svc('web', '127.0.0.1:1')], routes }), [
    'routes[0].hsts.preload: preload needs include_subdomains: true and a max_age of at least 31536000',
    'routes[1].hsts.preload: preload needs include_subdomains: true and a max_age of at least 31536000',
    'routes[2].hsts.maxage: unknown key, did you mean "max_age"?',
  ])
})
