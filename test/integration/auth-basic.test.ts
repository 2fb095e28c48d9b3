/**
 * fabio `auth=<scheme>` with `proxy.auth` basic/htpasswd (issue 20 feature 4): a route with `auth=` answers 401
 * with `WWW-Authenticate` without valid credentials, and proxies with them; the credentials never reach the
 * access log.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import { startLb, service } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'

test('auth=: 401 with a challenge, 200 with valid basic credentials', async () => {
  const up = await startUpstream('app')
  const lb = await startLb((c) => {
    c.services = [service('app', [up.port])]
    c.routes = [
      {
        host: '',
        path: '/admin',
        service: 'app',
        strip: '',
        prepend: '',
        hostHeader: '',
        redirect: null,
        auth: 'ops',
      },
    ]
    c.routeCommands = `route add tagged /tagged http://127.0.0.1:${up.port}/ opts "auth=ops"`
    c.http.auth = [
      { name: 'ops', type: 'basic', realm: 'Ops area', htpasswd: `alice:${bcrypt.hashSync('s3cret', 4)}` },
    ]
  })
  const good = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`
  const bad = `Basic ${Buffer.from('alice:nope').toString('base64')}`
  try {
    const none = await get(lb.url, '/admin')
    assert.equal(none.status, 401)
    assert.equal(none.headers['www-authenticate'], 'Basic realm="Ops area"')
    assert.equal((await get(lb.url, '/admin', { headers: { authorization: bad } })).status, 401)
    const ok = await get(lb.url, '/admin', { headers: { authorization: good } })
    assert.equal(ok.status, 200)
    assert.equal(ok.body, 'app')
    assert.equal((await get(lb.url, '/tagged')).status, 401, 'auth= from a route command')
    assert.equal((await get(lb.url, '/tagged', { headers: { authorization: good } })).status, 200)
    assert.equal(up.requests.length, 2, 'unauthorised requests never reach the upstream')
    assert.ok(
      !JSON.stringify(lb.access).includes('s3cret') && !JSON.stringify(lb.access).includes(good.slice(6)),
    )
  } finally {
    await lb.close()
    await up.close()
  }
})
