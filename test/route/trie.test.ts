import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pathMatchers, PathTrieBuilder } from '../../src/route/trie.js'

function trieOf(paths: readonly string[]) {
  const b = new PathTrieBuilder<string>()
  for (const p of paths) b.insert(p, p)
  return b.finish()
}

function lookup(paths: readonly string[], mode: keyof typeof pathMatchers, url: string): string | undefined {
  return pathMatchers[mode](trieOf(paths), url)
}

interface Case {
  readonly desc: string
  readonly paths: readonly string[]
  readonly url: string
  readonly prefix: string | undefined
  readonly segment: string | undefined
}

// Every case states the answer for both matchers.
const cases: readonly Case[] = [
  { desc: 'empty trie', paths: [], url: '/a', prefix: undefined, segment: undefined },
  { desc: 'root matches everything', paths: ['/'], url: '/x/y', prefix: '/', segment: '/' },
  { desc: 'exact path', paths: ['/foo'], url: '/foo', prefix: '/foo', segment: '/foo' },
  { desc: 'sub path', paths: ['/foo'], url: '/foo/bar', prefix: '/foo', segment: '/foo' },
  { desc: 'no segment boundary', paths: ['/foo'], url: '/foot', prefix: '/foo', segment: undefined },
  { desc: 'falls back to root', paths: ['/', '/foo'], url: '/foot', prefix: '/foo', segment: '/' },
  { desc: 'shorter url', paths: ['/foo'], url: '/fo', prefix: undefined, segment: undefined },
  {
    desc: 'trailing slash route needs the slash',
    paths: ['/foo/'],
    url: '/foo',
    prefix: undefined,
    segment: undefined,
  },
  {
    desc: 'trailing slash route is a boundary',
    paths: ['/foo/'],
    url: '/foo/x',
    prefix: '/foo/',
    segment: '/foo/',
  },
  {
    desc: 'longest prefix wins',
    paths: ['/', '/foo', '/foo/bar', '/foo/bar/baz'],
    url: '/foo/bar/bazooka',
    prefix: '/foo/bar/baz',
    segment: '/foo/bar',
  },
  {
    desc: 'insertion order does not matter',
    paths: ['/foo/bar/baz', '/foo/bar', '/', '/foo'],
    url: '/foo/bar/x',
    prefix: '/foo/bar',
    segment: '/foo/bar',
  },
  {
    desc: 'sibling /foo and /foot: /foot/x',
    paths: ['/foo', '/foot'],
    url: '/foot/x',
    prefix: '/foot',
    segment: '/foot',
  },
  {
    desc: 'sibling /foo and /foot: /foo/x',
    paths: ['/foo', '/foot'],
    url: '/foo/x',
    prefix: '/foo',
    segment: '/foo',
  },
  {
    desc: 'sibling /foo and /foot: /foox',
    paths: ['/foo', '/foot'],
    url: '/foox',
    prefix: '/foo',
    segment: undefined,
  },
  {
    desc: 'sibling /foo and /foot with root: /foox',
    paths: ['/', '/foo', '/foot'],
    url: '/foox',
    prefix: '/foo',
    segment: '/',
  },
  {
    desc: 'query string is not matched',
    paths: ['/foo'],
    url: '/fo?o',
    prefix: undefined,
    segment: undefined,
  },
  { desc: 'query string ends the path', paths: ['/foo'], url: '/foo?x=1', prefix: '/foo', segment: '/foo' },
  {
    desc: 'query right after a prefix',
    paths: ['/foo'],
    url: '/foot?x=/foo',
    prefix: '/foo',
    segment: undefined,
  },
  {
    desc: 'a slash in the query is not a boundary',
    paths: ['/foo', '/foo/bar'],
    url: '/foo?/bar',
    prefix: '/foo',
    segment: '/foo',
  },
  { desc: 'empty query', paths: ['/a'], url: '/a?', prefix: '/a', segment: '/a' },
  {
    desc: 'route containing ? never matches across the query',
    paths: ['/a?b'],
    url: '/a?b',
    prefix: undefined,
    segment: undefined,
  },
  { desc: 'case sensitive', paths: ['/Foo'], url: '/foo', prefix: undefined, segment: undefined },
  {
    desc: 'split edge: common prefix only',
    paths: ['/api/v1', '/api/v2'],
    url: '/api/v',
    prefix: undefined,
    segment: undefined,
  },
  {
    desc: 'split edge: v1',
    paths: ['/api/v1', '/api/v2'],
    url: '/api/v1/users',
    prefix: '/api/v1',
    segment: '/api/v1',
  },
  {
    desc: 'split edge: v2',
    paths: ['/api/v1', '/api/v2'],
    url: '/api/v2',
    prefix: '/api/v2',
    segment: '/api/v2',
  },
  {
    desc: 'deep path',
    paths: ['/a/b/c/d/e/f/g/h', '/a/b/c/d', '/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p'],
    url: '/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s?t=u',
    prefix: '/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p',
    segment: '/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p',
  },
  {
    desc: 'deep path stops at the first mismatch',
    paths: ['/a/b/c/d', '/a/b/c/d/e/f/g/h'],
    url: '/a/b/c/d/e/f/x/h',
    prefix: '/a/b/c/d',
    segment: '/a/b/c/d',
  },
  { desc: 'empty route path matches every target', paths: [''], url: '/x', prefix: '', segment: '' },
  { desc: 'non-slash target', paths: ['/'], url: '*', prefix: undefined, segment: undefined },
  { desc: 'empty target', paths: ['/'], url: '', prefix: undefined, segment: undefined },
  { desc: 'non-ASCII path', paths: ['/é', '/éa'], url: '/éa/b', prefix: '/éa', segment: '/éa' },
  {
    desc: 'percent-encoded is matched raw',
    paths: ['/a b'],
    url: '/a%20b',
    prefix: undefined,
    segment: undefined,
  },
]

