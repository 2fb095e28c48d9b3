import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { PathMatch } from '../../src/model/snapshot.js'
import type { HttpRouteSpec, Redirect } from '../../src/model/snapshot.js'
import { buildTable } from '../../src/route/table.js'
import { describeTable } from '../../src/route/describe.js'
import { lookupHttp } from '../../src/route/lookup.js'
import { spec } from '../helpers/route-spec.js'

/** Looks up and returns `service@host+path` of the route found, or 'none'. */
function find(
  routes: readonly HttpRouteSpec[],
  host: string | undefined,
  url: string,
  pathMatch: PathMatch = 'prefix',
): string {
  const r = lookupHttp(buildTable(routes, { pathMatch }), host, url)
  return r === undefined ? 'none' : `${r.service}@${r.host}${r.path}`
}

interface LookupCase {
  readonly desc: string
  readonly host: string | undefined
  readonly url: string
  readonly want: string
  readonly pathMatch?: PathMatch
}

function runCases(routes: readonly HttpRouteSpec[], cases: readonly LookupCase[]) {
  return async (t: { test: (name: string, fn: () => void) => Promise<void> }) => {
    for (const c of cases) {
      await t.test(c.desc, () => {
        assert.equal(find(routes, c.host, c.url, c.pathMatch ?? 'prefix'), c.want)
      })
    }
  }
}

const hostRoutes = [
  spec('exact', 'example.com', '/'),
  spec('exact-api', 'example.com', '/api'),
  spec('sub', 'a.example.com', '/'),
  spec('wild', '*.example.com', '/'),
  spec('wild-api', '*.example.com', '/api'),
  spec('wild-deep', '*.b.example.com', '/'),
  spec('any', '', '/'),
  spec('any-api', '', '/api'),
  spec('other', 'other.org', '/only'),
]

test(
  'lookupHttp: exact, wildcard and catch-all hosts',
  runCases(hostRoutes, [
    { desc: 'exact host', host: 'example.com', url: '/x', want: 'exact@example.com/' },
    {
      desc: 'exact host, longer path',
      host: 'example.com',
      url: '/api/v1',
      want: 'exact-api@example.com/api',
    },
    { desc: 'exact beats wildcard', host: 'a.example.com', url: '/api', want: 'sub@a.example.com/' },
    { desc: 'wildcard one label', host: 'x.example.com', url: '/', want: 'wild@*.example.com/' },
    {
      desc: 'wildcard two labels',
      host: 'x.y.example.com',
      url: '/api/x',
      want: 'wild-api@*.example.com/api',
    },
    {
      desc: 'more specific wildcard first',
      host: 'x.b.example.com',
      url: '/api',
      want: 'wild-deep@*.b.example.com/',
    },
    {
      desc: 'wildcard does not match bare domain',
      host: 'b.example.com',
      url: '/api',
      want: 'wild-api@*.example.com/api',
    },
    { desc: 'unknown host uses catch-all', host: 'unknown.net', url: '/api/x', want: 'any-api@/api' },
    { desc: 'missing host uses catch-all', host: undefined, url: '/', want: 'any@/' },
    { desc: 'empty host uses catch-all', host: '', url: '/api', want: 'any-api@/api' },
    {
      desc: 'host without matching path falls through to catch-all',
      host: 'other.org',
      url: '/x',
      want: 'any@/',
    },
    { desc: 'host with matching path', host: 'other.org', url: '/only/x', want: 'other@other.org/only' },
  ]),
)

const fallthroughRoutes = [
  spec('exact', 'api.example.com', '/v1'),
  spec('wild-deep', '*.api.example.com', '/v2'),
  spec('wild', '*.example.com', '/v3'),
  spec('any', '', '/v4'),
]

