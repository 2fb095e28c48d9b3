import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  compareWildcardHosts,
  isDefaultPort,
  matchWildcard,
  needsNormalize,
  normalizeHost,
  portStart,
  splitWildcardHost,
  WildcardIndexBuilder,
} from '../../src/route/host.js'

test('normalizeHost', async (t) => {
  const cases = [
    { desc: 'already canonical', host: 'example.com', want: 'example.com' },
    { desc: 'lower-cases', host: 'WWW.Example.COM', want: 'www.example.com' },
    { desc: 'strips :80', host: 'example.com:80', want: 'example.com' },
    { desc: 'strips :443', host: 'example.com:443', want: 'example.com' },
    { desc: 'strips an empty port', host: 'example.com:', want: 'example.com' },
    { desc: 'keeps a non-default port', host: 'example.com:8080', want: 'example.com:8080' },
    { desc: 'lower-cases and keeps the port', host: 'Example.COM:8443', want: 'example.com:8443' },
    { desc: 'port with leading zero is not default', host: 'example.com:080', want: 'example.com:080' },
    { desc: 'strips one trailing dot', host: 'example.com.', want: 'example.com' },
    { desc: 'strips the trailing dot before a port', host: 'Example.com.:443', want: 'example.com' },
    { desc: 'strips the trailing dot and keeps a non-default port', host: 'a.b.:81', want: 'a.b:81' },
    { desc: 'a lone dot stays', host: '.', want: '.' },
    { desc: 'IPv4 with default port', host: '10.0.0.1:80', want: '10.0.0.1' },
    { desc: 'IPv4 with port', host: '10.0.0.1:8080', want: '10.0.0.1:8080' },
    { desc: 'IPv6 literal', host: '[::1]', want: '[::1]' },
    { desc: 'IPv6 with default port', host: '[::1]:443', want: '[::1]' },
    { desc: 'IPv6 with port', host: '[::1]:8080', want: '[::1]:8080' },
    { desc: 'IPv6 upper-case hex', host: '[FE80::A]:80', want: '[fe80::a]' },
    { desc: 'unbracketed IPv6 has no port', host: '::1', want: '::1' },
    { desc: 'unbracketed IPv6 ending in 80 keeps it', host: 'fe80::80', want: 'fe80::80' },
    { desc: 'wildcard pattern', host: '*.Example.com:80', want: '*.example.com' },
    { desc: 'wildcard pattern with port', host: '*.example.com:8080', want: '*.example.com:8080' },
    { desc: 'empty', host: '', want: '' },
    { desc: 'port only', host: ':80', want: '' },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      assert.equal(normalizeHost(c.host), c.want)
      assert.equal(normalizeHost(c.want), c.want, 'idempotent')
    })
  }
})

test('portStart, isDefaultPort and needsNormalize scan raw hosts', async (t) => {
  const cases = [
    { desc: 'no port', host: 'example.com', port: -1, isDefault: false, needs: false },
    { desc: ':80', host: 'example.com:80', port: 11, isDefault: true, needs: false },
    { desc: ':443', host: 'example.com:443', port: 11, isDefault: true, needs: false },
    { desc: ':8080', host: 'example.com:8080', port: 11, isDefault: false, needs: false },
    { desc: ':8', host: 'example.com:8', port: 11, isDefault: false, needs: false },
    { desc: ':44', host: 'example.com:44', port: 11, isDefault: false, needs: false },
    { desc: 'empty port', host: 'example.com:', port: 11, isDefault: true, needs: true },
    { desc: 'upper-case', host: 'Example.com', port: -1, isDefault: false, needs: true },
    { desc: 'trailing dot', host: 'example.com.', port: -1, isDefault: false, needs: true },
    { desc: 'trailing dot before port', host: 'example.com.:80', port: 12, isDefault: true, needs: true },
    { desc: 'IPv6 without port', host: '[::1]', port: -1, isDefault: false, needs: false },
    { desc: 'IPv6 with port', host: '[::1]:8080', port: 5, isDefault: false, needs: false },
    { desc: 'IPv6 unclosed', host: '[::1:80', port: -1, isDefault: false, needs: false },
    { desc: 'unbracketed IPv6', host: '::1', port: -1, isDefault: false, needs: false },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      const start = portStart(c.host)
      assert.equal(start, c.port === -1 ? c.host.length : c.port)
      assert.equal(isDefaultPort(c.host, start), c.isDefault)
      assert.equal(needsNormalize(c.host, start), c.needs)
    })
  }
})

