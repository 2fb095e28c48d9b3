/** Bad durations anywhere in the tree are problems at their path (the syntax itself: duration.test.ts). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, yaml } from './helpers.js'

const expected = 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s'

const cases: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'upstream timeouts in defaults and services',
    input: yaml`
      defaults: { timeouts: { connect: 5 seconds, server: -1s } }
      services:
        - name: a
          timeouts: { body: 1.5, keep_alive: 10S }
          servers: [{ address: 127.0.0.1:1 }]
    `,
    want: [
      `defaults.timeouts.connect: ${expected}, got "5 seconds"`,
      'defaults.timeouts.server: must not be negative, got "-1s"',
      `services[0].timeouts.body: ${expected} (a plain number is milliseconds and must be an integer)`,
      `services[0].timeouts.keep_alive: ${expected}, got "10S"`,
    ],
  },
  {
    desc: 'timeouts must be positive',
    input: 'http: { timeouts: { http_request: 0, tunnel: 0s } }\n',
    want: ['http.timeouts.http_request: must be at least 1ms', 'http.timeouts.tunnel: must be at least 1ms'],
  },
  {
    desc: 'missing unit and too long',
    input: 'http: { timeouts: { client: "1.5", keep_alive: 1000h } }\n',
    want: [
      'http.timeouts.client: missing unit in "1.5" (ms, s, m or h)',
      'http.timeouts.keep_alive: too long (at most 596h31m23s647ms)',
    ],
  },
  {
    desc: 'resolver: bad values and min_ttl above max_ttl',
    input: 'resolver: { max_ttl: 10s, min_ttl: 1m, retry: 0 }\n',
    want: ['resolver.retry: must be at least 1ms', 'resolver.min_ttl: must not exceed max_ttl (10s)'],
  },
  {
    desc: 'resolver: max_ttl below the default min_ttl',
    input: 'resolver: { max_ttl: 500ms }\n',
    want: ['resolver.max_ttl: must be at least min_ttl (1s)'],
  },
]

for (const c of cases) {
  test(`bad duration: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
