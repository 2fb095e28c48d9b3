/** fabio's urlprefix- tag grammar: every form and option, and malformed tags (one reason each). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTag, defaultOpts, type RouteOpts, type Src } from '../../src/fabio/tags.js'

const P = 'urlprefix-'
const http = (host: string, path: string): Src => ({ kind: 'http', host, path })
const opts = (o: Partial<RouteOpts> = {}): RouteOpts => ({ ...defaultOpts, ...o })

const good: {
  desc: string
  tag: string
  src: Src
  opts?: Partial<RouteOpts>
  weight?: number
  warnings?: string[]
}[] = [
  { desc: 'path only', tag: 'urlprefix-/css', src: http('', '/css') },
  { desc: 'host + path', tag: 'urlprefix-i.com/static', src: http('i.com', '/static') },
  { desc: 'host only = host/', tag: 'urlprefix-mysite.com', src: http('mysite.com', '/') },
  {
    desc: 'host lower-cased, :80 kept (plain HTTP only)',
    tag: 'urlprefix-Foo.COM:80/x',
    src: http('foo.com:80', '/x'),
  },
  { desc: 'wildcard host', tag: 'urlprefix-*.example.com/', src: http('*.example.com', '/') },
  { desc: 'surrounding spaces trimmed', tag: '  urlprefix-/a  ', src: http('', '/a') },
  { desc: '${DC} expanded', tag: 'urlprefix-${DC}.api.example.com/', src: http('dc1.api.example.com', '/') },
  { desc: '$DC in path', tag: 'urlprefix-/$DC/x', src: http('', '/dc1/x') },
  {
    desc: 'other variables expand to "" with a warning',
    tag: 'urlprefix-/a${NOPE}b',
    src: http('', '/ab'),
    warnings: ['unknown variable $NOPE expands to ""'],
  },
  { desc: 'strip', tag: 'urlprefix-/foo/bar strip=/foo', src: http('', '/foo/bar'), opts: { strip: '/foo' } },
  { desc: 'prepend', tag: 'urlprefix-/bar prepend=/foo', src: http('', '/bar'), opts: { prepend: '/foo' } },
  {
    desc: 'strip and prepend, many spaces',
    tag: 'urlprefix-/foo/bar   prepend=/baz  strip=/foo',
    src: http('', '/foo/bar'),
    opts: { strip: '/foo', prepend: '/baz' },
  },
  { desc: 'proto=http is the default', tag: 'urlprefix-/a proto=http', src: http('', '/a') },
  {
    desc: 'proto=https tlsskipverify=true',
    tag: 'urlprefix-/foo proto=https tlsskipverify=true',
    src: http('', '/foo'),
    opts: { proto: 'https', tlsSkipVerify: true },
  },
  {
    desc: 'tcp port',
    tag: 'urlprefix-:3306 proto=tcp',
    src: { kind: 'tcp', port: 3306 },
    opts: { proto: 'tcp' },
  },
  { desc: 'host=dst', tag: 'urlprefix-/a host=dst', src: http('', '/a'), opts: { hostHeader: 'dst' } },
  {
    desc: 'host=name',
    tag: 'urlprefix-/a host=api.internal',
    src: http('', '/a'),
    opts: { hostHeader: 'api.internal' },
  },
  { desc: 'weight', tag: 'urlprefix-/ weight=0.05', src: http('', '/'), weight: 0.05 },
  {
    desc: 'redirect with $path',
    tag: 'urlprefix-/path redirect=303,https://www.foo.com$path',
    src: http('', '/path'),
    opts: { redirect: { code: 303, url: 'https://www.foo.com$path' } },
  },
  {
    desc: 'allow list (bare IP → /32)',
    tag: 'urlprefix-/ allow=ip:10.0.0.0/8,ip:fe80::/10,ip:192.168.1.7',
    src: http('', '/'),
    opts: { allow: ['10.0.0.0/8', 'fe80::/10', '192.168.1.7/32'] },
  },
  {
    desc: 'deny list',
    tag: 'urlprefix-/ deny=ip:1.2.3.0/24',
    src: http('', '/'),
    opts: { deny: ['1.2.3.0/24'] },
  },
  {
    desc: 'register= names a Consul alias (provider/consul/register.ts)',
    tag: 'urlprefix-api.example.com/ register=api-example',
    src: http('api.example.com', '/'),
    opts: { register: 'api-example', auth: '', pxyproto: false },
  },
  {
    desc: 'auth= names an http.auth scheme',
    tag: 'urlprefix-/admin auth=ops',
    src: http('', '/admin'),
    opts: { register: '', auth: 'ops', pxyproto: false },
  },
  {
    desc: 'tlsskipverify=true on http is accepted (a no-op, as in fabio)',
    tag: 'urlprefix-/a tlsskipverify=true',
    src: http('', '/a'),
    opts: { tlsSkipVerify: true },
  },
  {
    desc: 'ip:port without proto=tcp is an HTTP route for that host (fabio)',
    tag: 'urlprefix-1.1.1.1:999',
    src: http('1.1.1.1:999', '/'),
  },
  {
    desc: 'tcp-dynamic ip:port with proto=tcp (a TCP route, listener opened with tcp_dynamic)',
    tag: 'urlprefix-127.0.0.1:1234 proto=tcp',
    src: http('127.0.0.1:1234', '/'),
    opts: { proto: 'tcp' },
  },
  {
    desc: 'tcp+sni host/ with proto=tcp and pxyproto',
    tag: 'urlprefix-db.example.com/ proto=tcp pxyproto=true',
    src: http('db.example.com', '/'),
    opts: { proto: 'tcp', register: '', auth: '', pxyproto: true },
  },
  {
    desc: 'unknown option ignored with a warning',
    tag: 'urlprefix-/a frobnicate=1',
    src: http('', '/a'),
    warnings: ['unknown option "frobnicate" ignored'],
  },
]

for (const c of good) {
  test(`tag ok: ${c.desc}`, () => {
    const r = parseTag(c.tag, P, 'dc1')
    assert.ok(r !== null && r.ok, JSON.stringify(r))
    const { optText: _optText, ...route } = r.route
    assert.deepEqual(route, {
      src: c.src,
      weight: c.weight ?? 0,
      opts: opts(c.opts),
      warnings: c.warnings ?? [],
    })
  })
}

const bad: { desc: string; tag: string; reason: RegExp }[] = [
  { desc: 'empty source', tag: 'urlprefix-', reason: /empty route source/ },
  { desc: 'bad port', tag: 'urlprefix-:99999 proto=tcp', reason: /not a valid :port/ },
  { desc: ':port without proto=tcp', tag: 'urlprefix-:3306', reason: /needs proto=tcp/ },
  {
    desc: 'proto=tcp on a path',
    tag: 'urlprefix-/a proto=tcp',
    reason: /needs a :port, <ip>:<port> \(tcp-dynamic\) or <host>\/ \(tcp\+sni\) source/,
  },
  { desc: 'grpc', tag: 'urlprefix-/a proto=grpc', reason: /not supported/ },
  { desc: 'unknown proto', tag: 'urlprefix-/a proto=ftp', reason: /proto= must be/ },
  {
    desc: 'tlsskipverify not boolean',
    tag: 'urlprefix-/a proto=https tlsskipverify=yes',
    reason: /true or false/,
  },
  { desc: 'strip not a path', tag: 'urlprefix-/a strip=foo', reason: /strip= must be a path/ },
  { desc: 'weight above 1', tag: 'urlprefix-/a weight=5', reason: /between 0 and 1/ },
  { desc: 'weight not a number', tag: 'urlprefix-/a weight=x', reason: /between 0 and 1/ },
  { desc: 'redirect bad code', tag: 'urlprefix-/a redirect=200,https://x', reason: /redirect=/ },
  { desc: 'redirect no url', tag: 'urlprefix-/a redirect=301', reason: /redirect=/ },
  { desc: 'allow without ip:', tag: 'urlprefix-/a allow=10.0.0.0/8', reason: /ip:/ },
  { desc: 'allow bad cidr', tag: 'urlprefix-/a allow=ip:10.0.0.0/99', reason: /ip:10.0.0.0\/99/ },
  {
    desc: 'allow and deny',
    tag: 'urlprefix-/a allow=ip:1.1.1.1 deny=ip:2.2.2.2',
    reason: /cannot be used together/,
  },
  { desc: 'auth not a name', tag: 'urlprefix-/admin auth=a/b', reason: /auth= must name/ },
  { desc: 'bad host', tag: 'urlprefix-ex@mple.com/', reason: /not a valid host/ },
  { desc: 'query in path', tag: 'urlprefix-/a?b', reason: /must not contain/ },
]

for (const c of bad) {
  test(`tag dropped: ${c.desc}`, () => {
    const r = parseTag(c.tag, P, 'dc1')
    assert.ok(r !== null && !r.ok, JSON.stringify(r))
    assert.match(r.reason, c.reason)
  })
}

test('a tag without the prefix is not a route tag', () => {
  assert.equal(parseTag('version-2', P, 'dc1'), null)
  assert.equal(parseTag('lb-/a', P, 'dc1'), null)
  const r = parseTag('lb-/a', 'lb-', 'dc1')
  assert.ok(r !== null && r.ok)
})
