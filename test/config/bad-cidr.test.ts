/** http.trusted_proxies: CIDRs or bare IPs, parsed by the same code the proxy uses. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines } from './helpers.js'

const cases: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'prefix too long',
    input: 'http: { trusted_proxies: [10.0.0.0/33, "::/129"] }\n',
    want: [
      'http.trusted_proxies[0]: invalid CIDR: prefix length must be 0..32: "10.0.0.0/33"',
      'http.trusted_proxies[1]: invalid CIDR: prefix length must be 0..128: "::/129"',
    ],
  },
  {
    desc: 'not an address',
    input: 'http: { trusted_proxies: [1.2.3, localhost, "10.0.0.0/x", ""] }\n',
    want: [
      'http.trusted_proxies[0]: invalid CIDR: not an IP address: "1.2.3"',
      'http.trusted_proxies[1]: invalid CIDR: not an IP address: "localhost"',
      'http.trusted_proxies[2]: invalid CIDR: prefix length must be 0..32: "10.0.0.0/x"',
      'http.trusted_proxies[3]: invalid CIDR: empty',
    ],
  },
  {
    desc: 'not a list, or items that are not strings',
    input: 'http: { trusted_proxies: 10.0.0.0/8 }\nlog: {}\n',
    want: ['http.trusted_proxies: expected a list, got "10.0.0.0/8"'],
  },
  {
    desc: 'an item that is not a string',
    input: 'http: { trusted_proxies: [[10.0.0.0/8]] }\n',
    want: ['http.trusted_proxies[0]: expected a string, got a list'],
  },
  {
    desc: 'a zone index',
    input: 'http: { trusted_proxies: ["fe80::1%eth0"] }\n',
    want: ['http.trusted_proxies[0]: invalid CIDR: zone index not allowed: "fe80::1%eth0"'],
  },
]

for (const c of cases) {
  test(`bad CIDR: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
