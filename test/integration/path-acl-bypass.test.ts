/**
 * Path spellings cannot move a request off the route its normal form matches: every spelling of /admin gets the
 * admin route's 403 (allow list excludes 127.0.0.1) with prefix and segment matching, and a request that is
 * allowed reaches the upstream with the path exactly as the client sent it.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'
import type { PathMatch } from '../../src/model/snapshot.js'

let up: TestUpstream
const lbs = new Map<PathMatch, TestLb>()

before(async () => {
  up = await startUpstream('u')
  for (const pathMatch of ['prefix', 'segment'] as const) {
    const lb = await startLb((c) => {
      c.http.pathMatch = pathMatch
      c.services = [service('u', [up.port])]
      c.routes = [
        route('', '/', 'u'),
        { ...route('', '/admin', 'u'), allow: ['10.0.0.0/8'] } as (typeof c.routes)[number],
        { ...route('', '/api/internal', 'u'), deny: ['127.0.0.0/8'] } as (typeof c.routes)[number],
      ]
    })
    lbs.set(pathMatch, lb)
  }
})

after(async () => {
  for (const lb of lbs.values()) await lb.close()
  await up.close()
})

/** Raw request target as written (node:http sends `path` verbatim). */
function status(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: 'a.test' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end()
  })
}

const denied = [
  '/admin',
  '/admin/',
  '/admin/users',
  '/api/../admin',
  '/api/..//admin/x',
  '/x/y/../../admin',
  '/../admin',
  '/./admin',
  '//admin',
  '///admin/users',
  '/%2e%2e/admin',
  '/api/%2e%2e/admin',
  '/api/%2E%2E/admin',
  '/api/.%2e/admin',
  '/%61dmin',
  '/%61%64%6d%69%6e/users',
  '/admin;jsessionid=1',
  '/admin;x/users',
  '/api/..;/admin',
  '/;/admin',
  '/admin/.',
  '/api/internal',
  '/api//internal/x',
  '/api/internal;a=b',
  '/api/public/../internal',
  '/api/%69nternal',
]

for (const pathMatch of ['prefix', 'segment'] as const) {
  for (const path of denied) {
    test(`${pathMatch}: ${path} → 403`, async () => {
      const lb = lbs.get(pathMatch) as TestLb
      const before = up.requests.length
      assert.equal(await status(lb.port, path), 403)
      assert.equal(up.requests.length, before)
    })
  }
}

const allowed = [
  { path: '/public/./x', desc: 'dot segment outside the ACL' },
  { path: '/public//x?a=/../admin', desc: 'double slash, and a query that looks like a path' },
  { path: '/api%2Finternal', desc: 'escaped slash: one segment, not /api/internal' },
  { path: '/ADMIN', desc: 'other case: paths are case-sensitive' },
  { path: '/caf%C3%A9/%7Euser', desc: 'escaped UTF-8 and an escaped unreserved char' },
]

for (const c of allowed) {
  test(`${c.desc}: allowed, upstream gets ${c.path} verbatim`, async () => {
    const lb = lbs.get('segment') as TestLb
    const before = up.requests.length
    assert.equal(await status(lb.port, c.path), 200)
    assert.equal(up.requests.length, before + 1)
    assert.equal(up.requests.at(-1)?.url, c.path)
  })
}
