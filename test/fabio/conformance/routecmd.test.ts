/**
 * fabio `registry/consul/routecmd_test.go`: Consul service tags → routes (TestRouteCmd, 5 rows, through
 * provider/consul/build.ts `buildSnapshot`) and the `urlprefix-` tag parser (TestParseTag, 20 rows, through
 * provider/consul/tags.ts `parseTag`). fabio's parser returns the route source as text; a source without '/'
 * is a host whose path is '/' (fabio `route.hostpath`), which is how both sides are compared here.
 */
import { fabioCases } from './cases.js'
import { buildSnapshot } from '../../../src/provider/consul/build.js'
import type { HealthEntry } from '../../../src/provider/consul/entries.js'
import { parseTag } from '../../../src/fabio/tags.js'
import { defaultConfig } from '../../../src/config/defaults.js'

function entry(tags: string[]): HealthEntry {
  return {
    Node: { Node: 'node', Address: '10.0.0.9' },
    Service: { ID: 'svc-1', Service: 'svc-1', Tags: tags, Address: '1.1.1.1', Port: 2222 },
    Checks: [{ CheckID: 'service:svc-1', Status: 'passing', ServiceID: 'svc-1' }],
  }
}

/** The `route add` lines fabio's routecmd.build() would make, from lb's snapshot. */
function routeLines(tags: string[]): string[] {
  const { snapshot } = buildSnapshot(
    { health: new Map([['svc-1', [entry(tags)]]]), kv: [] },
    {
      tagPrefix: 'p-',
      status: ['passing'],
      routeWithoutChecks: false,
      dc: 'dc1',
      defaults: defaultConfig.defaults,
    },
  )
  const server = (name: string): string => {
    const s = snapshot.services.find((x) => x.name === name)?.servers[0]
    return s === undefined ? '?' : `${s.host}:${s.port}`
  }
  return [
    ...snapshot.routes.map((r) => `route add svc-1 ${r.host}${r.path} http://${server(r.service)}/`),
    ...snapshot.tcpRoutes.map((r) => `route add svc-1 :${r.port} tcp://${server(r.service)}`),
  ]
}

fabioCases(
  'TestRouteCmd',
  [
    { fabio: 'TestRouteCmd/http', in: ['p-foo/bar'], want: ['route add svc-1 foo/bar http://1.1.1.1:2222/'] },
    {
      fabio: 'TestRouteCmd/http single tag with a space',
      in: [' p-foo/bar'],
      want: ['route add svc-1 foo/bar http://1.1.1.1:2222/'],
    },
    {
      fabio: 'TestRouteCmd/http multiple tags',
      in: ['p-foo/bar', 'p-test/foo'],
      want: ['route add svc-1 foo/bar http://1.1.1.1:2222/', 'route add svc-1 test/foo http://1.1.1.1:2222/'],
    },
    {
      fabio: 'TestRouteCmd/http multiple routes with space prefix route',
      in: ['p-foo/bar', '  p-test/foo'],
      want: ['route add svc-1 foo/bar http://1.1.1.1:2222/', 'route add svc-1 test/foo http://1.1.1.1:2222/'],
    },
    {
      fabio: 'TestRouteCmd/tcp',
      in: ['p-:1234 proto=tcp'],
      want: ['route add svc-1 :1234 tcp://1.1.1.1:2222'],
    },
  ],
  routeLines,
)

interface TagOut {
  readonly ok: boolean
  /** host + path (fabio's route text with `/` added to a bare host), '' when not ok. */
  readonly route: string
  readonly opts: string
}

function hostpath(route: string): string {
  return route.startsWith(':') || route.includes('/') ? route : `${route}/`
}

function lbTag(tag: string): TagOut {
  const r = parseTag(tag, 'p-', '')
  if (r === null || !r.ok) return { ok: false, route: '', opts: '' }
  const src = r.route.src
  return {
    ok: true,
    route: src.kind === 'tcp' ? `:${src.port}` : src.host + src.path,
    opts: r.route.optText,
  }
}

const EMPTY_SOURCE =
  'an empty source makes no route: fabio emits `route add svc  http://…`, which its own parser rejects, and so keeps its old table; lb drops the tag with a reason'
const ENV =
  "fabio's test injects variables x and Y; its Consul backend (like lb) defines only ${DC}, and lb expands nothing else"

const rows: {
  tag: string
  route: string
  opts?: string
  ok: boolean
  differs?: { reason: string; lb: TagOut }
}[] = [
  { tag: 'p', route: '', ok: false },
  {
    tag: 'p-',
    route: '',
    ok: true,
    differs: { reason: EMPTY_SOURCE, lb: { ok: false, route: '', opts: '' } },
  },
  {
    tag: 'p- ',
    route: '',
    ok: true,
    differs: { reason: EMPTY_SOURCE, lb: { ok: false, route: '', opts: '' } },
  },
  { tag: 'p-/', route: '/', ok: true },
  { tag: ' p-/', route: '/', ok: true },
  { tag: 'p-/ ', route: '/', ok: true },
  { tag: 'p- / ', route: '/', ok: true },
  { tag: 'p-/foo', route: '/foo', ok: true },
  { tag: 'p- /foo', route: '/foo', ok: true },
  { tag: 'p-1.1.1.1:999', route: '1.1.1.1:999', ok: true },
  { tag: 'p-bar/foo', route: 'bar/foo', ok: true },
  { tag: 'p-bar/foo/foo', route: 'bar/foo/foo', ok: true },
  { tag: 'p-www.bar.com/foo/foo', route: 'www.bar.com/foo/foo', ok: true },
  { tag: 'p-WWW.BAR.COM/foo/foo', route: 'www.bar.com/foo/foo', ok: true },
  { tag: 'p-bar/foo a b c', route: 'bar/foo', opts: 'a b c', ok: true },
  { tag: 'p-$x/$y', route: '/', ok: true },
  { tag: 'p-${x}/${y}', route: '/', ok: true },
  {
    tag: 'p-$x/$Y (env x=Xx, Y=Yy)',
    route: 'xx/Yy',
    ok: true,
    differs: { reason: ENV, lb: { ok: true, route: '/', opts: '' } },
  },
  {
    tag: 'p-${x}/${Y} (env x=Xx, Y=Yy)',
    route: 'xx/Yy',
    ok: true,
    differs: { reason: ENV, lb: { ok: true, route: '/', opts: '' } },
  },
  {
    tag: 'p-www.bar.com:80/foo redirect=302,https://www.bar.com',
    route: 'www.bar.com:80/foo',
    opts: 'redirect=302,https://www.bar.com',
    ok: true,
  },
]

fabioCases(
  'TestParseTag',
  rows.map((r, i) => ({
    fabio: `TestParseTag/${i} ${JSON.stringify(r.tag)}`,
    in: r.tag.replace(/ \(env .*\)$/, ''),
    want: r.ok
      ? { ok: true, route: hostpath(r.route), opts: r.opts ?? '' }
      : { ok: false, route: '', opts: '' },
    ...(r.differs === undefined ? {} : { differs: r.differs }),
  })),
  lbTag,
)
