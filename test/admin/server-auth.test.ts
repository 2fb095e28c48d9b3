/**
 * Admin API auth: GET is read-only without a token; POST needs the bearer token (401 missing/wrong), and with no
 * token configured changes are disabled (403). A change made with the token is visible in /api/servers.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bearer, startAdmin } from '../helpers/admin.js'
import { route, service } from '../helpers/lb.js'

function setup(token: string): ReturnType<typeof startAdmin> {
  return startAdmin((c) => {
    c.admin.token = token
    c.services = [service('web', [1, 2])]
    c.routes = [route('', '/', 'web')]
  })
}

async function stateOf(a: Awaited<ReturnType<typeof setup>>, server: string): Promise<string> {
  const rows = JSON.parse((await a.get('/api/servers')).body) as { server: string; status: string }[]
  return rows.find((r) => r.server === server)?.status ?? 'missing'
}

test('admin auth: no token configured → GET works, every POST is 403', async () => {
  const a = await setup('')
  try {
    assert.equal((await a.get('/api/servers')).status, 200)
    for (const path of ['/api/servers/web/s0/state', '/api/servers/web/s0/weight', '/api/reload']) {
      const r = await a.post(path, 'drain', bearer('anything'))
      assert.equal(r.status, 403, path)
      assert.match(r.body, /changes are disabled/)
    }
    assert.equal(await stateOf(a, 's0'), 'UP')
  } finally {
    await a.close()
  }
})

test('admin auth: missing or wrong token → 401 and nothing changes; the right one → 200 and visible', async () => {
  const a = await setup('s3cret-token')
  try {
    const cases: { desc: string; headers: Record<string, string> }[] = [
      { desc: 'no header', headers: {} },
      { desc: 'wrong token', headers: bearer('s3cret-tokeX') },
      { desc: 'prefix of the token', headers: bearer('s3cret') },
      { desc: 'not Bearer', headers: { authorization: 'Basic s3cret-token' } },
    ]
    for (const c of cases) {
      const r = await a.post('/api/servers/web/s0/state', 'drain', c.headers)
      assert.equal(r.status, 401, c.desc)
      assert.equal(r.headers['www-authenticate'], 'Bearer')
    }
    assert.equal(await stateOf(a, 's0'), 'UP')
    const ok = await a.post('/api/servers/web/s0/state', 'drain', bearer('s3cret-token'))
    assert.equal(ok.status, 200, ok.body)
    assert.deepEqual(JSON.parse(ok.body), { ok: true, service: 'web', server: 's0', state: 'drain' })
    assert.equal(await stateOf(a, 's0'), 'DRAIN')
    assert.equal(await stateOf(a, 's1'), 'UP')
  } finally {
    await a.close()
  }
})
