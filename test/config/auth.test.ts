/** `http.auth` (fabio `proxy.auth`) and `routes[].auth`: schemes, htpasswd content, references. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, valid, yaml } from './helpers.js'

test('http.auth: a basic scheme with htpasswd content, named by a route', () => {
  const c = valid(yaml`
    services: [{ name: web, servers: [{ address: 127.0.0.1:1 }] }]
    routes: [{ path: /admin, service: web, auth: ops }]
    http:
      auth:
        - { name: ops, realm: Ops, htpasswd: "alice:$$apr1$$abcdefgh$$h9FWgUz3n9YxylKLlR5SQ/" }
  `)
  assert.deepEqual(c.http.auth, [
    { name: 'ops', type: 'basic', realm: 'Ops', htpasswd: 'alice:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/' },
  ])
  assert.equal(c.routes[0]?.auth, 'ops')
})

test('http.auth: bad htpasswd lines by number (never their content), unknown schemes and types', () => {
  assert.deepEqual(
    problemLines(yaml`
      services: [{ name: web, servers: [{ address: 127.0.0.1:1 }] }]
      routes: [{ path: /admin, service: web, auth: opps }]
      http:
        auth:
          - { name: ops, htpasswd: "alice:x\\nsecretline\\n" }
          - { name: ldap, type: ldap, htpasswd: "a:b" }
    `),
    [
      'http.auth[0].htpasswd: lines 2 are not user:hash',
      'http.auth[1].type: must be one of basic; got "ldap"',
      'routes[0].auth: unknown auth scheme "opps", did you mean "ops"?',
    ],
  )
})

test('http.no_route: status and page', () => {
  const c = valid('http: { no_route: { status: 503, page: "<p>none</p>" } }\n')
  assert.deepEqual(c.http.noRoute, { status: 503, page: '<p>none</p>' })
  assert.deepEqual(problemLines('http: { no_route: { status: 99 } }\n'), [
    'http.no_route.status: must be between 200 and 599, got 99',
  ])
})
