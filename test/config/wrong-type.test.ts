/** Values of the wrong YAML type are problems at their path; the expected type is named. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, yaml } from './helpers.js'

const cases: { desc: string; input: string; want: string[] }[] = [
  { desc: 'the document is a list', input: '- a\n- b\n', want: ['expected a mapping, got a list'] },
  { desc: 'the document is a scalar', input: 'hello\n', want: ['expected a mapping, got "hello"'] },
  {
    desc: 'a section that is not a mapping',
    input: 'log: loud\n',
    want: ['log: expected a mapping, got "loud"'],
  },
  {
    desc: 'a list that is not a list',
    input: 'listeners: 7\n',
    want: ['listeners: expected a list, got a number (7)'],
  },
  {
    desc: 'a list item that is not a mapping',
    input: 'services: [web]\n',
    want: ['services[0]: expected a mapping, got "web"'],
  },
  {
    desc: 'an integer given as text',
    input: 'defaults: { retries: "2" }\n',
    want: ['defaults.retries: expected an integer, got "2"'],
  },
  {
    desc: 'a fractional integer',
    input: 'defaults: { retries: 1.5 }\n',
    want: ['defaults.retries: expected an integer, got 1.5'],
  },
  {
    desc: 'a boolean given as text',
    input: 'log: { access: { enabled: "yes" } }\n',
    want: ['log.access.enabled: expected true or false, got "yes"'],
  },
  {
    desc: 'a string given as a number',
    input: 'log: { destination: 1 }\n',
    want: ['log.destination: expected a string, got a number (1) (quote it)'],
  },
  {
    desc: 'a string given as a list',
    input: 'http: { request_id_header: [a] }\n',
    want: ['http.request_id_header: expected a string, got a list'],
  },
  {
    desc: 'a duration given as a mapping',
    input: 'http: { timeouts: { client: { s: 1 } } }\n',
    want: ['http.timeouts.client: expected a duration like 10s, got a mapping'],
  },
  {
    desc: 'an enum given as a boolean',
    input: 'defaults: { balance: true }\n',
    want: ['defaults.balance: expected a string, got a boolean (true) (quote it)'],
  },
  {
    desc: 'a secret is never echoed',
    input: 'admin: { token: 12345678 }\n',
    want: ['admin.token: expected a string, got a number (quote it)'],
  },
  {
    desc: 'a value out of range',
    input: yaml`
      defaults: { retries: 11, max_connections: 0 }
      http: { max_header_size: 100 }
      services: [{ name: a, servers: [{ address: 127.0.0.1:1, weight: 257, maxconn: -1 }] }]
    `,
    want: [
      'defaults.retries: must be between 0 and 10, got 11',
      'defaults.max_connections: must be between 1 and 100000, got 0',
      'services[0].servers[0].weight: must be between 0 and 256, got 257',
      'services[0].servers[0].maxconn: must be between 0 and 100000, got -1',
      'http.max_header_size: must be between 1024 and 1048576, got 100',
    ],
  },
  {
    desc: 'an unknown enum value, with a suggestion',
    input: yaml`
      defaults: { balance: roundrobbin }
      services: [{ name: a, proto: http2, servers: [{ address: 127.0.0.1:1, state: down }] }]
      http: { path_match: segmnt }
      log: { level: verbose }
    `,
    want: [
      'defaults.balance: must be one of roundrobin, static-rr, leastconn, random, first; got "roundrobbin", did you mean "roundrobin"?',
      'services[0].proto: must be one of http, https; got "http2", did you mean "http"?',
      'services[0].servers[0].state: must be one of up, drain, maint; got "down"',
      'http.path_match: must be one of prefix, segment, iprefix, glob; got "segmnt", did you mean "segment"?',
      'log.level: must be one of trace, debug, info, warn, error, fatal, silent; got "verbose"',
    ],
  },
  {
    desc: 'an unknown listener mode; tcp-only keys on an http listener',
    input: 'listeners: [{ address: ":5432", mode: quic }, { address: ":5433", service: db }]\n',
    want: [
      'listeners[0].mode: must be one of http, tcp; got "quic"',
      'listeners[1].service: only applies to mode: tcp listeners',
    ],
  },
  {
    desc: 'required keys',
    input: yaml`
      listeners: [{ name: web }]
      services: [{ servers: [{ name: x }] }, { name: b }]
    `,
    want: [
      'listeners[0].address: required',
      'services[0].name: required',
      'services[0].servers[0].address: required',
      'services[1].servers: required',
    ],
  },
  {
    desc: 'empty lists that need an entry',
    input: 'listeners: []\nservices: [{ name: a, servers: [] }]\n',
    want: [
      'listeners: at least one listener is required',
      'services[0].servers: at least one server is required',
    ],
  },
  {
    desc: 'bad names',
    input: yaml`
      listeners: [{ name: "my web", address: ":80" }]
      services: [{ name: "a@b", servers: [{ address: 127.0.0.1:1, name: "" }] }]
    `,
    want: [
      'listeners[0].name: must match [A-Za-z0-9_.-]+ (no spaces), got "my web"',
      'services[0].name: must match [A-Za-z0-9_.-]+ (no spaces), got "a@b"',
      'services[0].servers[0].name: must be non-empty without spaces or control characters',
    ],
  },
  {
    desc: 'tls_skip_verify without https',
    input: 'services: [{ name: a, tls_skip_verify: true, servers: [{ address: 127.0.0.1:1 }] }]\n',
    want: ['services[0].tls_skip_verify: only applies to proto: https'],
  },
  {
    desc: 'bad paths, header names and log destinations',
    input: yaml`
      services: [{ name: a, servers: [{ address: 127.0.0.1:1 }] }]
      routes:
        - { path: api, service: a }
        - { path: "/a b", service: a, strip: a, prepend: "/x#y" }
        - { path: "/q?x=1", service: a }
      http: { request_id_header: "X Request" }
      log: { destination: stdrr, access: { destination: logs/access.log } }
    `,
    want: [
      'routes[0].path: must start with "/", got "api"',
      'routes[1].path: must not contain spaces, "?" or "#", got "/a b"',
      'routes[1].strip: must start with "/", got "a"',
      'routes[1].prepend: must not contain spaces, "?" or "#", got "/x#y"',
      'routes[2].path: must not contain spaces, "?" or "#", got "/q?x=1"',
      'http.request_id_header: "X Request" is not a valid header name',
      'log.destination: must be stderr, stdout or an absolute file path, got "stdrr", did you mean "stderr"?',
      'log.access.destination: must be stderr, stdout or an absolute file path, got "logs/access.log"',
    ],
  },
]

for (const c of cases) {
  test(`wrong type: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
