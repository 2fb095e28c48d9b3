/** The `consul:` and `route_commands:` sections: defaults, every key, every problem with its path. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { edit, problemLines, valid, yaml } from './helpers.js'

test('absent section: disabled with the defaults', () => {
  assert.deepEqual(valid({}).consul, edit().consul)
  assert.equal(valid({}).consul.enabled, false)
})

test('present (even empty): enabled with the defaults', () => {
  assert.deepEqual(valid({ consul: {} }).consul, edit((c) => (c.consul.enabled = true)).consul)
})

test('every key', () => {
  const got = valid(
    yaml`
    consul:
      addresses: [127.0.0.1:8500, consul.service.internal]
      scheme: https
      tls: { ca: CA, cert_file: cert.pem, key_file: key.pem, skip_verify: true }
      token_file: token
      datacenter: fra1
      consistency: stale
      wait: 1m
      status: [passing, warning]
      route_without_checks: true
      tag_prefix: lb-
      kv_path: /lb/routes
      fanout: 8
      watch: state
      state_threshold: 500
      rate_limit: { interval: 1s, burst: 2 }
      backoff: { min: 1s, max: 1m }
      throttle: 0ms
    `,
    {},
    new Map([
      ['cert.pem', 'CERT\n'],
      ['key.pem', 'KEY\n'],
      ['token', 's3cret\n'],
    ]),
  ).consul
  assert.deepEqual(
    got,
    edit((c) => {
      c.consul = {
        enabled: true,
        addresses: ['127.0.0.1:8500', 'consul.service.internal:8500'],
        scheme: 'https',
        tls: { ca: 'CA', cert: 'CERT', key: 'KEY', skipVerify: true },
        token: 's3cret',
        datacenter: 'fra1',
        consistency: 'stale',
        wait: 60_000,
        status: ['passing', 'warning'],
        routeWithoutChecks: true,
        tagPrefix: 'lb-',
        kvPath: 'lb/routes',
        fanout: 8,
        watch: 'state',
        stateThreshold: 500,
        rateLimit: { interval: 1_000, burst: 2 },
        backoff: { min: 1_000, max: 60_000 },
        throttle: 0,
        noRouteKey: 'fabio/noroute.html',
        register: {
          enabled: false,
          name: 'lb',
          address: '',
          tags: [],
          checkInterval: 1_000,
          checkTimeout: 3_000,
          deregisterCriticalAfter: 60_000,
        },
      }
    }).consul,
  )
})

test('problems, each with its dotted path', () => {
  assert.deepEqual(
    problemLines(yaml`
    consul:
      addresses: []
      scheme: ftp
      tls: { cert: x }
      consistency: strong
      wait: 11m
      status: [critical]
      backoff: { min: 2s, max: 1s }
      tag_prefix: ''
      watch: catalog
      colour: red
    `),
    [
      'consul.colour: unknown key (expected one of: enabled, addresses, scheme, tls, token, datacenter, consistency, wait, status, route_without_checks, tag_prefix, kv_path, fanout, watch, state_threshold, rate_limit, backoff, throttle, no_route_key, register)',
      'consul.addresses: at least one address is required',
      'consul.scheme: must be one of http, https; got "ftp", did you mean "http"?',
      'consul.tls: set both cert and key (or cert_file and key_file), or neither',
      'consul.tls: only applies to scheme: https',
      'consul.status[0]: must be one of passing, warning; got "critical"',
      'consul.backoff: min must not exceed max',
      'consul.wait: must be at most 10m (Consul caps wait there)',
      'consul.tag_prefix: must not be empty',
      'consul.consistency: must be one of default, stale, consistent; got "strong"',
      'consul.watch: must be one of auto, service, state; got "catalog"',
    ],
  )
})

test('the token is never echoed in a problem', () => {
  const lines = problemLines({ consul: { token: 'bad token with spaces' } })
  assert.deepEqual(lines, ['consul.token: must not contain spaces or control characters'])
})

test('route_commands: a list or a multi-line string; every bad line reported', () => {
  const text = 'route add web /w http://10.0.0.1:80/ tags "x"\nroute weight web /w weight 0.5 tags "x"'
  assert.equal(valid({ route_commands: text }).routeCommands, text)
  assert.equal(valid({ route_commands: text.split('\n') }).routeCommands, text)
  assert.deepEqual(
    problemLines({
      route_commands: ['route add web /w http://10.0.0.1/', 'route frob', 'route weight x /nope weight 1'],
    }),
    ['route_commands[1]: unknown command "route frob" (expected add, del or weight)'],
  )
  assert.deepEqual(problemLines({ route_commands: 'route add a /a http://1.1.1.1/\nroute add b' }), [
    'route_commands: line 2: route add needs <svc> <src> <dst>',
  ])
})
