/**
 * fabio `route/table_test.go` (and `route/issue57_test.go`): building the table from route commands, weights,
 * host normalisation and lookups. Ported rows: TestTableParse (33), TestNormalizeHost (6),
 * TestTableLookupIssue448 (5), TestTableLookup (28), TestTableLookup_656 (1), TestIssue57 (3).
 * Not ported: TestNewTableCustom (fabio's `custom` registry backend, which lb does not have) and TestTable_Dump
 * (fabio's ASCII tree; lb's canonical dump is `describeTable`, tested in test/route/table.test.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fabioCases, type FabioCase } from './cases.js'
import { canonicalLine, fabioConfig, irOf, lookupDst, snapshotOf, tableOf } from './helpers.js'
import { normalizeHost } from '../../../src/route/host.js'
import { parseDst } from '../../../src/fabio/routecmd.js'
import { redirectLocation } from '../../../src/route/redirect.js'
import { lookupHttp } from '../../../src/route/lookup.js'

function gen(n: number, format: (i: number) => string): string[] {
  const a: string[] = []
  for (let i = 0; i < n; i++) a.push(format(i))
  return a
}

/** TestTableParse: route commands in, fabio's `config(true)` out (weights to 4 places). */
const parseRows: [string, string[], string[]][] = [
  [
    '1 service, 1 prefix',
    ['route add svc-a / http://aaa.com/'],
    ['route add svc-a / http://aaa.com/ weight 1.0000'],
  ],
  [
    '1 service, 1 prefix, 3 instances',
    [
      'route add svc-a / http://aaa.com:1111/',
      'route add svc-a / http://aaa.com:2222/',
      'route add svc-a / http://aaa.com:3333/',
    ],
    [
      'route add svc-a / http://aaa.com:1111/ weight 0.3333',
      'route add svc-a / http://aaa.com:2222/ weight 0.3333',
      'route add svc-a / http://aaa.com:3333/ weight 0.3333',
    ],
  ],
  [
    '1 service, 1 prefix with option',
    [
      'route add svc-a / http://aaa.com/ opts "strip=/foo"',
      'route add svc-b / http://bbb.com/ opts "strip=/bar"',
    ],
    [
      'route add svc-a / http://aaa.com/ weight 0.5000 opts "strip=/foo"',
      'route add svc-b / http://bbb.com/ weight 0.5000 opts "strip=/bar"',
    ],
  ],
  [
    '1 service, 1 prefix, 2 instances with different options',
    [
      'route add svc-a / http://aaa.com/ opts "strip=/foo"',
      'route add svc-b / http://bbb.com/ opts "strip=/bar"',
    ],
    [
      'route add svc-a / http://aaa.com/ weight 0.5000 opts "strip=/foo"',
      'route add svc-b / http://bbb.com/ weight 0.5000 opts "strip=/bar"',
    ],
  ],
  [
    '2 service, 1 prefix',
    ['route add svc-a / http://aaa.com/', 'route add svc-b / http://bbb.com/'],
    ['route add svc-a / http://aaa.com/ weight 0.5000', 'route add svc-b / http://bbb.com/ weight 0.5000'],
  ],
  [
    '1 service, 2 prefix',
    ['route add svc-a /one http://aaa.com/', 'route add svc-a /two http://aaa.com/'],
    [
      'route add svc-a /two http://aaa.com/ weight 1.0000',
      'route add svc-a /one http://aaa.com/ weight 1.0000',
    ],
  ],
  [
    '2 service, 2 prefix',
    ['route add svc-a /a http://aaa.com/', 'route add svc-b /b http://bbb.com/'],
    ['route add svc-b /b http://bbb.com/ weight 1.0000', 'route add svc-a /a http://aaa.com/ weight 1.0000'],
  ],
  [
    'sort by more specific prefix',
    ['route add svc-a / http://aaa.com/', 'route add svc-b /b http://bbb.com/'],
    ['route add svc-b /b http://bbb.com/ weight 1.0000', 'route add svc-a / http://aaa.com/ weight 1.0000'],
  ],
  [
    'sort prefix with host before prefix without host',
    ['route add svc-a / http://aaa.com/', 'route add svc-b b.com/ http://bbb.com/'],
    [
      'route add svc-b b.com/ http://bbb.com/ weight 1.0000',
      'route add svc-a / http://aaa.com/ weight 1.0000',
    ],
  ],
  [
    'add more specific prefix to existing host',
    ['route add svc-a a.com/ http://aaa.com/', 'route add svc-a a.com/a http://aaa.com/'],
    [
      'route add svc-a a.com/a http://aaa.com/ weight 1.0000',
      'route add svc-a a.com/ http://aaa.com/ weight 1.0000',
    ],
  ],
  [
    'delete route by service, path and target',
    [
      'route add svc-a / http://aaa.com/',
      'route add svc-b / http://bbb.com/',
      'route del svc-b / http://bbb.com/',
    ],
    ['route add svc-a / http://aaa.com/ weight 1.0000'],
  ],
  [
    'delete route by service and path',
    [
      'route add svc-a / http://aaa.com/',
      'route add svc-a / http://aaa.com:2222/',
      'route add svc-b / http://bbb.com/',
      'route del svc-a /',
    ],
    ['route add svc-b / http://bbb.com/ weight 1.0000'],
  ],
  [
    'delete route by service',
    [
      'route add svc-a /a http://aaa.com/',
      'route add svc-a / http://aaa.com/',
      'route add svc-b / http://bbb.com/',
      'route del svc-a',
    ],
    ['route add svc-b / http://bbb.com/ weight 1.0000'],
  ],
  [
    'delete route by service and tags',
    [
      'route add svc-a /a http://aaa.com/ tags "a,b"',
      'route add svc-a /  http://aaa.com/ tags "b,c"',
      'route add svc-b /  http://bbb.com/ tags "c,d"',
      'route del svc-a tags "a,b"',
    ],
    [
      'route add svc-a / http://aaa.com/ weight 0.5000 tags "b,c"',
      'route add svc-b / http://bbb.com/ weight 0.5000 tags "c,d"',
    ],
  ],
  [
    'delete route by tags',
    [
      'route add svc-a /a http://aaa.com/ tags "a,b"',
      'route add svc-a /  http://aaa.com/ tags "b,c"',
      'route add svc-b /  http://bbb.com/ tags "c,d"',
      'route del tags "b"',
    ],
    ['route add svc-b / http://bbb.com/ weight 1.0000 tags "c,d"'],
  ],
  [
    'weigh fixed weight 0 -> auto distribution',
    ['route add svc / http://bar:111/ weight 0'],
    ['route add svc / http://bar:111/ weight 1.0000'],
  ],
  [
    'weigh only fixed weights and sum(fixedWeight) < 1 -> normalize to 100%',
    ['route add svc / http://bar:111/ weight 0.2', 'route add svc / http://bar:222/ weight 0.3'],
    ['route add svc / http://bar:111/ weight 0.4000', 'route add svc / http://bar:222/ weight 0.6000'],
  ],
  [
    'weigh only fixed weights and sum(fixedWeight) > 1 -> normalize to 100%',
    ['route add svc / http://bar:111/ weight 2', 'route add svc / http://bar:222/ weight 3'],
    ['route add svc / http://bar:111/ weight 0.4000', 'route add svc / http://bar:222/ weight 0.6000'],
  ],
  [
    'weigh multiple entries for same instance with no fixed weight -> de-duplication',
    ['route add svc / http://bar:111/', 'route add svc / http://bar:111/'],
    ['route add svc / http://bar:111/ weight 1.0000'],
  ],
  [
    'weigh multiple entries with no fixed weight -> even distribution',
    ['route add svc / http://bar:111/', 'route add svc / http://bar:222/'],
    ['route add svc / http://bar:111/ weight 0.5000', 'route add svc / http://bar:222/ weight 0.5000'],
  ],
  [
    'weigh multiple entries with de-dup and no fixed weight -> even distribution',
    ['route add svc / http://bar:111/', 'route add svc / http://bar:111/', 'route add svc / http://bar:222/'],
    ['route add svc / http://bar:111/ weight 0.5000', 'route add svc / http://bar:222/ weight 0.5000'],
  ],
  [
    'weigh mixed fixed and auto weights -> even distribution of remaining weight across non-fixed weighted targets',
    [
      'route add svc / http://bar:111/',
      'route add svc / http://bar:222/',
      'route add svc / http://bar:333/ weight 0.5',
    ],
    [
      'route add svc / http://bar:111/ weight 0.2500',
      'route add svc / http://bar:222/ weight 0.2500',
      'route add svc / http://bar:333/ weight 0.5000',
    ],
  ],
  [
    'weigh fixed weight == 100% -> route only to fixed weighted targets',
    [
      'route add svc / http://bar:111/',
      'route add svc / http://bar:222/ weight 0.2500',
      'route add svc / http://bar:333/ weight 0.7500',
    ],
    ['route add svc / http://bar:222/ weight 0.2500', 'route add svc / http://bar:333/ weight 0.7500'],
  ],
  [
    'weigh fixed weight > 100%  -> route only to fixed weighted targets and normalize weight',
    [
      'route add svc / http://bar:111/',
      'route add svc / http://bar:222/ weight 1',
      'route add svc / http://bar:333/ weight 3',
    ],
    ['route add svc / http://bar:222/ weight 0.2500', 'route add svc / http://bar:333/ weight 0.7500'],
  ],
  [
    'weigh dynamic weight matched on service name',
    [
      'route add svca / http://bar:111/',
      'route add svcb / http://bar:222/',
      'route add svcb / http://bar:333/',
      'route weight svcb / weight 0.1',
    ],
    [
      'route add svca / http://bar:111/ weight 0.9000',
      'route add svcb / http://bar:222/ weight 0.0500',
      'route add svcb / http://bar:333/ weight 0.0500',
    ],
  ],
  [
    'weigh dynamic weight matched on service name and tags',
    [
      'route add svc / http://bar:111/ tags "a"',
      'route add svc / http://bar:222/ tags "b"',
      'route add svc / http://bar:333/ tags "b"',
      'route weight svc / weight 0.1 tags "b"',
    ],
    [
      'route add svc / http://bar:111/ weight 0.9000 tags "a"',
      'route add svc / http://bar:222/ weight 0.0500 tags "b"',
      'route add svc / http://bar:333/ weight 0.0500 tags "b"',
    ],
  ],
  [
    'weigh dynamic weight matched on tags',
    [
      'route add svca / http://bar:111/ tags "a"',
      'route add svcb / http://bar:222/ tags "b"',
      'route add svcb / http://bar:333/ tags "b"',
      'route weight / weight 0.1 tags "b"',
    ],
    [
      'route add svca / http://bar:111/ weight 0.9000 tags "a"',
      'route add svcb / http://bar:222/ weight 0.0500 tags "b"',
      'route add svcb / http://bar:333/ weight 0.0500 tags "b"',
    ],
  ],
  [
    'weigh more than 1000 routes',
    gen(1234, (i) => `route add svc / http://bar:${i + 1}/`),
    gen(1234, (i) => `route add svc / http://bar:${i + 1}/ weight 0.0008`),
  ],
  [
    'weigh more than 1000 routes with a fixed route target',
    [
      ...gen(1234, (i) => `route add svc / http://bar:${i + 1}/`),
      'route add svc / http://static:12345/ tags "a"',
      'route weight svc / weight 0.2 tags "a"',
    ],
    [
      ...gen(1234, (i) => `route add svc / http://bar:${i + 1}/ weight 0.0006`),
      'route add svc / http://static:12345/ weight 0.2000 tags "a"',
    ],
  ],
  [
    'weigh route: no target match',
    [
      'route weight svcb / weight 0.1',
      'route weight svc / weight 0.1 tags "b"',
      'route weight / weight 0.1 tags "b"',
    ],
    [],
  ],
]

