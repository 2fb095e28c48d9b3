/**
 * fabio's HTTP→HTTPS idiom `route add redirect *:80/ https://$host$path opts "redirect=301"` with its loop guard:
 * a plain request is redirected; one that a trusted proxy marks `X-Forwarded-Proto: https` is not redirected
 * again but served by the next route; an untrusted peer's header does not count.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, service } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'

test('redirect *:80 → https with the loop guard', async () => {
  const up = await startUpstream('app')
  const lb = await startLb((c) => {
    c.services = [service('app', [up.port])]
    c.routes = [
      { host: '', path: '/', service: 'app', strip: '', prepend: '', hostHeader: '', redirect: null },
    ]
    c.routeCommands = 'route add redirect *:80/ https://$host$path opts "redirect=301"'
    c.http.trustedProxies = ['127.0.0.1/32']
  })
  try {
    const plain = await get(lb.url, '/a?b=1', { host: 'shop.test' })
    assert.equal(plain.status, 301)
    assert.equal(plain.headers.location, 'https://shop.test/a?b=1')
    const https = await get(lb.url, '/a?b=1', {
      host: 'shop.test',
      headers: { 'x-forwarded-proto': 'https' },
    })
    assert.equal(https.status, 200)
    assert.equal(https.body, 'app')
  } finally {
    await lb.close()
    await up.close()
  }
})

test('redirect loop guard ignores X-Forwarded-Proto from an untrusted peer', async () => {
  const up = await startUpstream('app')
  const lb = await startLb((c) => {
    c.services = [service('app', [up.port])]
    c.routes = [
      { host: '', path: '/', service: 'app', strip: '', prepend: '', hostHeader: '', redirect: null },
    ]
    c.routeCommands = 'route add redirect *:80/ https://$host$path opts "redirect=301"'
  })
  try {
    const r = await get(lb.url, '/a', { host: 'shop.test', headers: { 'x-forwarded-proto': 'https' } })
    assert.equal(r.status, 301)
  } finally {
    await lb.close()
    await up.close()
  }
})
