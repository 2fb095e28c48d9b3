/** A route must name a service defined in the same file. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, yaml } from './helpers.js'

const cases: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'a typo gets a suggestion',
    input: yaml`
      services: [{ name: hello, servers: [{ address: 127.0.0.1:1 }] }]
      routes: [{ path: /, service: helo }]
    `,
    want: ['routes[0].service: unknown service "helo", did you mean "hello"?'],
  },
  {
    desc: 'no services at all',
    input: 'routes: [{ path: /, service: web }]\n',
    want: ['routes[0].service: unknown service "web"'],
  },
  {
    desc: 'names are case-sensitive',
    input: yaml`
      services: [{ name: Web, servers: [{ address: 127.0.0.1:1 }] }]
      routes: [{ path: /, service: web }]
    `,
    want: ['routes[0].service: unknown service "web", did you mean "Web"?'],
  },
  {
    desc: 'a service whose definition has problems still counts as defined',
    input: yaml`
      services: [{ name: web, balance: fastest, servers: [{ address: 127.0.0.1:1 }] }]
      routes: [{ path: /, service: web }, { path: /x, service: other }]
    `,
    want: [
      'services[0].balance: must be one of roundrobin, static-rr, leastconn, random, first; got "fastest"',
      'routes[1].service: unknown service "other"',
    ],
  },
  {
    desc: 'a route without a service or redirect',
    input: 'routes: [{ path: /, service: "" }, { path: /x }]\n',
    want: ['routes[0].service: required (or set redirect)', 'routes[1].service: required (or set redirect)'],
  },
]

for (const c of cases) {
  test(`unknown service: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