// fabio numbers its generated ports from 0 (`http://bar:0/`), which is not a port lb accepts in a dst: the rows
// above start at 1, which changes nothing else.
fabioCases(
  'TestTableParse',
  parseRows.map(([desc, input, out]) => ({
    fabio: `TestTableParse/${desc}`,
    in: input,
    want: out.map(canonicalLine),
  })),
  (input: string[]) => fabioConfig(irOf(input.join('\n')).ir),
)

/**
 * fabio also checks that each target's share of its ring slots is within 2 points of its weight. lb realises
 * shares as integer server weights; each target's served share (its weight over the sum) must be within half a
 * point of the share asked for, at any number of targets (issue 20, bug 5: the 1,234-target canary got 17.2 %).
 */
for (const [desc, input, out] of parseRows) {
  if (out.length === 0) continue
  test(`TestTableParse (served shares within 0.5 points): ${desc}`, () => {
    const snap = snapshotOf(input.join('\n'))
    const byRoute = new Map<string, Map<string, number>>()
    for (const route of snap.routes) {
      const svc = snap.services.find((s) => s.name === route.service)
      assert.ok(svc !== undefined, route.service)
      const sum = svc.servers.reduce((a, s) => a + s.weight, 0)
      const m = new Map<string, number>()
      for (const s of svc.servers) m.set(`${s.host}:${s.port}`, s.weight / sum)
      byRoute.set(route.host + route.path, m)
    }
    for (const line of out.map(canonicalLine)) {
      const f = line.split(' ')
      const dst = parseDst(f[4] ?? '')
      assert.ok(typeof dst !== 'string')
      const got = byRoute.get(f[3] ?? '')?.get(`${dst.host}:${dst.port}`) ?? 0
      const want = Number(f[6])
      assert.ok(Math.abs(got - want) <= 0.005, `${line}: served ${(got * 100).toFixed(2)} %`)
    }
  })
}

