/** normalizePath: the form a request path is matched in (dot segments, //, ;params, escaped unreserved chars). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isNormalPath, normalizePath } from '../../src/route/normalize.js'

const cases: { desc: string; url: string; want: string }[] = [
  { desc: 'plain path is kept', url: '/api/users', want: '/api/users' },
  { desc: 'query is kept on the fast path', url: '/a/b?x=/../y', want: '/a/b?x=/../y' },
  { desc: 'root', url: '/', want: '/' },
  { desc: 'dot-dot segment', url: '/api/../admin', want: '/admin' },
  { desc: 'dot-dot at the end keeps the trailing /', url: '/a/b/..', want: '/a/' },
  { desc: 'dot-dot above the root stays at the root', url: '/../../admin', want: '/admin' },
  { desc: 'dot segment', url: '/./admin/./x', want: '/admin/x' },
  { desc: 'dot at the end', url: '/admin/.', want: '/admin/' },
  { desc: 'escaped dots (lower-case hex)', url: '/api/%2e%2e/admin', want: '/admin' },
  { desc: 'escaped dots (upper-case hex)', url: '/api/%2E%2E/admin', want: '/admin' },
  { desc: 'mixed escaped dot', url: '/api/.%2e/admin', want: '/admin' },
  { desc: 'escaped unreserved letter', url: '/%61dmin', want: '/admin' },
  { desc: 'escaped slash stays encoded', url: '/api%2Fadmin', want: '/api%2Fadmin' },
  { desc: 'escaped slash with dot-dot next to it', url: '/api/..%2Fadmin', want: '/api/..%2Fadmin' },
  { desc: 'escaped space stays encoded', url: '/a%20b', want: '/a%20b' },
  { desc: 'double slash collapses', url: '//admin', want: '/admin' },
  { desc: 'many slashes collapse', url: '/a///b//', want: '/a/b/' },
  { desc: 'path parameter dropped', url: '/admin;jsessionid=1', want: '/admin' },
  { desc: 'path parameter inside', url: '/admin;x/y', want: '/admin/y' },
  { desc: 'tomcat ..; trick', url: '/api/..;/admin', want: '/admin' },
  { desc: 'empty segment with parameter', url: '/;x/admin', want: '/admin' },
  { desc: 'fragment cut off', url: '/admin#frag', want: '/admin' },
  { desc: 'query dropped on the slow path', url: '/a/../b?q=1', want: '/b' },
  { desc: 'case is kept', url: '/Admin/../ADMIN', want: '/ADMIN' },
  { desc: 'non-ASCII kept', url: '/caf\u00e9/./x', want: '/caf\u00e9/x' },
  { desc: 'dot prefix is a name, not a dot segment', url: '/.well-known/x', want: '/.well-known/x' },
  { desc: 'three dots are a name', url: '/a/.../b', want: '/a/.../b' },
  { desc: 'truncated escape kept', url: '/a%2', want: '/a%2' },
  { desc: 'asterisk form untouched', url: '*', want: '*' },
  { desc: 'absolute form untouched', url: 'http://h/a/../b', want: 'http://h/a/../b' },
]

for (const c of cases) {
  test(c.desc, () => {
    const got = normalizePath(c.url)
    assert.equal(got, c.want)
    // Idempotent: the normal form is normal.
    assert.equal(normalizePath(got), got)
    if (got.charCodeAt(0) === 47) assert.equal(isNormalPath(got), true, `${got} is normal`)
  })
}

test('an already normal path is returned as the same string', () => {
  const url = '/api/v1/users/42?x=1'
  assert.equal(isNormalPath(url), true)
  assert.equal(normalizePath(url), url)
})

test('random paths normalise to a fixed point with no dot or empty segments', () => {
  const alphabet = ['/', '.', '..', 'a', 'B', '%2e', '%2E', '%2F', '%41', ';', 'x;y', '?', '#', '%']
  let seed = 7
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
  for (let k = 0; k < 2_000; k++) {
    let url = '/'
    const len = rand(12)
    for (let i = 0; i < len; i++) url += alphabet[rand(alphabet.length)] as string
    const got = normalizePath(url)
    assert.equal(normalizePath(got), got, url)
    assert.equal(isNormalPath(got), true, url)
    const path = got.split('?')[0] as string
    assert.ok(!/\/\/|\/\.\.?(\/|$)/.test(path), `${url} → ${got}`)
  }
})
