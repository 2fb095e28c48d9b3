/** The check block, passive keys, server options and tcp listeners: defaults, merging and every problem. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkDefaults } from '../../src/config/defaults.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { problemLines, valid, yaml } from './helpers.js'

test('check: absent = none; true = the built-in defaults; a mapping merges over defaults.check', () => {
  const c = valid(yaml`
    defaults:
      check: { type: http, inter: 10s, http: { path: /healthz } }
    services:
      - name: plain
        check: false
        servers: [{ address: 127.0.0.1:1 }]
      - name: inherits
        servers: [{ address: 127.0.0.1:2 }]
      - name: overrides
        check: { type: https, rise: 1, http: { expect_status: [200, "401-403"] }, tls: { skip_verify: true, sni: api.test } }
        servers: [{ address: 127.0.0.1:3, check: false }]
  `)
  assert.equal(c.services[0]?.check, null)
  assert.deepEqual(c.services[1]?.check, {
    ...checkDefaults,
    type: 'http',
    inter: 10_000,
    http: { ...checkDefaults.http, path: '/healthz' },
  })
  assert.deepEqual(c.services[2]?.check, {
    ...checkDefaults,
    type: 'https',
    inter: 10_000,
    rise: 1,
    http: {
      ...checkDefaults.http,
      path: '/healthz',
      expectStatus: [
        { lo: 200, hi: 200 },
        { lo: 401, hi: 403 },
      ],
    },
    tls: { ca: '', skipVerify: true, sni: 'api.test' },
  })
  assert.equal(c.services[2]?.servers[0]?.check, false)
  const snap = configToSnapshot(c)
  assert.equal(snap.services[0]?.check, undefined)
  assert.equal(snap.services[2]?.servers[0]?.check, false)
  assert.equal(
    valid('services: [{ name: a, check: true, servers: [{ address: "127.0.0.1:1" }] }]').services[0]?.check
      ?.inter,
    2_000,
  )
})

test('check: passive and server options reach the snapshot only when set', () => {
  const c = valid(yaml`
    services:
      - name: api
        check: { inter: 1s }
        observe: layer7
        error_limit: 5
        on_error: sudden-death
        slowstart: 30s
        maxqueue: 100
        on_marked_down: shutdown-sessions
        send_proxy: v2
        timeouts: { queue: 3s }
        servers: [{ address: 127.0.0.1:1, maxconn: 10, weight: 50, backup: true }]
  `)
  const s = configToSnapshot(c).services[0]
  assert.deepEqual(
    [s?.observe, s?.slowstart, s?.maxqueue, s?.onMarkedDown, s?.sendProxy, s?.queueTimeout],
    [
      { observe: 'layer7', errorLimit: 5, onError: 'sudden-death' },
      30_000,
      100,
      'shutdown-sessions',
      'v2',
      3_000,
    ],
  )
})

test('check: tcp listeners become TCP routes (default service and SNI names)', () => {
  const c = valid(yaml`
    listeners:
      - { address: ":8443", mode: tcp, service: api, accept_proxy: true, timeouts: { tunnel: 24h } }
      - address: ":443"
        mode: tcp
        sni_routes: [{ server_name: A.test, service: api }, { server_name: "*.b.test", service: api }]
    services: [{ name: api, servers: [{ address: 127.0.0.1:6443 }] }]
  `)
  const l = c.listeners[0]
  assert.equal(l?.mode === 'tcp' && l.timeouts.tunnel, 86_400_000)
  assert.deepEqual(
    configToSnapshot(c).tcpRoutes.map((r) => `${r.port} ${r.serverName || '*'} ${r.service}`),
    ['8443 * api', '443 a.test api', '443 *.b.test api'],
  )
})

test('check: every problem with its path', () => {
  assert.deepEqual(
    problemLines(yaml`
      listeners:
        - { address: ":80", sni_routes: [] }
        - { address: ":81", mode: tcp, service: nope, sni_routes: [{ server_name: "bad name", service: api }] }
      services:
        - name: api
          observe: layer9
          check:
            type: smtp
            rise: 0
            inter: 1s
            timeout: 2s
            http: { expect_status: "2xx" }
            tls: { ca: "not pem" }
            init_state: sideways
            source: zookeeper
          servers: [{ address: 127.0.0.1:1, check: maybe }]
        - name: web
          observe: layer4
          error_limit: 3
          servers: [{ address: 127.0.0.1:2 }]
        - name: quiet
          on_error: mark-down
          send_proxy: v3
          servers: [{ address: 127.0.0.1:3 }]
    `),
    [
      'listeners[0].sni_routes: only applies to mode: tcp listeners',
      'listeners[1].sni_routes[0].server_name: "bad name" is not a hostname or *.domain',
      'services[0].servers[0].check: expected true or false, got "maybe"',
      'services[0].check.type: must be one of tcp, http, https; got "smtp", did you mean "http"?',
      'services[0].check.http: only applies to type: http or https',
      'services[0].check.tls: only applies to type: https',
      'services[0].check.source: must be one of active, consul, both; got "zookeeper"',
      'services[0].check.rise: must be between 1 and 1000, got 0',
      'services[0].check.init_state: must be one of up, down, fully-up, fully-down; got "sideways"',
      'services[0].check.http.expect_status: expected a status (200), a range ("200-399") or a list of them, got "2xx"',
      'services[0].check.tls.ca: expected PEM certificates (use ca_file for a path)',
      'services[0].check.timeout: must not exceed inter (1s)',
      'services[0].observe: must be one of none, layer4, layer7; got "layer9", did you mean "layer4"?',
      'services[1].observe: needs active checks (a check block with source active or both) to bring servers back',
      'services[2].on_error: only applies with observe: layer4 or layer7',
      'services[2].send_proxy: must be one of none, v1, v2; got "v3", did you mean "v1"?',
      'listeners[1].service: unknown service "nope"',
    ],
  )
})