test('TestTableParse/weigh route: no target match is not an error (fabio ignores such lines)', () => {
  assert.deepEqual(irOf('route weight svcb / weight 0.1').problems, [])
})

fabioCases(
  'TestNormalizeHost',
  [
    { fabio: 'TestNormalizeHost/0 foo.com', in: 'foo.com', want: 'foo.com' },
    { fabio: 'TestNormalizeHost/1 foo.com:80', in: 'foo.com:80', want: 'foo.com' },
    { fabio: 'TestNormalizeHost/2 foo.com:81', in: 'foo.com:81', want: 'foo.com:81' },
    { fabio: 'TestNormalizeHost/3 foo.com tls', in: 'foo.com', want: 'foo.com' },
    { fabio: 'TestNormalizeHost/4 foo.com:443 tls', in: 'foo.com:443', want: 'foo.com' },
    { fabio: 'TestNormalizeHost/5 foo.com:444 tls', in: 'foo.com:444', want: 'foo.com:444' },
  ],
  normalizeHost,
)

interface LookupIn {
  readonly host: string
  readonly url: string
  readonly tls?: boolean
  readonly xfp?: string
}

function canon(dst: string): string {
  const d = parseDst(dst)
  return typeof d === 'string'
    ? dst
    : `${d.proto}://${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}`
}

