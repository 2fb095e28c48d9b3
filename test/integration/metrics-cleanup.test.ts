/**
 * Bounded cardinality: when a service, a server or a route disappears from the snapshot, its series disappear
 * from the next scrape (fabio keeps them forever); what stays keeps counting from where it was.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'
import { configToSnapshot } from '../../src/provider/file.js'

function linesWith(text: string, needle: string): string[] {
  return text.split('\n').filter((l) => !l.startsWith('#') && l.includes(needle))
}

test('metrics: series of a removed service, server and route are gone after the table swap', async () => {
  const a0 = await startUpstream('a0')
  const a1 = await startUpstream('a1')
  const b = await startUpstream('b')
  const lb = await startLb((c) => {
    c.services = [service('a', [a0.port, a1.port]), service('bsvc', [b.port])]
    c.routes = [route('', '/', 'a'), route('', '/b', 'bsvc')]
  })
  try {
    for (let i = 0; i < 4; i++) assert.equal((await get(lb.url, '/')).status, 200)
    assert.equal((await get(lb.url, '/b')).status, 200)
    const before = await lb.worker.metrics.text()
    assert.ok(linesWith(before, 'service="bsvc"').length > 0, before)
    assert.ok(linesWith(before, 'server="s1"').length > 0, before)
    assert.ok(linesWith(before, 'route="/b"').length > 0, before)

    const edited = { ...lb.config, services: [service('a', [a0.port])], routes: [route('', '/', 'a')] }
    await lb.apply(configToSnapshot(edited))
    const after = await lb.worker.metrics.text()
    assert.deepEqual(linesWith(after, 'bsvc'), [])
    assert.deepEqual(linesWith(after, 'server="s1"'), [])
    assert.deepEqual(linesWith(after, 'route="/b"'), [])
    // What stayed kept its counts across the swap.
    assert.ok(after.includes('lb_http_requests_total{service="a",code="2xx"} 4\n'), after)
    assert.ok(after.includes('lb_http_route_requests_total{route="/",code="2xx"} 4\n'), after)
  } finally {
    await lb.close()
    await a0.close()
    await a1.close()
    await b.close()
  }
})
