/**
 * fabio `route/target_test.go` TestTarget_BuildRedirectURL: the `Location` of a redirect route for a request
 * (src/route/redirect.ts `redirectLocation`), 16 routes × 4–5 requests = 79 rows. fabio's test builds the URL
 * of the route's first target whatever its options; lb builds it for redirect routes only, so each route below
 * gets `opts "redirect=301"` (plus its own options). The request host is `foo.com`, as in fabio's test.
 */
import { fabioCases, type FabioCase } from './cases.js'
import { tableOf } from './helpers.js'
import { redirectLocation } from '../../../src/route/redirect.js'

const groups: { route: string; opts?: string; tests: [string, string][] }[] = [
  {
    route: 'route add svc / http://bar.com/',
    tests: [
      ['/', 'http://bar.com/'],
      ['/abc', 'http://bar.com/'],
      ['/a/b/c', 'http://bar.com/'],
      ['/?aaa=1', 'http://bar.com/'],
    ],
  },
  {
    route: 'route add svc / http://bar.com/a/b/c?foo=bar',
    tests: [
      ['/', 'http://bar.com/a/b/c?foo=bar'],
      ['/abc', 'http://bar.com/a/b/c?foo=bar'],
      ['/a/b/c', 'http://bar.com/a/b/c?foo=bar'],
      ['/?aaa=1', 'http://bar.com/a/b/c?foo=bar'],
    ],
  },
  {
    route: 'route add redirect *:80/ https://$host/',
    tests: [
      ['/', 'https://foo.com/'],
      ['/abc', 'https://foo.com/'],
      ['/a/b/c', 'https://foo.com/'],
      ['/?aaa=1', 'https://foo.com/'],
      ['/abc/?aaa=1', 'https://foo.com/'],
    ],
  },
  {
    route: 'route add svc / http://bar.com/$path',
    tests: [
      ['/', 'http://bar.com/'],
      ['/abc', 'http://bar.com/abc'],
      ['/a/b/c', 'http://bar.com/a/b/c'],
      ['/?aaa=1', 'http://bar.com/?aaa=1'],
      ['/abc/?aaa=1', 'http://bar.com/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add redirect *:80/ https://$host/$path',
    tests: [
      ['/', 'https://foo.com/'],
      ['/abc', 'https://foo.com/abc'],
      ['/a/b/c', 'https://foo.com/a/b/c'],
      ['/?aaa=1', 'https://foo.com/?aaa=1'],
      ['/abc/?aaa=1', 'https://foo.com/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add svc / http://bar.com$path',
    tests: [
      ['/', 'http://bar.com/'],
      ['/abc', 'http://bar.com/abc'],
      ['/a/b/c', 'http://bar.com/a/b/c'],
      ['/?aaa=1', 'http://bar.com/?aaa=1'],
      ['/abc/?aaa=1', 'http://bar.com/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add redirect *:80/ https://$host$path',
    tests: [
      ['/', 'https://foo.com/'],
      ['/abc', 'https://foo.com/abc'],
      ['/a/b/c', 'https://foo.com/a/b/c'],
      ['/?aaa=1', 'https://foo.com/?aaa=1'],
      ['/abc/?aaa=1', 'https://foo.com/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add svc / http://bar.com/bbb/$path',
    tests: [
      ['/', 'http://bar.com/bbb/'],
      ['/abc', 'http://bar.com/bbb/abc'],
      ['/a/b/c', 'http://bar.com/bbb/a/b/c'],
      ['/?aaa=1', 'http://bar.com/bbb/?aaa=1'],
      ['/abc/?aaa=1', 'http://bar.com/bbb/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add redirect *:80/ https://$host/bbb/$path',
    tests: [
      ['/', 'https://foo.com/bbb/'],
      ['/abc', 'https://foo.com/bbb/abc'],
      ['/a/b/c', 'https://foo.com/bbb/a/b/c'],
      ['/?aaa=1', 'https://foo.com/bbb/?aaa=1'],
      ['/abc/?aaa=1', 'https://foo.com/bbb/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add svc / http://bar.com/bbb$path',
    tests: [
      ['/', 'http://bar.com/bbb/'],
      ['/abc', 'http://bar.com/bbb/abc'],
      ['/a/b/c', 'http://bar.com/bbb/a/b/c'],
      ['/?aaa=1', 'http://bar.com/bbb/?aaa=1'],
      ['/abc/?aaa=1', 'http://bar.com/bbb/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add redirect *:80/ https://$host/bbb$path',
    tests: [
      ['/', 'https://foo.com/bbb/'],
      ['/abc', 'https://foo.com/bbb/abc'],
      ['/a/b/c', 'https://foo.com/bbb/a/b/c'],
      ['/?aaa=1', 'https://foo.com/bbb/?aaa=1'],
      ['/abc/?aaa=1', 'https://foo.com/bbb/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add svc / http://bar.com/$path',
    tests: [
      ['/%20', 'http://bar.com/%20'],
      ['/a%2fbc', 'http://bar.com/a%2fbc'],
      ['/a/b%22/c', 'http://bar.com/a/b%22/c'],
      ['/%2f/?aaa=1', 'http://bar.com/%2f/?aaa=1'],
      ['/%20/a%2f/', 'http://bar.com/%20/a%2f/'],
    ],
  },
  {
    route: 'route add svc /stripme http://bar.com/$path',
    opts: 'strip=/stripme',
    tests: [
      ['/stripme/', 'http://bar.com/'],
      ['/stripme/abc', 'http://bar.com/abc'],
      ['/stripme/a/b/c', 'http://bar.com/a/b/c'],
      ['/stripme/?aaa=1', 'http://bar.com/?aaa=1'],
      ['/stripme/abc/?aaa=1', 'http://bar.com/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add svc *:80/stripme https://bar.com/bbb$path',
    opts: 'strip=/stripme',
    tests: [
      ['/stripme', 'https://bar.com/bbb'],
      ['/stripme/abc', 'https://bar.com/bbb/abc'],
      ['/stripme/a/b/c', 'https://bar.com/bbb/a/b/c'],
      ['/stripme/?aaa=1', 'https://bar.com/bbb/?aaa=1'],
      ['/stripme/abc/?aaa=1', 'https://bar.com/bbb/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add svc / http://bar.com/$path',
    opts: 'prepend=/prefix',
    tests: [
      ['/', 'http://bar.com/prefix/'],
      ['/abc', 'http://bar.com/prefix/abc'],
      ['/a/b/c', 'http://bar.com/prefix/a/b/c'],
      ['/?aaa=1', 'http://bar.com/prefix/?aaa=1'],
      ['/abc/?aaa=1', 'http://bar.com/prefix/abc/?aaa=1'],
    ],
  },
  {
    route: 'route add svc / http://bar.com/$path',
    opts: 'prepend=/prefix strip=/stripme',
    tests: [
      ['/stripme/', 'http://bar.com/prefix/'],
      ['/stripme/abc', 'http://bar.com/prefix/abc'],
      ['/stripme/a/b/c', 'http://bar.com/prefix/a/b/c'],
      ['/stripme/?aaa=1', 'http://bar.com/prefix/?aaa=1'],
      ['/stripme/abc/?aaa=1', 'http://bar.com/prefix/abc/?aaa=1'],
    ],
  },
]

const cases: FabioCase<{ text: string; req: string }, string>[] = []
for (const g of groups) {
  const text = `${g.route} opts "redirect=301${g.opts === undefined ? '' : ` ${g.opts}`}"`
  for (const [req, want] of g.tests)
    cases.push({
      fabio: `TestTarget_BuildRedirectURL/${g.route}${g.opts === undefined ? '' : ` ${g.opts}`} ${req}`,
      in: { text, req },
      want,
    })
}

fabioCases('TestTarget_BuildRedirectURL', cases, ({ text, req }) => {
  const route = tableOf(text).table.routes[0]
  if (route === undefined || route.redirect === null) return 'no redirect route'
  return redirectLocation(route, req, 'foo.com')
})
