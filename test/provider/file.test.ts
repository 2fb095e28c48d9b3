/** configToSnapshot: services with defaults applied, server states, routes with their source. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Config, MutableConfig } from '../../src/config/types.js'
import { validate } from '../../src/config/validate.js'
import { defaultConfig } from '../../src/config/defaults.js'
import { parseYaml } from '../../src/config/load.js'
import { configToSnapshot } from '../../src/provider/file.js'
import type { ServiceSpec, Snapshot } from '../../src/model/snapshot.js'

function load(text: string, file = '/etc/lb/lb.yaml'): Config {
  const r = validate(parseYaml(text, file).raw, file)
  if (r.config === undefined) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'))
  return r.config
}

const t = defaultConfig.defaults.timeouts
const baseService: ServiceSpec = {
  name: 'web',
  balance: 'roundrobin',
  retries: 2,
  timeouts: { connect: t.connect, server: t.server, body: t.body, keepAlive: t.keepAlive },
  maxConnections: 256,
  proto: 'http',
  tlsSkipVerify: false,
  servers: [
    {
      name: '127.0.0.1:9001',
      host: '127.0.0.1',
      port: 9001,
      weight: 1,
      backup: false,
      maxconn: 0,
      state: 'up',
    },
  ],
}

const cases: { desc: string; input: string; want: Snapshot }[] = [
  { desc: 'no services, no routes', input: '', want: { services: [], routes: [], tcpRoutes: [] } },
  {
    desc: 'a service with every default applied',
    input: 'services: [{ name: web, servers: [{ address: 127.0.0.1:9001 }] }]\n',
    want: { services: [baseService], routes: [], tcpRoutes: [] },
  },
  {
    desc: 'defaults and per-service overrides, timeouts merged key by key',
    input: `
defaults: { balance: leastconn, retries: 1, max_connections: 8, timeouts: { connect: 1s } }
services:
  - name: web
    balance: first
    timeouts: { server: 2s }
    proto: https
    tls_skip_verify: true
    servers: [{ address: 127.0.0.1:9001 }]
`,
    want: {
      services: [
        {
          ...baseService,
          balance: 'first',
          retries: 1,
          maxConnections: 8,
          timeouts: { connect: 1_000, server: 2_000, body: t.body, keepAlive: t.keepAlive },
          proto: 'https',
          tlsSkipVerify: true,
        },
      ],
      routes: [],
      tcpRoutes: [],
    },
  },
  {
    desc: 'server fields and states',
    input: `
services:
  - name: web
    servers:
      - { address: 127.0.0.1:9001, name: a, weight: 3, maxconn: 10 }
      - { address: "[::1]:9002", state: drain, backup: true }
      - { address: kube.controller01:6443, state: maint, weight: 0 }
`,
    want: {
      services: [
        {
          ...baseService,
          servers: [
            { name: 'a', host: '127.0.0.1', port: 9001, weight: 3, backup: false, maxconn: 10, state: 'up' },
            {
              name: '[::1]:9002',
              host: '::1',
              port: 9002,
              weight: 1,
              backup: true,
              maxconn: 0,
              state: 'drain',
            },
            {
              name: 'kube.controller01:6443',
              host: 'kube.controller01',
              port: 6443,
              weight: 0,
              backup: false,
              maxconn: 0,
              state: 'maint',
            },
          ],
        },
      ],
      routes: [],
      tcpRoutes: [],
    },
  },
  {
    desc: 'routes carry their source, normalised host and options',
    input: `
services: [{ name: web, servers: [{ address: 127.0.0.1:9001 }] }]
routes:
  - { path: /, service: web }
  - { host: Example.COM:443, path: /api, service: web, strip: /api, prepend: /v1, host_header: dst }
  - { path: /old, redirect: { code: 301, url: "https://example.com$path" } }
`,
    want: {
      services: [baseService],
      routes: [
        {
          host: '',
          path: '/',
          service: 'web',
          strip: '',
          prepend: '',
          hostHeader: '',
          redirect: null,
          source: '/etc/lb/lb.yaml:routes[0]',
        },
        {
          host: 'example.com:443',
          path: '/api',
          service: 'web',
          strip: '/api',
          prepend: '/v1',
          hostHeader: 'dst',
          redirect: null,
          source: '/etc/lb/lb.yaml:routes[1]',
        },
        {
          host: '',
          path: '/old',
          service: '',
          strip: '',
          prepend: '',
          hostHeader: '',
          redirect: { code: 301, url: 'https://example.com$path' },
          source: '/etc/lb/lb.yaml:routes[2]',
        },
      ],
      tcpRoutes: [],
    },
  },
]

for (const c of cases) {
  test(`file provider: ${c.desc}`, () => {
    assert.deepEqual(configToSnapshot(load(c.input)), c.want)
  })
}

test('file provider: a config built in code names its routes config:routes[i]', () => {
  const c = structuredClone(defaultConfig) as MutableConfig
  c.routes = [
    {
      host: '',
      path: '/',
      service: '',
      strip: '',
      prepend: '',
      hostHeader: '',
      redirect: { code: 302, url: '/x' },
    },
  ]
  assert.equal(configToSnapshot(c).routes[0]?.source, 'config:routes[0]')
})

test('file provider: the snapshot shares no objects with the config and survives structured cloning', () => {
  const config = load(`
services: [{ name: web, servers: [{ address: 127.0.0.1:9001 }] }]
routes: [{ path: /old, redirect: { url: / } }]
`)
  const snap = configToSnapshot(config)
  assert.notEqual(snap.services[0], config.services[0])
  assert.notEqual(snap.services[0]?.servers[0], config.services[0]?.servers[0])
  assert.notEqual(snap.services[0]?.timeouts, config.services[0]?.timeouts)
  assert.notEqual(snap.routes[0]?.redirect, config.routes[0]?.redirect)
  assert.deepEqual(structuredClone(snap), snap)
})

test('file provider: the same config gives equal snapshots (the watcher drops unchanged ones)', () => {
  const text =
    'services: [{ name: web, servers: [{ address: 127.0.0.1:9001 }] }]\nroutes: [{ service: web }]\n'
  assert.deepEqual(configToSnapshot(load(text)), configToSnapshot(load(text)))
})
