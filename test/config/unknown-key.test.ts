/** Unknown keys are problems at their path, with a suggestion when a known key is close. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, yaml } from './helpers.js'

const cases: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'a top-level typo',
    input: 'listners: []\n',
    want: ['listners: unknown key, did you mean "listeners"?'],
  },
  {
    desc: 'no close match lists the keys',
    input: 'frontend: {}\n',
    want: [
      'frontend: unknown key (expected one of: listeners, defaults, services, routes, http, log, metrics, admin, resolver, consul, route_commands, workers, shutdown, pid_file, tcp_dynamic)',
    ],
  },
  {
    desc: 'camelCase instead of snake_case',
    input: 'defaults: { maxConnections: 3 }\n',
    want: ['defaults.maxConnections: unknown key, did you mean "max_connections"?'],
  },
  {
    desc: 'nested with indices',
    input: yaml`
      services:
        - name: a
          servers:
            - address: 127.0.0.1:1
            - address: 127.0.0.1:2
              wieght: 3
    `,
    want: ['services[0].servers[1].wieght: unknown key, did you mean "weight"?'],
  },
  {
    desc: 'a misspelt _file key',
    input: 'admin: { tokenfile: /x }\n',
    want: ['admin.tokenfile: unknown key, did you mean "token_file"?'],
  },
  {
    desc: 'a _file key for a key that does not exist',
    input: 'admin: { password_file: /x }\n',
    want: [
      'admin.password_file: unknown key (expected one of: address, token, allowed_hosts, sample_interval)',
    ],
  },
  {
    desc: 'case differences',
    input: 'log: { Level: info }\n',
    want: ['log.Level: unknown key, did you mean "level"?'],
  },
  {
    desc: 'every unknown key, at every level, and the known keys beside them still count',
    input: yaml`
      http:
        timeout: { client: 1s }
        timeouts: { clent: 1s, client: 2s }
        path_mach: prefix
      resolver: { ttl: 5s, cache_size: 0 }
    `,
    want: [
      'http.timeout: unknown key, did you mean "timeouts"?',
      'http.path_mach: unknown key, did you mean "path_match"?',
      'http.timeouts.clent: unknown key, did you mean "client"?',
      'resolver.ttl: unknown key (expected one of: max_ttl, min_ttl, retry, cache_size)',
      'resolver.cache_size: must be between 1 and 1000000, got 0',
    ],
  },
]

for (const c of cases) {
  test(`unknown key: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