test(
  'lookupHttp: a host whose paths do not match falls through to the next candidate host',
  runCases(fallthroughRoutes, [
    { desc: 'exact path', host: 'api.example.com', url: '/v1', want: 'exact@api.example.com/v1' },
    { desc: 'exact → wildcard', host: 'api.example.com', url: '/v3', want: 'wild@*.example.com/v3' },
    { desc: 'exact → catch-all', host: 'api.example.com', url: '/v4', want: 'any@/v4' },
    { desc: 'exact does not use its own-level wildcard', host: 'api.example.com', url: '/v2', want: 'none' },
    {
      desc: 'deep wildcard → wildcard',
      host: 'x.api.example.com',
      url: '/v3',
      want: 'wild@*.example.com/v3',
    },
    { desc: 'deep wildcard → catch-all', host: 'x.api.example.com', url: '/v4', want: 'any@/v4' },
    {
      desc: 'deep wildcard, own path',
      host: 'x.api.example.com',
      url: '/v2',
      want: 'wild-deep@*.api.example.com/v2',
    },
    { desc: 'nothing anywhere', host: 'x.api.example.com', url: '/v5', want: 'none' },
    { desc: 'no catch-all route for the path', host: 'nope.org', url: '/v1', want: 'none' },
  ]),
)

const portRoutes = [
  spec('plain', 'example.com', '/'),
  spec('p8080', 'example.com:8080', '/admin'),
  spec('wild', '*.example.com', '/'),
  spec('wild8080', '*.example.com:8080', '/w'),
  spec('v6', '[::1]', '/'),
  spec('v6port', '[::1]:8080', '/'),
  spec('ipv4', '10.0.0.1', '/'),
  spec('v6hex', '[FE80::A]', '/'),
  spec('only-port', 'only.example.com:8080', '/'),
]

test(
  'lookupHttp: ports',
  runCases(portRoutes, [
    { desc: ':80 is stripped', host: 'example.com:80', url: '/', want: 'plain@example.com/' },
    { desc: ':443 is stripped', host: 'example.com:443', url: '/', want: 'plain@example.com/' },
    {
      desc: 'configured port',
      host: 'example.com:8080',
      url: '/admin',
      want: 'p8080@example.com:8080/admin',
    },
    {
      desc: 'configured port falls back to the host without port',
      host: 'example.com:8080',
      url: '/x',
      want: 'plain@example.com/',
    },
    {
      desc: 'unconfigured port falls back to the host without port',
      host: 'example.com:9090',
      url: '/admin',
      want: 'plain@example.com/',
    },
    {
      desc: 'port-only host, that port',
      host: 'only.example.com:8080',
      url: '/',
      want: 'only-port@only.example.com:8080/',
    },
    { desc: 'port-only host, no port', host: 'only.example.com', url: '/', want: 'wild@*.example.com/' },
    {
      desc: 'port-only host, other port',
      host: 'only.example.com:9090',
      url: '/',
      want: 'wild@*.example.com/',
    },
    {
      desc: 'port route does not match without port',
      host: 'example.com',
      url: '/admin',
      want: 'plain@example.com/',
    },
    {
      desc: 'wildcard with port',
      host: 'a.example.com:8080',
      url: '/w',
      want: 'wild8080@*.example.com:8080/w',
    },
    {
      desc: 'wildcard with port before exact without port',
      host: 'example.com.example.com:8080',
      url: '/w',
      want: 'wild8080@*.example.com:8080/w',
    },
    {
      desc: 'wildcard port falls back to portless wildcard',
      host: 'a.example.com:8080',
      url: '/x',
      want: 'wild@*.example.com/',
    },
    { desc: 'wildcard with other port', host: 'a.example.com:9090', url: '/w', want: 'wild@*.example.com/' },
    { desc: 'wildcard with default port', host: 'a.example.com:443', url: '/w', want: 'wild@*.example.com/' },
    { desc: 'IPv6', host: '[::1]', url: '/', want: 'v6@[::1]/' },
    { desc: 'IPv6 default port', host: '[::1]:80', url: '/', want: 'v6@[::1]/' },
    { desc: 'IPv6 configured port', host: '[::1]:8080', url: '/', want: 'v6port@[::1]:8080/' },
    { desc: 'IPv6 other port falls back', host: '[::1]:9090', url: '/', want: 'v6@[::1]/' },
    { desc: 'IPv6 upper-case hex', host: '[fe80::A]:443', url: '/', want: 'v6hex@[fe80::a]/' },
    { desc: 'IPv4 with port', host: '10.0.0.1:3000', url: '/', want: 'ipv4@10.0.0.1/' },
  ]),
)

const caseRoutes = [
  spec('lower', 'example.com', '/'),
  spec('upper-config', 'API.Example.COM.', '/'),
  spec('wild', '*.Example.org', '/'),
  spec('path', 'example.com', '/Admin'),
]