test('splitWildcardHost', async (t) => {
  const cases = [
    { desc: 'label wildcard', pattern: '*.example.com', suffix: '.example.com', port: '' },
    { desc: 'with port', pattern: '*.example.com:8080', suffix: '.example.com', port: '8080' },
    { desc: 'bare star', pattern: '*', suffix: '', port: '' },
    { desc: 'glob-style suffix', pattern: '*example.com', suffix: 'example.com', port: '' },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      assert.deepEqual(splitWildcardHost(c.pattern), { suffix: c.suffix, port: c.port })
    })
  }
})

test('compareWildcardHosts orders most specific first', async (t) => {
  const cases = [
    {
      desc: 'deeper suffix first',
      hosts: ['*.example.com', '*.a.example.com', '*.b.a.example.com'],
      want: ['*.b.a.example.com', '*.a.example.com', '*.example.com'],
    },
    {
      desc: 'label wildcard before glob-style suffix before bare star',
      hosts: ['*', '*example.com', '*.example.com', '*ample.com'],
      want: ['*.example.com', '*example.com', '*ample.com', '*'],
    },
    {
      desc: 'port-specific first, then by port',
      hosts: ['*.example.com', '*.example.com:9090', '*.a.example.com', '*.example.com:8080'],
      want: ['*.example.com:8080', '*.example.com:9090', '*.a.example.com', '*.example.com'],
    },
    {
      desc: 'unrelated suffixes in reversed-string order (deterministic)',
      hosts: ['*.a.org', '*.b.com', '*.a.com'],
      want: ['*.b.com', '*.a.com', '*.a.org'],
    },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      assert.deepEqual(c.hosts.slice().sort(compareWildcardHosts), c.want)
      assert.deepEqual(c.hosts.slice().reverse().sort(compareWildcardHosts), c.want)
    })
  }
})

test('matchWildcard returns the matching wildcards most specific first', async (t) => {
  const b = new WildcardIndexBuilder<string>()
  for (const p of [
    '*.example.com',
    '*.a.example.com',
    '*example.com',
    '*',
    '*.example.org',
    '*.b.example.com',
  ]) {
    assert.equal(b.insert(splitWildcardHost(p).suffix, p), true)
  }
  assert.equal(b.insert('.example.com', 'duplicate'), false, 'first insert wins')
  const index = b.finish()
  assert.equal(index.size, 6)

  const cases = [
    { desc: 'one label', host: 'x.example.com', want: ['*.example.com', '*example.com', '*'] },
    { desc: 'two labels', host: 'x.y.example.com', want: ['*.example.com', '*example.com', '*'] },
    {
      desc: 'nested wildcard',
      host: 'x.a.example.com',
      want: ['*.a.example.com', '*.example.com', '*example.com', '*'],
    },
    {
      desc: 'a wildcard does not match its own bare domain',
      host: 'a.example.com',
      want: ['*.example.com', '*example.com', '*'],
    },
    { desc: 'bare domain', host: 'example.com', want: ['*'] },
    { desc: 'leading dot needs one more char', host: '.example.com', want: ['*example.com', '*'] },
    { desc: 'glob-style suffix without dot', host: 'myexample.com', want: ['*example.com', '*'] },
    { desc: 'other domain', host: 'x.example.net', want: ['*'] },
    { desc: 'port is ignored via nameEnd', host: 'x.example.org:8080', want: ['*.example.org', '*'] },
    { desc: 'empty host matches nothing', host: '', want: [] },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      const got: string[] = []
      for (let n = matchWildcard(index, c.host, portStart(c.host)); n !== null; n = n.next) {
        if (n.value !== null) got.push(n.value)
      }
      assert.deepEqual(got, c.want)
    })
  }
})
