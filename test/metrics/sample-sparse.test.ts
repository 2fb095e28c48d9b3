/**
 * A dashboard sample (`Metrics.trafficData`) carries the in-flight gauge only for servers with requests in flight
 * and the queue gauge only for non-empty queues: an idle lb at 10,000 services must not write 30,000 zero lines
 * every sample (src/metrics/collect.ts). A /metrics scrape still lists every server.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, until } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { families } from '../../src/metrics/families.js'

test('a dashboard sample lists in-flight only for busy servers; a scrape lists them all', async () => {
  const held: ServerResponse[] = []
  const up = await startUpstream('u', (req, res) => {
    if (req.url === '/hold') held.push(res)
    else res.end('ok')
  })
  const lb = await startLb((c) => {
    c.services = [service('a', [up.port]), service('b', [up.port])]
    c.routes = [route('', '/a', 'a'), route('', '/b', 'b'), route('', '/hold', 'a')]
  })
  const inflightLines = (): string[] => {
    const f = lb.worker.metrics.trafficData().find((x) => x.name === families.serverInflight.name)
    return f === undefined ? [] : f.series.split('\n').filter((l) => l !== '')
  }
  try {
    assert.equal((await get(lb.url, '/a')).status, 200)
    assert.equal((await get(lb.url, '/b')).status, 200)
    assert.deepEqual(inflightLines(), [], 'no request in flight: no in-flight lines')
    const queue = lb.worker.metrics.trafficData().find((x) => x.name === families.queueLength.name)
    assert.equal(queue?.values.length ?? 0, 0, 'no queue lines for empty queues')
    const pending = get(lb.url, '/hold')
    await until(() => held.length === 1, 'the request held at the server')
    const busy = inflightLines()
    assert.equal(busy.length, 1)
    assert.match(busy[0] as string, /service="a"/)
    const scrape = await lb.worker.metrics.text()
    assert.match(scrape, /lb_server_inflight\{service="b",server="[^"]+"\} 0/)
    held[0]?.end('done')
    assert.equal((await pending).status, 200)
  } finally {
    await lb.close()
    await up.close()
  }
})