test(
  'lookupHttp: host case and trailing dots',
  runCases(caseRoutes, [
    { desc: 'upper-case request host', host: 'EXAMPLE.COM', url: '/', want: 'lower@example.com/' },
    { desc: 'mixed case with default port', host: 'Example.Com:443', url: '/', want: 'lower@example.com/' },
    { desc: 'mixed case with other port', host: 'Example.Com:8443', url: '/', want: 'lower@example.com/' },
    {
      desc: 'configured host is normalised',
      host: 'api.example.com',
      url: '/',
      want: 'upper-config@api.example.com/',
    },
    { desc: 'wildcard is normalised', host: 'X.EXAMPLE.ORG', url: '/', want: 'wild@*.example.org/' },
    { desc: 'trailing dot', host: 'example.com.', url: '/', want: 'lower@example.com/' },
    { desc: 'trailing dot and port', host: 'x.example.org.:80', url: '/', want: 'wild@*.example.org/' },
    { desc: 'paths stay case sensitive', host: 'example.com', url: '/admin', want: 'lower@example.com/' },
    { desc: 'path exact case', host: 'example.com', url: '/Admin', want: 'path@example.com/Admin' },
  ]),
)

test(
  'lookupHttp: path semantics per table',
  runCases(
    [spec('foo', 'h', '/foo'), spec('foot', 'h', '/foot'), spec('dir', 'h', '/dir/'), spec('any', '', '/')],
    [
      { desc: 'prefix: /foox', host: 'h', url: '/foox', want: 'foo@h/foo' },
      { desc: 'segment: /foox falls through', host: 'h', url: '/foox', want: 'any@/', pathMatch: 'segment' },
      { desc: 'segment: /foot/x', host: 'h', url: '/foot/x', want: 'foot@h/foot', pathMatch: 'segment' },
      { desc: 'segment: /foo?x', host: 'h', url: '/foo?x', want: 'foo@h/foo', pathMatch: 'segment' },
      { desc: 'segment: /dir needs the slash', host: 'h', url: '/dir', want: 'any@/', pathMatch: 'segment' },
      { desc: 'segment: /dir/x', host: 'h', url: '/dir/x', want: 'dir@h/dir/', pathMatch: 'segment' },
      { desc: 'query is ignored', host: 'h', url: '/x?/foo', want: 'any@/' },
    ],
  ),
)

test(
  'lookupHttp: a path-only table ignores the Host header',
  runCases(
    [spec('api', '', '/api'), spec('root', '', '/')],
    [
      { desc: 'no host', host: undefined, url: '/api/x', want: 'api@/api' },
      { desc: 'any host', host: 'Whatever.Example:8080', url: '/api', want: 'api@/api' },
      { desc: 'IPv6 host', host: '[::1]:1', url: '/x', want: 'root@/' },
    ],
  ),
)

test('buildTable: duplicate paths of a host with many routes (before and after it keeps a Set of them)', () => {
  const specs = []
  for (let i = 0; i < 12; i++) specs.push(spec(`s${i}`, 'many.example', `/p${i}`))
  const early = spec('early-again', 'many.example', '/p1') // the host has 2 routes: found in its list
  // The host has 12 routes: found in its Set, a path added before it had one and one added after.
  const late = [spec('late-again', 'many.example', '/p3'), spec('later-again', 'many.example', '/p10')]
  const table = buildTable([...specs.slice(0, 2), early, ...specs.slice(2), ...late], { pathMatch: 'prefix' })
  assert.equal(table.size, 12)
  assert.deepEqual(table.ignored, [early, ...late])
  assert.deepEqual(
    table.routes.map((r) => r.service),
    specs.map((s) => s.service),
  )
})

test('buildTable: duplicate host and path, the first spec wins', () => {
  const first = spec('first', 'Example.com', '/a')
  const second = spec('second', 'EXAMPLE.com.', '/a')
  const third = spec('third', 'example.com', '/a/')
  const table = buildTable([first, second, third, spec('any', '', '/'), spec('any2', '', '/')], {
    pathMatch: 'prefix',
  })
  assert.equal(table.size, 3)
  assert.deepEqual(table.ignored, [second, spec('any2', '', '/')])
  assert.deepEqual(
    table.routes.map((r) => [r.id, r.service]),
    [
      [0, 'first'],
      [1, 'third'],
      [2, 'any'],
    ],
  )
  assert.equal(lookupHttp(table, 'example.com', '/a')?.service, 'first')
  assert.equal(lookupHttp(table, 'x', '/a')?.service, 'any')
})

