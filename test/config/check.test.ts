/** runCheck (`lb check`) on fixture files: the exact report, one `FILE: dotted.path: reason` line per problem. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { runCheck } from '../../src/cli/check.js'
import { fixture } from './helpers.js'

const readText = (p: string): Promise<string> => readFile(p, 'utf8')
const duration = 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s'

const cases: { desc: string; fixture: string; ok: boolean; lines: string[] }[] = [
  {
    desc: 'a valid file prints a summary',
    fixture: 'valid.yaml',
    ok: true,
    lines: [
      'ok: listeners web (:8080), internal (127.0.0.1:8081); 2 services, 3 servers, 3 routes; admin off',
    ],
  },
  {
    desc: 'an empty file is the defaults',
    fixture: 'empty.yaml',
    ok: true,
    lines: ['ok: listener http-9999 (:9999); 0 services, 0 servers, 0 routes; admin 127.0.0.1:9998'],
  },
  {
    desc: 'unknown keys',
    fixture: 'unknown-keys.yaml',
    ok: false,
    lines: [
      'listners: unknown key, did you mean "listeners"?',
      'services[0].maxConnections: unknown key, did you mean "max_connections"?',
      'services[0].servers[0].wieght: unknown key, did you mean "weight"?',
      'log.colour: unknown key (expected one of: level, destination, access)',
    ],
  },
  {
    desc: 'wrong types',
    fixture: 'wrong-types.yaml',
    ok: false,
    lines: [
      'listeners: expected a list, got a number (8080)',
      'defaults.retries: expected an integer, got "two"',
      'defaults.max_connections: expected an integer, got 1.5',
      'services[0].tls_skip_verify: expected true or false, got "yes"',
      'services[0].servers[0].backup: expected true or false, got a number (1)',
      'log.access: expected a mapping, got a boolean (true)',
    ],
  },
  {
    desc: 'bad durations',
    fixture: 'bad-durations.yaml',
    ok: false,
    lines: [
      `defaults.timeouts.connect: ${duration}, got "5 seconds"`,
      'defaults.timeouts.server: must not be negative, got "-1s"',
      `defaults.timeouts.body: ${duration} (a plain number is milliseconds and must be an integer)`,
      'http.timeouts.client: must be at least 1ms',
      `http.timeouts.tunnel: ${duration}, got "1y"`,
    ],
  },
  {
    desc: 'bad addresses',
    fixture: 'bad-addresses.yaml',
    ok: false,
    lines: [
      'listeners[0].address: missing port: expected host:port or :port, got "80"',
      'listeners[1].address: IPv6 addresses need brackets, e.g. "[::1]:80", got "::1:8080"',
      'services[0].servers[0].address: port must be at most 65535, got 99999',
      'services[0].servers[1].address: missing port: expected host:port, got "localhost"',
      'services[0].servers[2].address: "300.0.0.1" is not a valid hostname or IP address',
      'admin.address: missing port: expected host:port or :port, got "localhost"',
    ],
  },
  {
    desc: 'bad CIDRs',
    fixture: 'bad-cidrs.yaml',
    ok: false,
    lines: [
      'http.trusted_proxies[1]: invalid CIDR: prefix length must be 0..32: "10.0.0.0/33"',
      'http.trusted_proxies[2]: invalid CIDR: not an IP address: "192.168.1"',
      'http.trusted_proxies[3]: invalid CIDR: prefix length must be 0..128: "::1/200"',
    ],
  },
  {
    desc: 'unknown services',
    fixture: 'unknown-service.yaml',
    ok: false,
    lines: [
      'routes[0].service: unknown service "helo", did you mean "hello"?',
      'routes[1].service: unknown service "api"',
      'routes[2].service: required (or set redirect)',
    ],
  },
  {
    desc: 'duplicates',
    fixture: 'duplicates.yaml',
    ok: false,
    lines: [
      'listeners[1].name: duplicate listener name "web" (first at listeners[0].name)',
      'listeners[2].address: port 8080 is already used by listeners[0]',
      'services[0].servers[1]: duplicate server name "127.0.0.1:9001" (first at services[0].servers[0]); give one of them a name',
      'services[1].name: duplicate service name "hello" (first at services[0].name)',
      'routes[1]: duplicate route for host "example.com" path "/" (first at routes[0])',
    ],
  },
  {
    desc: 'redirect conflicts',
    fixture: 'redirect-conflicts.yaml',
    ok: false,
    lines: [
      'routes[0].redirect: set either service or redirect, not both',
      'routes[1].strip: does not apply to a redirect route',
      'routes[2].redirect.code: must be between 300 and 399, got 200',
      'routes[2].redirect.url: required',
    ],
  },
  {
    desc: 'YAML syntax errors',
    // .txt, not .yaml: `prettier --check .` would fail on the broken syntax.
    fixture: 'yaml-syntax.txt',
    ok: false,
    lines: [
      'YAML syntax error at line 5, column 1: All mapping items must start at the same column',
      'YAML syntax error at line 7, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  },
  {
    desc: 'unset variables and unreadable _file files',
    fixture: 'env-and-files.yaml',
    ok: false,
    lines: [
      `http.request_id_header_file: cannot read ${fixture('missing-request-id-header.txt')}: ENOENT`,
      'admin.token: environment variable LB_TEST_UNSET_TOKEN is not set',
    ],
  },
]

for (const c of cases) {
  test(`check: ${c.desc}`, async () => {
    const path = fixture(c.fixture)
    const r = await runCheck(path, { LB_TEST_LOG_DIR: '/var/log' }, readText)
    assert.equal(r.ok, c.ok)
    const lines = r.output.split('\n')
    // A failed check with more than one problem ends with a line counting them.
    const summary = c.ok ? [] : [lines.at(-1)]
    assert.deepEqual(lines, [...c.lines.map((l) => `${path}: ${l}`), ...summary])
    if (!c.ok) {
      const n = c.lines.length
      assert.match(summary[0] ?? '', new RegExp(`^${path}: invalid: ${n} problems? \\(`))
    }
  })
}

test('check: the last line of a failed check counts the problems by section', async () => {
  const path = fixture('duplicates.yaml')
  const r = await runCheck(path, {}, readText)
  assert.equal(
    r.output.split('\n').at(-1),
    `${path}: invalid: 5 problems (listeners 2, services 2, routes 1)`,
  )
})

test('check: a missing file is one problem naming it', async () => {
  const path = fixture('does-not-exist.yaml')
  const r = await runCheck(path, {}, readText)
  assert.deepEqual(r, { ok: false, output: `${path}: cannot read config file: ENOENT` })
})

test('check: the file is named as given (relative paths stay relative)', async () => {
  const r = await runCheck('relative.yaml', {}, async () => 'log: { level: loud }\n')
  assert.deepEqual(r, {
    ok: false,
    output:
      'relative.yaml: log.level: must be one of trace, debug, info, warn, error, fatal, silent; got "loud"',
  })
})
