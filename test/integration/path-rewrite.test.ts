/**
 * With strip/prepend the upstream path is built from the normal form the route matched (query kept as sent),
 * so dot segments cannot climb out of a prepended prefix; without a rewrite the client's path goes as sent.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'

let up: TestUpstream
let lb: TestLb

before(async () => {
  up = await startUpstream('u')
  lb = await startLb((c) => {
    c.services = [service('u', [up.port])]
    c.routes = [route('', '/v1', 'u', { strip: '/v1', prepend: '/jail/' }), route('', '/raw', 'u')]
  })
})

after(async () => {
  await lb.close()
  await up.close()
})

function upstreamUrl(path: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const before = up.requests.length
    const req = request({ host: '127.0.0.1', port: lb.port, path }, (res) => {
      res.resume()
      res.on('end', () => resolve(up.requests.length > before ? up.requests.at(-1)?.url : undefined))
    })
    req.on('error', reject)
    req.end()
  })
}

const cases = [
  { desc: 'plain rewrite', path: '/v1/a?q=1', want: '/jail/a?q=1' },
  { desc: 'dot segments resolved before the rewrite', path: '/v1/a/../b?q=/../x', want: '/jail/b?q=/../x' },
  { desc: 'escaped dots resolved before the rewrite', path: '/v1/a/%2e%2e/%2e%2e/v1/c', want: '/jail/c' },
  { desc: 'double slash collapsed before the rewrite', path: '/v1//a', want: '/jail/a' },
  { desc: 'no rewrite: path as sent', path: '/raw/a/../b;x?q', want: '/raw/a/../b;x?q' },
]

for (const c of cases) {
  test(`${c.desc}: ${c.path} → ${c.want}`, async () => {
    assert.equal(await upstreamUrl(c.path), c.want)
  })
}