test('buildTable: routes are prebuilt and returned as they are', () => {
  const redirect: Redirect = { code: 301, url: 'https://example.com$path' }
  const table = buildTable(
    [
      spec('web', 'example.com', '/api', {
        strip: '/api',
        prepend: '/v1',
        hostHeader: 'dst',
        source: 'config:routes[0]',
      }),
      spec('', 'example.com', '/old', { redirect }),
    ],
    { pathMatch: 'segment' },
  )
  assert.equal(table.pathMatch, 'segment')
  const r = lookupHttp(table, 'example.com', '/api/x')
  assert.deepEqual(r, {
    id: 0,
    host: 'example.com',
    path: '/api',
    service: 'web',
    strip: '/api',
    prepend: '/v1',
    prependPath: '/v1',
    hostHeader: 'dst',
    redirect: null,
    source: 'config:routes[0]',
    allow: null,
    deny: null,
    allowList: [],
    denyList: [],
    pathMatch: 'segment',
    matchKind: 1,
    rank: 1,
    glob: null,
    auth: '',
    hsts: '',
  })
  assert.equal(lookupHttp(table, 'EXAMPLE.com:443', '/api?q'), r, 'same object on every lookup')
  assert.equal(lookupHttp(table, 'example.com', '/old')?.redirect, redirect)
  assert.equal(table.routes[0], r)
})

test('buildTable: empty table', () => {
  const table = buildTable([], { pathMatch: 'prefix' })
  assert.equal(table.size, 0)
  assert.equal(table.hostless, true)
  assert.equal(lookupHttp(table, 'example.com', '/'), undefined)
  assert.equal(lookupHttp(table, undefined, '/'), undefined)
  assert.equal(describeTable(table), '')
})

const describeRoutes = [
  spec('any', '', '/'),
  spec('b', 'b.example.com', '/'),
  spec('wild', '*.example.com', '/'),
  spec('wild-deep', '*.a.example.com', '/x'),
  spec('a-root', 'a.example.com', '/'),
  spec('a-api', 'a.example.com', '/api', { strip: '/api', prepend: '/v1', hostHeader: 'dst' }),
  spec('a-apiv2', 'A.example.com.', '/api/v2'),
  spec('port', 'a.example.com:8080', '/'),
  spec('', 'old.example.com', '/', { redirect: { code: 301, url: 'https://new.example.com$path' } }),
  spec('wild-port', '*.example.com:8080', '/'),
  spec('star', '*', '/'),
  spec('any-api', '', '/api'),
  spec('space', 'b.example.com', '/a b', { hostHeader: 'say "hi"' }),
]

const describeWant = `route add a-apiv2 a.example.com/api/v2
route add a-api a.example.com/api strip=/api prepend=/v1 host=dst
route add a-root a.example.com/
route add port a.example.com:8080/
route add space "b.example.com/a b" host="say \\"hi\\""
route add b b.example.com/
route add - old.example.com/ redirect=301,https://new.example.com$path
route add wild-port *.example.com:8080/
route add wild-deep *.a.example.com/x
route add wild *.example.com/
route add star */
route add any-api /api
route add any /
`

test('describeTable: canonical text', () => {
  assert.equal(describeTable(buildTable(describeRoutes, { pathMatch: 'prefix' })), describeWant)
})

test('describeTable: independent of input order', () => {
  // Deterministic permutations (no duplicates in describeRoutes, so every order keeps the same routes).
  const n = describeRoutes.length
  for (let k = 1; k < n; k++) {
    const shuffled: HttpRouteSpec[] = []
    for (let i = 0; i < n; i++) {
      const s = describeRoutes[(i * k + k) % n]
      if (s !== undefined && !shuffled.includes(s)) shuffled.push(s)
    }
    for (const s of describeRoutes) if (!shuffled.includes(s)) shuffled.push(s)
    assert.equal(describeTable(buildTable(shuffled, { pathMatch: 'prefix' })), describeWant, `k=${k}`)
  }
  assert.equal(
    describeTable(buildTable(describeRoutes.slice().reverse(), { pathMatch: 'segment' })),
    describeWant,
  )
})
