/** Listener, server, admin and route addresses: syntax, ports, IPv6 brackets. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, yaml } from './helpers.js'

const cases: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'listener addresses',
    input: yaml`
      listeners:
        - address: "80"
        - address: ":http"
        - address: ":65536"
        - address: "::1:80"
        - address: "[::1:80"
        - address: "[1.2.3.4]:80"
        - address: "300.1.1.1:80"
        - address: "bad_host!:80"
        - address: "[::1]x"
    `,
    want: [
      'listeners[0].address: missing port: expected host:port or :port, got "80"',
      'listeners[1].address: port must be a number, got "http"',
      'listeners[2].address: port must be at most 65535, got 65536',
      'listeners[3].address: IPv6 addresses need brackets, e.g. "[::1]:80", got "::1:80"',
      'listeners[4].address: missing "]" in "[::1:80"',
      'listeners[5].address: "1.2.3.4" is not an IPv6 address',
      'listeners[6].address: "300.1.1.1" is not a valid hostname or IP address',
      'listeners[7].address: "bad_host!" is not a valid hostname or IP address',
      'listeners[8].address: expected host:port or :port, got "[::1]x"',
    ],
  },
  {
    desc: 'server addresses need a host and a non-zero port',
    input: yaml`
      services:
        - name: a
          servers:
            - address: ":80"
            - address: 127.0.0.1:0
            - address: localhost
            - address: "010.0.0.1:80"
            - address: "-bad.example.com:80"
            - address: "[fe80::1%eth0]:80"
    `,
    want: [
      'services[0].servers[0].address: missing host: expected host:port, got ":80"',
      'services[0].servers[1].address: port must be between 1 and 65535, got 0',
      'services[0].servers[2].address: missing port: expected host:port, got "localhost"',
      'services[0].servers[3].address: "010.0.0.1" is not a valid hostname or IP address',
      'services[0].servers[4].address: "-bad.example.com" is not a valid hostname or IP address',
      'services[0].servers[5].address: "fe80::1%eth0" is not an IPv6 address',
    ],
  },
  {
    desc: 'admin address',
    input: 'admin: { address: "localhost" }\n',
    want: ['admin.address: missing port: expected host:port or :port, got "localhost"'],
  },
  {
    desc: 'route hosts',
    input: yaml`
      services: [{ name: a, servers: [{ address: 127.0.0.1:1 }] }]
      routes:
        - { host: "*", service: a }
        - { host: "a.*.example.com", service: a }
        - { host: "example.com:0", service: a }
        - { host: "exa mple.com", service: a }
        - { host: "*.[::1]", service: a }
        - { host: "::1", service: a }
    `,
    want: [
      'routes[0].host: use an empty host (or leave it out) for the catch-all route',
      'routes[2].host: port must be between 1 and 65535, got 0',
      'routes[3].host: "exa mple.com" is not a valid host (hostname, *.domain, IP or [IPv6], optional :port)',
      'routes[4].host: "*.[::1]" is not a valid host pattern (hostname characters and * ? [ ] { } only)',
      'routes[5].host: "::1" is not a valid host (hostname, *.domain, IP or [IPv6], optional :port)',
    ],
  },
  {
    desc: 'host_header',
    input: yaml`
      services: [{ name: a, servers: [{ address: 127.0.0.1:1 }] }]
      routes:
        - { path: /a, service: a, host_header: "not a host" }
        - { path: /b, service: a, host_header: "example.com:99999" }
    `,
    want: [
      'routes[0].host_header: must be "dst" or a hostname with optional :port: "not a host" is not a valid hostname or IP address',
      'routes[1].host_header: must be "dst" or a hostname with optional :port: port must be at most 65535, got 99999',
    ],
  },
]

for (const c of cases) {
  test(`bad address: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
