/** The Authorization scheme is case-insensitive (RFC 9110): `bearer <token>` is accepted like `Bearer <token>`. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startAdmin } from '../helpers/admin.js'
import { route, service } from '../helpers/lb.js'

test('admin auth: lower- and upper-case bearer schemes are accepted, a wrong scheme is not', async () => {
  const a = await startAdmin((c) => {
    c.admin.token = 's3cret-token'
    c.services = [service('web', [1, 2])]
    c.routes = [route('', '/', 'web')]
  })
  try {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const r = await a.post('/api/servers/web/s0/state', 'drain', {
        authorization: `${scheme} s3cret-token`,
      })
      assert.equal(r.status, 200, scheme)
    }
    const basic = await a.post('/api/servers/web/s0/state', 'ready', { authorization: 'Basic s3cret-token' })
    assert.equal(basic.status, 401)
  } finally {
    await a.close()
  }
})
