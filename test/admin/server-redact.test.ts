/**
 * Redaction: no secret (admin token, Consul token, TLS private key) appears in any admin response, including
 * /api/config (which shows `[redacted]` where a secret is set) and the error answers to bad tokens.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { REDACTED, redactSecrets } from '../../src/admin/redact.js'
import { bearer, startAdmin } from '../helpers/admin.js'
import { get } from '../helpers/client.js'
import { route, service } from '../helpers/lb.js'

const secrets = {
  admin: 'admin-SECRET-0f3a9c',
  consul: 'consul-SECRET-77d1e2',
  key: '-----BEGIN PRIVATE KEY-----\nKEY-SECRET-a1b2c3\n-----END PRIVATE KEY-----\n',
}

test('admin redaction: no secret in any response', async () => {
  const a = await startAdmin((c) => {
    c.admin.token = secrets.admin
    c.consul.token = secrets.consul
    c.consul.tls.key = secrets.key
    c.consul.tls.cert = '-----BEGIN CERTIFICATE-----\npublic\n-----END CERTIFICATE-----\n'
    c.services = [service('web', [1])]
    c.routes = [route('', '/', 'web')]
  })
  try {
    const replies = []
    for (const path of [
      '/',
      '/health',
      '/metrics',
      '/api/routes',
      '/api/routes?format=text',
      '/api/services',
      '/api/servers',
      '/api/config',
      '/api/explain?host=x&path=/',
      '/api/explain?path=/&format=text',
      '/nope',
    ]) {
      replies.push(await a.get(path))
    }
    replies.push(await a.post('/api/servers/web/s0/state', 'drain', bearer('wrong')))
    replies.push(await a.post('/api/servers/web/s0/state', 'drain', bearer(secrets.admin)))
    replies.push(await a.post('/api/servers/web/s0/weight', secrets.admin, bearer(secrets.admin)))
    replies.push(await get(a.url, '/api/config', { method: 'DELETE' }))
    for (const r of replies) {
      const text = r.body + JSON.stringify(r.headers)
      assert.ok(!text.includes(secrets.admin), `admin token leaked: ${r.body.slice(0, 200)}`)
      assert.ok(!text.includes(secrets.consul), 'consul token leaked')
      assert.ok(!text.includes('KEY-SECRET'), 'TLS key leaked')
    }
    const config = JSON.parse((await a.get('/api/config')).body) as {
      admin: { token: string; port: number }
      consul: { token: string; tls: { key: string; cert: string } }
    }
    assert.equal(config.admin.token, REDACTED)
    assert.equal(config.consul.token, REDACTED)
    assert.equal(config.consul.tls.key, REDACTED)
    assert.match(config.consul.tls.cert, /BEGIN CERTIFICATE/, 'certificates are public')
    assert.equal(config.admin.port, 0, 'the rest is shown')
  } finally {
    await a.close()
  }
})

test('redactSecrets: secret-named fields anywhere, empty ones stay empty, the input is not changed', () => {
  const input = {
    token: 'a',
    nested: [
      {
        headers: new Map([
          ['Authorization', 'Bearer b'],
          ['accept', '*/*'],
        ]),
      },
    ],
    consul: { token: '', aclToken: 'c', tls: { key: 'd', ca: 'pem' } },
    keepAlive: 1,
    // A certificate from Consul KV carries its PEM text (src/process/cert-kv.ts).
    certificates: [{ certFile: 'consul:lb/certs/a.pem', pem: { cert: 'public', privateKey: 'e' } }],
  }
  assert.deepEqual(redactSecrets(input), {
    token: REDACTED,
    nested: [{ headers: { Authorization: REDACTED, accept: '*/*' } }],
    consul: { token: '', aclToken: REDACTED, tls: { key: REDACTED, ca: 'pem' } },
    keepAlive: 1,
    certificates: [{ certFile: 'consul:lb/certs/a.pem', pem: { cert: 'public', privateKey: REDACTED } }],
  })
  assert.equal(input.token, 'a')
})
