/** Every problem is collected: one file with a mistake in every section reports all of them, in file order. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.js'
import { validate } from '../../src/config/validate.js'
import { ConfigError } from '../../src/model/errors.js'
import { file, parse, yaml } from './helpers.js'

const input = yaml`
  listners: []
  listeners:
    - address: ":80"
    - address: "0.0.0.0:80"
      mode: quic
  defaults:
    balance: fastest
    timeouts: { connect: soon }
  services:
    - name: web
      servers:
        - address: 127.0.0.1
        - address: 127.0.0.1:9001
          weight: heavy
    - name: web
      servers: []
  routes:
    - path: /
      service: wbe
    - path: /
      service: web
    - path: /old
      service: web
      redirect: { code: 200, url: / }
  http:
    trusted_proxies: [10.0.0.0/40]
    max_header_size: 1
  log:
    level: loud
  admin:
    address: nowhere
    token: "\${LB_ADMIN_TOKEN}"
  resolver:
    min_ttl: 1h
`

const want = [
  'listners: unknown key, did you mean "listeners"?',
  'listeners[1].mode: must be one of http, tcp; got "quic"',
  'listeners[1].address: port 80 is already used by listeners[0]',
  'defaults.balance: must be one of roundrobin, static-rr, leastconn, random, first; got "fastest"',
  `defaults.timeouts.connect: expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got "soon"`,
  'services[0].servers[0].address: missing port: expected host:port, got "127.0.0.1"',
  'services[0].servers[1].weight: expected an integer, got "heavy"',
  'services[1].name: duplicate service name "web" (first at services[0].name)',
  'services[1].servers: at least one server is required',
  'routes[0].service: unknown service "wbe", did you mean "web"?',
  'routes[1]: duplicate route for host "" path "/" (first at routes[0])',
  'routes[2].redirect.code: must be between 300 and 399, got 200',
  'routes[2].redirect: set either service or redirect, not both',
  'http.trusted_proxies[0]: invalid CIDR: prefix length must be 0..32: "10.0.0.0/40"',
  'http.max_header_size: must be between 1024 and 1048576, got 1',
  'log.level: must be one of trace, debug, info, warn, error, fatal, silent; got "loud"',
  'admin.address: missing port: expected host:port or :port, got "nowhere"',
  'admin.token: environment variable LB_ADMIN_TOKEN is not set',
  'resolver.min_ttl: must not exceed max_ttl (30s)',
]

test('all problems: validate reports every one, with no config', () => {
  const r = validate(parse(input), file, {})
  assert.equal(r.config, undefined)
  assert.deepEqual(
    r.problems.map((p) => `${p.path}: ${p.message}`),
    want,
  )
})

test('all problems: loadConfig throws one ConfigError carrying every problem', async () => {
  const err = await loadConfig({ path: file, env: {}, readFile: async () => input }).then(
    () => assert.fail('expected a ConfigError'),
    (e: unknown) => e,
  )
  assert.ok(err instanceof ConfigError)
  assert.equal(err.code, 'EDGE_CONFIG_INVALID')
  assert.deepEqual(
    err.problems.map((p) => `${p.path}: ${p.message}`),
    want,
  )
  const lines = err.message.split('\n')
  assert.equal(lines[0], `invalid configuration (${want.length} problems):`)
  assert.deepEqual(
    lines.slice(1),
    want.map((w) => `${file}: ${w}`),
  )
})