function lookupCases(
  title: string,
  text: string,
  rows: readonly {
    in: LookupIn
    want: string
    redirect?: boolean
    differs?: { reason: string; lb: string }
  }[],
): void {
  const t = tableOf(text)
  const cases: FabioCase<LookupIn, string>[] = rows.map((r, i) => ({
    fabio: `${title}/${i} ${r.in.host}${r.in.url}${r.in.tls === true ? ' tls' : ''}${r.in.xfp === undefined ? '' : ` X-Forwarded-Proto: ${r.in.xfp}`}`,
    in: r.in,
    want: r.redirect === true ? r.want : canon(r.want),
    ...(r.differs === undefined ? {} : { differs: { reason: r.differs.reason, lb: canon(r.differs.lb) } }),
  }))
  fabioCases(title, cases, (q) => lookupDst(t, q.host, q.url, q.tls === true, q.xfp ?? ''))
}

lookupCases(
  'TestTableLookupIssue448',
  `
	route add mock foo.com:80/ https://foo.com/ opts "redirect=301"
	route add mock aaa.com:80/ http://bbb.com/ opts "redirect=301"
	route add mock ccc.com:443/bar https://ccc.com/baz opts "redirect=301"
	route add mock / http://foo.com/
	`,
  [
    { in: { host: 'foo.com', url: '/' }, want: 'https://foo.com/', redirect: true },
    { in: { host: 'foo.com', url: '/', xfp: 'http' }, want: 'https://foo.com/', redirect: true },
    { in: { host: 'foo.com', url: '/', xfp: 'https', tls: true }, want: 'http://foo.com/' },
    { in: { host: 'aaa.com', url: '/', xfp: 'http' }, want: 'http://bbb.com/', redirect: true },
    {
      in: { host: 'ccc.com', url: '/bar', xfp: 'https', tls: true },
      want: 'https://ccc.com/baz',
      redirect: true,
    },
  ],
)

const lookupText = `
	route add svc / http://foo.com:800
	route add svc /foo http://foo.com:900
	route add svc abc.com/ http://foo.com:1000
	route add svc abc.com/foo http://foo.com:1500
	route add svc abc.com/foo/ http://foo.com:2000
	route add svc abc.com/foo/bar http://foo.com:2500
	route add svc abc.com/foo/bar/ http://foo.com:3000
	route add svc z.abc.com/foo/ http://foo.com:3100
	route add svc *.abc.com/ http://foo.com:4000
	route add svc *.abc.com/foo/ http://foo.com:5000
	route add svc *.aaa.abc.com/ http://foo.com:6000
	route add svc *.bbb.abc.com/ http://foo.com:6100
	route add svc xyz.com:80/ https://xyz.com
	`

const BOTH_DEFAULT_PORTS =
  'lb drops both :80 and :443 from a request host on every listener (docs/requests.md "Routing"); fabio only the default port of the connection\'s scheme'