for (const mode of ['prefix', 'segment'] as const) {
  test(`pathMatchers.${mode}`, async (t) => {
    for (const c of cases) {
      await t.test(c.desc, () => {
        assert.equal(lookup(c.paths, mode, c.url), c[mode])
      })
    }
  })
}

test('PathTrieBuilder: the first insert of a path wins', () => {
  const b = new PathTrieBuilder<number>()
  assert.equal(b.insert('/a', 1), true)
  assert.equal(b.insert('/ab', 2), true)
  assert.equal(b.insert('/a', 3), false)
  assert.equal(b.insert('/', 4), true)
  assert.equal(b.insert('/ab', 5), false)
  assert.equal(b.size, 3)
  const trie = b.finish()
  assert.equal(pathMatchers.prefix(trie, '/a'), 1)
  assert.equal(pathMatchers.prefix(trie, '/abc'), 2)
  assert.equal(pathMatchers.prefix(trie, '/b'), 4)
})

test('PathTrieBuilder: a root with one child is merged into it', async (t) => {
  const cases = [
    { desc: 'common first char', paths: ['/a', '/b'], url: '/b', want: '/b' },
    { desc: 'single path', paths: ['/api/v1'], url: '/api/v1/x', want: '/api/v1' },
    { desc: 'single path, target shorter', paths: ['/api/v1'], url: '/api', want: undefined },
    { desc: 'single path, other target', paths: ['/api/v1'], url: 'x', want: undefined },
    { desc: 'single path with a query char', paths: ['/a?'], url: '/a?', want: undefined },
    { desc: 'query child dropped, sibling kept', paths: ['/a?b', '/a/b'], url: '/a/b', want: '/a/b' },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      assert.equal(pathMatchers.prefix(trieOf(c.paths), c.url), c.want)
      assert.equal(pathMatchers.segment(trieOf(c.paths), c.url), c.want)
    })
  }
})
