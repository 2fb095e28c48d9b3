/**
 * fabio `route/matcher_test.go`: the path matchers `prefix` (TestPrefixMatcher, 4 rows), `glob`
 * (TestGlobMatcher, 13 rows) and `iprefix` (TestIPrefixMatcher, 4 rows), through a one-route table
 * (src/route/table.ts `lookupHttp` with `pathMatch`), both as the table's global matcher and as the route's own.
 */
import { fabioCases } from './cases.js'
import { buildTable } from '../../../src/route/table.js'
import { lookupHttp } from '../../../src/route/lookup.js'
import type { PathMatch } from '../../../src/model/snapshot.js'

function matches(mode: PathMatch, routePath: string, uri: string, perRoute: boolean): boolean {
  const spec = {
    host: '',
    path: routePath,
    service: 's',
    strip: '',
    prepend: '',
    hostHeader: '',
    redirect: null,
    source: 'test',
    ...(perRoute ? { pathMatch: mode } : {}),
  }
  const table = buildTable([spec], { pathMatch: perRoute ? 'prefix' : mode })
  return lookupHttp(table, undefined, uri) !== undefined
}

const rows: [PathMatch, string, string, boolean][] = [
  ['prefix', '/foo', '/foo', true],
  ['prefix', '/foo', '/fools', true],
  ['prefix', '/foo', '/fo', false],
  ['prefix', '/foo', '/bar', false],
  ['glob', '/foo', '/foo', true],
  ['glob', '/foo?', '/fool', true],
  ['glob', '/foo*', '/fool', true],
  ['glob', '/foo*', '/fools', true],
  ['glob', '/foo*', '/fools', true],
  ['glob', '/foo/*/bar', '/foo/x/bar', true],
  ['glob', '/foo/**', '/foo/x/y/z/w/bar', true],
  ['glob', '/foo/**/bar', '/foo/x/y/z/w/bar', true],
  ['glob', '/foo', '/fo', false],
  ['glob', '/foo', '/fools', false],
  ['glob', '/foo*', '/fo', false],
  ['glob', '/foo.*', '/fools', false],
  ['glob', '/foo/**/bar', '/foo/x/y/z/w/baz', false],
  ['iprefix', '/fool', '/foo', false],
  ['iprefix', '/foo', '/foo', true],
  ['iprefix', '/foo', '/Fool', true],
  ['iprefix', '/Foo', '/foo', true],
]

const title: Record<string, string> = {
  prefix: 'TestPrefixMatcher',
  glob: 'TestGlobMatcher',
  iprefix: 'TestIPrefixMatcher',
}

for (const perRoute of [false, true]) {
  fabioCases(
    perRoute ? 'matcher per route' : 'matcher global',
    rows.map(([mode, path, uri, want]) => ({
      fabio: `${title[mode] ?? mode}/${uri} vs ${path}`,
      in: { mode, path, uri },
      want,
    })),
    (c) => matches(c.mode, c.path, c.uri, perRoute),
  )
}
