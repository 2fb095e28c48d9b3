/** Names and bindings that must be unique: listeners, services, servers in a service, (host, path) routes. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, yaml } from './helpers.js'

const cases: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'listener names',
    input: 'listeners: [{ name: web, address: ":80" }, { name: web, address: ":81" }]\n',
    want: ['listeners[1].name: duplicate listener name "web" (first at listeners[0].name)'],
  },
  {
    desc: 'listener ports: same address, and a wildcard against a specific address',
    input: yaml`
      listeners:
        - address: 127.0.0.1:80
        - { name: b, address: 127.0.0.1:80 }
        - { name: c, address: "[::]:443" }
        - { name: d, address: 10.0.0.1:443 }
        - { name: e, address: 10.0.0.1:8080 }
        - { name: f, address: 10.0.0.2:8080 }
    `,
    want: [
      'listeners[1].address: port 80 is already used by listeners[0]',
      'listeners[3].address: port 443 is already used by listeners[2]',
    ],
  },
  {
    desc: 'a repeated address with default names is reported once',
    input: 'listeners: [{ address: ":80" }, { address: ":80" }]\n',
    want: ['listeners[1].address: port 80 is already used by listeners[0]'],
  },
  {
    desc: 'port 0 never clashes, but default names do',
    input:
      'listeners: [{ address: "127.0.0.1:0" }, { address: "127.0.0.1:0" }, { name: x, address: "127.0.0.1:0" }]\n',
    want: ['listeners[1]: duplicate listener name "http-0" (first at listeners[0]); give one of them a name'],
  },
  {
    desc: 'the admin port against the listeners',
    input: 'listeners: [{ address: ":9998" }]\n',
    want: ['admin.address: port 9998 is already used by listeners[0]'],
  },
  {
    desc: 'service names',
    input: yaml`
      services:
        - { name: web, servers: [{ address: 127.0.0.1:1 }] }
        - { name: api, servers: [{ address: 127.0.0.1:2 }] }
        - { name: web, servers: [{ address: 127.0.0.1:3 }] }
    `,
    want: ['services[2].name: duplicate service name "web" (first at services[0].name)'],
  },
  {
    desc: 'server names within a service, explicit and defaulted; other services may reuse them',
    input: yaml`
      services:
        - name: a
          servers:
            - { address: 127.0.0.1:1, name: x }
            - { address: 127.0.0.1:2, name: x }
            - { address: 127.0.0.1:3 }
            - { address: 127.0.0.1:3 }
            - { address: 127.0.0.1:3, name: other }
        - name: b
          servers: [{ address: 127.0.0.1:1, name: x }]
    `,
    want: [
      'services[0].servers[1].name: duplicate server name "x" (first at services[0].servers[0].name)',
      'services[0].servers[3]: duplicate server name "127.0.0.1:3" (first at services[0].servers[2]); give one of them a name',
    ],
  },
  {
    desc: '(host, path) routes, compared after host normalisation',
    input: yaml`
      services: [{ name: a, servers: [{ address: 127.0.0.1:1 }] }]
      routes:
        - { path: /, service: a }
        - { host: "", path: /, service: a }
        - { host: example.com, path: /api, service: a }
        - { host: Example.com., path: /api, service: a }
        - { host: example.com, path: /api/, service: a }
        - { host: example.com:8080, path: /api, service: a }
        - { path: /api, redirect: { url: / } }
    `,
    want: [
      'routes[1]: duplicate route for host "" path "/" (first at routes[0])',
      'routes[3]: duplicate route for host "example.com" path "/api" (first at routes[2])',
    ],
  },
]

for (const c of cases) {
  test(`duplicates: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
