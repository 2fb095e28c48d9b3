/** validate(): accepted YAML → Config. Each expectation is an edit of the defaults. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { MutableConfig } from '../../src/config/types.js'
import { balanceNames, defaultConfig } from '../../src/config/defaults.js'
import { pickers } from '../../src/balance/pickers.js'
import { edit, valid, yaml } from './helpers.js'

type Server = MutableConfig['services'][number]['servers'][number]
type Service = MutableConfig['services'][number]

function server(host: string, port: number, extra: Partial<Server> = {}): Server {
  return {
    name: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    host,
    port,
    weight: 1,
    backup: false,
    maxconn: 0,
    state: 'up',
    check: true,
    ...extra,
  }
}

function service(name: string, servers: Server[], extra: Partial<Service> = {}): Service {
  const d = structuredClone(edit().defaults) as MutableConfig['defaults']
  return { name, ...d, proto: 'http', tlsSkipVerify: false, servers, ...extra }
}

const cases: { desc: string; input: string; want: ReturnType<typeof edit> }[] = [
  { desc: 'an empty file is the defaults', input: '', want: edit() },
  { desc: 'a comment-only file is the defaults', input: '# nothing\n', want: edit() },
  {
    desc: 'empty sections are the defaults',
    input: yaml`
      listeners:
      defaults:
      http:
        timeouts:
      log:
      admin:
      resolver:
    `,
    want: edit(),
  },
  {
    desc: 'listener address forms and default names',
    input: yaml`
      listeners:
        - address: ":8080"
        - address: 127.0.0.1:8081
        - address: "[::1]:8082"
          name: v6
        - address: 0.0.0.0:0
    `,
    want: edit((c) => {
      c.listeners = [
        { name: 'http-8080', host: '', port: 8080, mode: 'http' },
        { name: 'http-8081', host: '127.0.0.1', port: 8081, mode: 'http' },
        { name: 'v6', host: '::1', port: 8082, mode: 'http' },
        { name: 'http-0', host: '0.0.0.0', port: 0, mode: 'http' },
      ]
    }),
  },
  {
    desc: 'services inherit defaults; overrides win; timeouts merge key by key',
    input: yaml`
      defaults:
        balance: leastconn
        retries: 3
        max_connections: 64
        timeouts: { connect: 1s }
      services:
        - name: a
          servers: [{ address: 10.0.0.1:80 }]
        - name: b
          balance: first
          retries: 0
          max_connections: 8
          timeouts: { server: 2m, keep_alive: 1500 }
          proto: https
          tls_skip_verify: true
          servers: [{ address: 10.0.0.2:443 }]
    `,
    want: edit((c) => {
      c.defaults = {
        ...c.defaults,
        balance: 'leastconn',
        retries: 3,
        maxConnections: 64,
        timeouts: { ...c.defaults.timeouts, connect: 1_000 },
      }
      c.services = [
        service('a', [server('10.0.0.1', 80)], {
          balance: 'leastconn',
          retries: 3,
          maxConnections: 64,
          timeouts: { ...c.defaults.timeouts },
        }),
        service('b', [server('10.0.0.2', 443)], {
          balance: 'first',
          retries: 0,
          maxConnections: 8,
          timeouts: { connect: 1_000, server: 120_000, body: 60_000, keepAlive: 1_500 },
          proto: 'https',
          tlsSkipVerify: true,
        }),
      ]
    }),
  },
  {
    desc: 'server fields, defaults, hostnames and IPv6',
    input: yaml`
      services:
        - name: k8s
          servers:
            - address: kube.controller01:6443
            - address: "[fd00::1]:6443"
              name: v6
              weight: 0
              backup: true
              maxconn: 10
              state: drain
            - address: 10.0.0.3:6443
              state: maint
              weight: 256
    `,
    want: edit((c) => {
      c.services = [
        service('k8s', [
          server('kube.controller01', 6443),
          server('fd00::1', 6443, { name: 'v6', weight: 0, backup: true, maxconn: 10, state: 'drain' }),
          server('10.0.0.3', 6443, { state: 'maint', weight: 256 }),
        ]),
      ]
    }),
  },
  {
    desc: 'route hosts are lower-cased and lose a trailing dot; ports are kept (:80 = plain HTTP, :443 = TLS)',
    input: yaml`
      services: [{ name: web, servers: [{ address: 127.0.0.1:1 }] }]
      routes:
        - { service: web }
        - { host: Example.COM:80, service: web }
        - { host: "www.example.com.:443", service: web }
        - { host: "*.Example.com", path: /api, service: web }
        - { host: example.com:8080, path: /x/, service: web }
        - { host: "[::1]:80", service: web }
    `,
    want: edit((c) => {
      c.services = [service('web', [server('127.0.0.1', 1)])]
      const r = {
        host: '',
        path: '/',
        service: 'web',
        strip: '',
        prepend: '',
        hostHeader: '',
        redirect: null,
      }
      c.routes = [
        { ...r },
        { ...r, host: 'example.com:80' },
        { ...r, host: 'www.example.com:443' },
        { ...r, host: '*.example.com', path: '/api' },
        { ...r, host: 'example.com:8080', path: '/x/' },
        { ...r, host: '[::1]:80' },
      ]
    }),
  },
  {
    desc: 'route strip, prepend, host_header and redirects',
    input: yaml`
      services: [{ name: web, servers: [{ address: 127.0.0.1:1 }] }]
      routes:
        - { path: /api, service: web, strip: /api, prepend: /v1, host_header: dst }
        - { path: /b, service: web, host_header: backend.internal:8080 }
        - { path: /old, redirect: { url: / } }
        - { path: /moved, redirect: { code: 308, url: "https://example.com$path" } }
    `,
    want: edit((c) => {
      c.services = [service('web', [server('127.0.0.1', 1)])]
      const r = {
        host: '',
        path: '/',
        service: 'web',
        strip: '',
        prepend: '',
        hostHeader: '',
        redirect: null,
      }
      c.routes = [
        { ...r, path: '/api', strip: '/api', prepend: '/v1', hostHeader: 'dst' },
        { ...r, path: '/b', hostHeader: 'backend.internal:8080' },
        { ...r, path: '/old', service: '', redirect: { code: 302, url: '/' } },
        { ...r, path: '/moved', service: '', redirect: { code: 308, url: 'https://example.com$path' } },
      ]
    }),
  },
  {
    desc: 'http section; bare IPs become /32 and /128; host bits are cleared',
    input: yaml`
      http:
        trusted_proxies: [127.0.0.1, "::1", 10.1.2.3/8, "fd00::/8"]
        request_id_header: X-Request-Id
        path_match: segment
        max_header_size: 1024
        gzip_content_types: '^text/'
        http2: { max_concurrent_streams: 10, max_resets: 5, reset_interval: 2s }
        timeouts: { http_request: 1s, client: 2s, keep_alive: 3s, tunnel: 1m30s }
    `,
    want: edit((c) => {
      c.http = {
        trustedProxies: ['127.0.0.1/32', '::1/128', '10.0.0.0/8', 'fd00::/8'],
        requestIdHeader: 'X-Request-Id',
        clientIpHeader: '',
        localIp: '',
        auth: [],
        noRoute: { status: 404, page: '' },
        gzipContentTypes: '^text/',
        pathMatch: 'segment',
        maxHeaderSize: 1024,
        maxconn: 0,
        http2: { maxConcurrentStreams: 10, maxResets: 5, resetInterval: 2_000 },
        timeouts: { httpRequest: 1_000, client: 2_000, keepAlive: 3_000, tunnel: 90_000 },
      }
    }),
  },
  {
    desc: 'log, admin and resolver',
    input: yaml`
      log:
        level: debug
        destination: /var/log/lb.log
        access: { enabled: false, destination: stderr }
      admin:
        address: ":9000"
        token: s3cret
        allowed_hosts: [LB1.example.com, lb.internal]
      resolver: { max_ttl: 1m, min_ttl: 0, retry: 500ms, cache_size: 10 }
    `,
    want: edit((c) => {
      c.log = {
        level: 'debug',
        destination: '/var/log/lb.log',
        access: { ...c.log.access, enabled: false, destination: 'stderr' },
      }
      c.admin = {
        host: '',
        port: 9000,
        token: 's3cret',
        allowedHosts: ['lb1.example.com', 'lb.internal'],
        sampleInterval: 10_000,
      }
      c.resolver = { maxTtl: 60_000, minTtl: 0, retry: 500, cacheSize: 10 }
    }),
  },
  {
    desc: 'admin off',
    input: 'admin: { address: "off" }\n',
    want: edit((c) => {
      c.admin = { host: '', port: 0, token: '', allowedHosts: [], sampleInterval: 10_000 }
    }),
  },
  {
    desc: 'admin port 0 disables it too',
    input: 'admin: { address: "127.0.0.1:0" }\n',
    want: edit((c) => {
      c.admin.port = 0
    }),
  },
  {
    desc: 'YAML merge keys',
    input: yaml`
      services:
        - name: a
          timeouts: &fast { connect: 100ms, server: 1s }
          servers: [{ address: 10.0.0.1:80 }]
        - name: b
          timeouts: { <<: *fast, server: 2s }
          servers: [{ address: 10.0.0.2:80 }]
    `,
    want: edit((c) => {
      const t = c.defaults.timeouts
      c.services = [
        service('a', [server('10.0.0.1', 80)], { timeouts: { ...t, connect: 100, server: 1_000 } }),
        service('b', [server('10.0.0.2', 80)], { timeouts: { ...t, connect: 100, server: 2_000 } }),
      ]
    }),
  },
]

for (const c of cases) {
  test(`schema: ${c.desc}`, () => {
    assert.deepEqual(valid(c.input), c.want)
  })
}

test('schema: balanceNames lists exactly the picker registry', () => {
  assert.deepEqual([...balanceNames].sort(), Object.keys(pickers).sort())
})

test('schema: the result shares no objects with the defaults literal', () => {
  const c = valid('')
  assert.notEqual(c.listeners, defaultConfig.listeners)
  assert.notEqual(c.listeners[0], defaultConfig.listeners[0])
  assert.notEqual(c.defaults.timeouts, defaultConfig.defaults.timeouts)
  assert.notEqual(c.http.trustedProxies, defaultConfig.http.trustedProxies)
})
