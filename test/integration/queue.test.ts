/** maxconn with a queue: requests above maxconn wait for a slot in order; past timeouts.queue they get 503. */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, patchServer, until } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('queue: a request waits for the busy server and is served when it frees up', async () => {
  const held: ServerResponse[] = []
  const up = await startUpstream('a', (req, res) => {
    req.resume()
    held.push(res)
  })
  const svc = service('svc', [up.port])
  patchServer(svc, 0, { maxconn: 1 })
  const lb = await startLb((c) => {
    c.services = [svc]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const first = get(lb.url, '/1')
    await until(() => held.length === 1, 'first request at the server')
    const second = get(lb.url, '/2')
    const queue = lb.worker.state.services.get('svc')?.queue
    await until(() => queue?.length === 1, 'second request queued')
    assert.equal(held.length, 1)
    held[0]?.end('one')
    assert.equal((await first).body, 'one')
    await until(() => held.length === 2, 'second request dispatched')
    held[1]?.end('two')
    assert.equal((await second).body, 'two')
    assert.equal(up.requests.map((r) => r.url).join(','), '/1,/2')
    await until(() => lb.access.length === 2, 'log lines')
    assert.ok(Number(lb.access.find((l) => l.uri === '/2')?.Tw) >= 0)
  } finally {
    for (const r of held) r.end()
    await lb.close()
    await up.close()
  }
})

test('queue: timeouts.queue gives 503 (sQ); maxqueue full gives 503 at once', async () => {
  const held: ServerResponse[] = []
  const up = await startUpstream('a', (req, res) => {
    req.resume()
    held.push(res)
  })
  const svc = { ...service('svc', [up.port]), maxqueue: 1 }
  svc.timeouts = { ...svc.timeouts, queue: 2_000 }
  patchServer(svc, 0, { maxconn: 1 })
  mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const lb = await startLb((c) => {
    c.services = [svc]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const first = get(lb.url, '/1')
    await until(() => held.length === 1, 'first request at the server')
    const queued = get(lb.url, '/2')
    await until(() => lb.worker.state.services.get('svc')?.queue.length === 1, 'queued')
    const rejected = await get(lb.url, '/3')
    assert.equal(rejected.status, 503)
    mock.timers.tick(2_000)
    const r = await queued
    assert.equal(r.status, 503)
    await until(() => lb.access.some((l) => l.uri === '/2'), 'log line')
    assert.equal(lb.access.find((l) => l.uri === '/2')?.ts, 'sQ')
    held[0]?.end('one')
    assert.equal((await first).status, 200)
  } finally {
    mock.timers.reset()
    for (const r of held) r.end()
    await lb.close()
    await up.close()
  }
})
