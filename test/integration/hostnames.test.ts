/** Server addresses may be hostnames: resolved through the cache; a failed resolution is a down server with a reason. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, patchServer } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('hostname servers resolve; unresolvable ones are marked down with a reason', async () => {
  const up = await startUpstream('named')
  const svc = service('svc', [up.port, 80])
  patchServer(svc, 0, { host: 'localhost' })
  patchServer(svc, 1, { host: 'no-such-host.invalid' })
  const lb = await startLb((c) => {
    c.services = [svc]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    for (let i = 0; i < 6; i++) {
      const r = await get(lb.url, '/')
      assert.equal(r.status, 200)
      assert.equal(r.body, 'named')
    }
    const ups = lb.worker.state.services.get('svc')?.upstreams ?? []
    const bad = ups.find((u) => u.host === 'no-such-host.invalid')
    assert.equal(bad?.up, false)
    assert.match(bad?.downReason ?? '', /no-such-host\.invalid/)
    const good = ups.find((u) => u.host === 'localhost')
    assert.equal(good?.up, true)
    assert.match(good?.address ?? '', /^(127\.0\.0\.1|::1)$/)
  } finally {
    await lb.close()
    await up.close()
  }
})