lookupCases('TestTableLookup', lookupText, [
  { in: { host: 'abc.com', url: '/' }, want: 'http://foo.com:1000' },
  { in: { host: 'abc.com', url: '/bar' }, want: 'http://foo.com:1000' },
  { in: { host: 'abc.com', url: '/foo' }, want: 'http://foo.com:1500' },
  { in: { host: 'abc.com', url: '/foo/' }, want: 'http://foo.com:2000' },
  { in: { host: 'abc.com', url: '/foo/bar' }, want: 'http://foo.com:2500' },
  { in: { host: 'abc.com', url: '/foo/bar/' }, want: 'http://foo.com:3000' },
  { in: { host: 'def.com', url: '/' }, want: 'http://foo.com:800' },
  { in: { host: 'def.com', url: '/bar' }, want: 'http://foo.com:800' },
  { in: { host: 'def.com', url: '/foo' }, want: 'http://foo.com:900' },
  { in: { host: 'abc.com:80', url: '/' }, want: 'http://foo.com:1000' },
  { in: { host: 'abc.com:443', url: '/', tls: true }, want: 'http://foo.com:1000' },
  {
    in: { host: 'abc.com:443', url: '/' },
    want: 'http://foo.com:800',
    differs: { reason: BOTH_DEFAULT_PORTS, lb: 'http://foo.com:1000' },
  },
  {
    in: { host: 'abc.com:80', url: '/', tls: true },
    want: 'http://foo.com:800',
    differs: { reason: BOTH_DEFAULT_PORTS, lb: 'http://foo.com:1000' },
  },
  { in: { host: 'x.abc.com', url: '/' }, want: 'http://foo.com:4000' },
  { in: { host: 'y.abc.com', url: '/abc' }, want: 'http://foo.com:4000' },
  { in: { host: 'x.abc.com', url: '/foo/' }, want: 'http://foo.com:5000' },
  { in: { host: 'y.abc.com', url: '/foo/' }, want: 'http://foo.com:5000' },
  {
    in: { host: '.abc.com', url: '/foo/' },
    want: 'http://foo.com:5000',
    differs: {
      reason:
        'lb: `*` stands for at least one character, so `*.abc.com` does not match the name `.abc.com` (src/route/table.ts)',
      lb: 'http://foo.com:900',
    },
  },
  { in: { host: 'x.y.abc.com', url: '/foo/' }, want: 'http://foo.com:5000' },
  { in: { host: 'y.abc.com:80', url: '/foo/' }, want: 'http://foo.com:5000' },
  { in: { host: 'x.aaa.abc.com', url: '/' }, want: 'http://foo.com:6000' },
  { in: { host: 'x.aaa.abc.com', url: '/foo' }, want: 'http://foo.com:6000' },
  { in: { host: 'x.bbb.abc.com', url: '/' }, want: 'http://foo.com:6100' },
  { in: { host: 'x.bbb.abc.com', url: '/foo' }, want: 'http://foo.com:6100' },
  { in: { host: 'y.abc.com:443', url: '/foo/', tls: true }, want: 'http://foo.com:5000' },
  { in: { host: 'z.abc.com', url: '/foo/' }, want: 'http://foo.com:3100' },
  { in: { host: 'xyz.com', url: '/' }, want: 'https://xyz.com' },
])

test('TestTableLookup_656: example.com:80/ redirect=301 next to example.com/ keeps both routes', () => {
  const t = tableOf(`
	route add my-service example.com:80/ https://example.com$path opts "redirect=301"
	route add my-service example.com/ http://127.0.0.1:3000/
	`)
  const route = lookupHttp(t.table, 'example.com', '/foo')
  assert.ok(route !== undefined && route.redirect !== null, 'the plain-HTTP request is redirected')
  assert.equal(route.redirect.code, 301)
  assert.equal(redirectLocation(route, '/foo', 'example.com'), 'https://example.com/foo')
  assert.equal(t.table.ignored.length, 0, 'no route was dropped')
  // Over TLS (or with a trusted X-Forwarded-Proto: https) the proxy route answers.
  assert.equal(lookupDst(t, 'example.com', '/foo', true), 'http://127.0.0.1:3000')
  assert.equal(lookupDst(t, 'example.com', '/foo', false, 'https'), 'http://127.0.0.1:3000')
})

// route/issue57_test.go: after all targets of a route are deleted, the next matching route answers.
fabioCases(
  'TestIssue57',
  [
    'route add svca / http://foo.com:800\nroute add svcb /foo http://foo.com:900\nroute del svcb /foo http://foo.com:900',
    'route add svca / http://foo.com:800\nroute add svcb /foo http://foo.com:900\nroute del svcb /foo',
    'route add svca / http://foo.com:800\nroute add svcb /foo http://foo.com:900\nroute del svcb',
  ].map((text, i) => ({ fabio: `TestIssue57/${i}`, in: text, want: 'http://foo.com:800' })),
  (text) => lookupDst(tableOf(text), undefined, '/foo'),
)
