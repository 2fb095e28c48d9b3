/** Redirect routes: code and url checks, and conflicts with service, strip, prepend and host_header. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, yaml } from './helpers.js'

const services = 'services: [{ name: web, servers: [{ address: 127.0.0.1:1 }] }]\n'

const cases: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'redirect and service together',
    input: services + 'routes: [{ path: /, service: web, redirect: { url: "https://example.com$path" } }]\n',
    want: ['routes[0].redirect: set either service or redirect, not both'],
  },
  {
    desc: 'proxy options on a redirect route',
    input:
      services + 'routes: [{ path: /, strip: /, prepend: /v1, host_header: dst, redirect: { url: / } }]\n',
    want: [
      'routes[0].strip: does not apply to a redirect route',
      'routes[0].prepend: does not apply to a redirect route',
      'routes[0].host_header: does not apply to a redirect route',
    ],
  },
  {
    desc: 'codes',
    input: yaml`
      routes:
        - { path: /a, redirect: { code: 200, url: / } }
        - { path: /b, redirect: { code: 305, url: / } }
        - { path: /c, redirect: { code: "301", url: / } }
    `,
    want: [
      'routes[0].redirect.code: must be between 300 and 399, got 200',
      'routes[1].redirect.code: must be one of 301, 302, 303, 307, 308, got 305',
      'routes[2].redirect.code: expected an integer, got "301"',
    ],
  },
  {
    desc: 'urls',
    input: yaml`
      routes:
        - { path: /a, redirect: { code: 301 } }
        - { path: /b, redirect: { url: "" } }
        - { path: /c, redirect: { url: "ftp://example.com/" } }
        - { path: /d, redirect: { url: "example.com/x" } }
        - { path: /e, redirect: { url: "/a b" } }
        - { path: /f, redirect: { url: "//example.com/x" } }
    `,
    want: [
      'routes[0].redirect.url: required',
      'routes[1].redirect.url: must not be empty',
      'routes[2].redirect.url: scheme must be http or https, got "ftp://example.com/"',
      'routes[3].redirect.url: "example.com/x" is neither an absolute http(s) URL nor a path starting with "/"',
      'routes[4].redirect.url: "/a b" is not a valid path',
      'routes[5].redirect.url: "//example.com/x" is neither an absolute http(s) URL nor a path starting with "/"',
    ],
  },
  {
    desc: 'redirect is a mapping',
    input: 'routes: [{ path: /, redirect: "https://example.com" }]\n',
    want: ['routes[0].redirect: expected a mapping, got "https://example.com"'],
  },
  {
    desc: 'unknown keys in a redirect',
    input: 'routes: [{ path: /, redirect: { url: /, status: 301 } }]\n',
    want: ['routes[0].redirect.status: unknown key (expected one of: code, url)'],
  },
  {
    desc: 'a valid redirect with placeholders and a query has no problems',
    input:
      'routes: [{ path: /, redirect: { code: 308, url: "https://$host$path" } }, { path: /q, redirect: { url: "/new?x=1" } }]\n',
    want: [],
  },
]

for (const c of cases) {
  test(`redirect: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
