/**
 * A retry that goes to another server is marked as redispatched, like haproxy's `+` on the retries count: in the
 * JSON line (`redispatched: true`) and in the httplog text (`+1`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deadPort, startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { formatHttplog } from '../../src/log/log.js'

test('a refused first server, then another: 200, retries 1, redispatched', async () => {
  const dead = await deadPort()
  const up = await startUpstream('live')
  const lb = await startLb((c) => {
    // `first` always tries the lowest available server first: the dead one.
    c.services = [service('svc', [dead, up.port], { balance: 'first', retries: 2 })]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const r = await get(lb.url, '/')
    assert.equal(r.status, 200)
    const line = lb.access.at(-1)
    assert.equal(line?.retries, 1)
    assert.equal(line?.redispatched, true)
    assert.equal(line?.server, 's1')
    assert.match(formatHttplog(line ?? { status: 0, ts: '' }, new Date()), / -\/-\/-\/-\/\+1 /)
  } finally {
    await lb.close()
    await up.close()
  }
})
