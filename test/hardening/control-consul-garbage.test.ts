/**
 * Consul answers 200 with a new index but a body that is not what the endpoint returns: not JSON, JSON of the
 * wrong shape, entries missing their fields. Each time lb keeps the last good routes (the provider never emits a
 * snapshot built from garbage, nothing throws), and converges once Consul answers properly again.
 * (500s, a wedged agent and an index going backwards: test/integration/consul-{outage,index-reset}.test.ts.)
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startConsulLb, hasServers, type ConsulLb, waitFor } from '../helpers/consul-lb.js'
import { startUpstream, type TestUpstream, portOfUpstream } from '../helpers/upstream.js'
import { get } from '../helpers/client.js'

let consul: ConsulTestServer
let ups: TestUpstream[]
let t: ConsulLb
/** When set, answers to paths starting with `prefix` are replaced by `body` (with a fresh, higher index). */
let garbage: { prefix: string; body: string } | null = null
const unhandled: unknown[] = []
const onUnhandled = (err: unknown): void => {
  unhandled.push(err)
}

before(async () => {
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUnhandled)
  consul = await ConsulTestServer.start()
  const [real] = consul.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[]
  if (real === undefined) throw new Error('no request listener on the Consul test server')
  consul.server.removeAllListeners('request')
  consul.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const g = garbage
    if (g === null || !(req.url ?? '').startsWith(g.prefix)) {
      real(req, res)
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': String(++consul.index) })
    res.end(g.body)
  })
  ups = await Promise.all(['a', 'b'].map((n) => startUpstream(n)))
  consul.register({ id: 'svc-a', service: 'svc', port: portOfUpstream(ups, 0), tags: ['urlprefix-/'] })
  t = await startConsulLb(consul.address, { consul: (c) => (c.wait = 1_000) })
  await t.applied((s) => hasServers(s, '/', 1))
})

after(async () => {
  await t.close()
  await Promise.all(ups.map((u) => u.close()))
  await consul.close()
  process.off('unhandledRejection', onUnhandled)
  process.off('uncaughtException', onUnhandled)
})

const health = '/v1/health/service/svc'
const catalog = '/v1/catalog/services'
const kv = '/v1/kv/fabio/config'
const watchOf = new Map([
  [health, 'service:svc'],
  [catalog, 'catalog'],
  [kv, 'kv'],
])

function changes(watch: string): number {
  return t.provider.watches().find((w) => w.name === watch)?.changes ?? 0
}

const cases: { desc: string; prefix: string; body: string }[] = [
  { desc: 'health: not JSON', prefix: health, body: '<html>502 Bad Gateway</html>' },
  { desc: 'health: truncated JSON', prefix: health, body: '[{"Node":{"Node":"n1"' },
  { desc: 'health: an object, not a list', prefix: health, body: '{"Service":{}}' },
  { desc: 'health: null', prefix: health, body: 'null' },
  { desc: 'health: [null]', prefix: health, body: '[null]' },
  { desc: 'health: entries without fields', prefix: health, body: '[{}, 1, "x"]' },
  {
    desc: 'health: wrong field types',
    prefix: health,
    body: JSON.stringify([
      { Node: 'n', Service: { ID: 5, Service: [], Tags: 'urlprefix-/', Port: 'x', Address: {} }, Checks: {} },
    ]),
  },
  { desc: 'catalog: not JSON', prefix: catalog, body: 'rpc error' },
  { desc: 'catalog: null', prefix: catalog, body: 'null' },
  { desc: 'catalog: a list', prefix: catalog, body: '["svc"]' },
  { desc: 'catalog: a number', prefix: catalog, body: '42' },
  { desc: 'kv: not JSON', prefix: kv, body: '}{' },
  { desc: 'kv: [null, 1]', prefix: kv, body: '[null, 1]' },
  {
    desc: 'kv: wrong field types',
    prefix: kv,
    body: '[{"Key": 1, "Value": []}, {"Key": "fabio/config/x", "Value": 7}]',
  },
]

for (const c of cases) {
  test(`Consul garbage (${c.desc}) → last good routes keep serving, nothing thrown`, async () => {
    const watch = watchOf.get(c.prefix) ?? ''
    const before = changes(watch)
    const applied = t.snapshots.length
    garbage = { prefix: c.prefix, body: c.body }
    // Wake the blocked queries so the next answers are garbage.
    for (const key of ['health:svc', 'catalog', 'kv']) consul.touch(key)
    await waitFor(() => changes(watch) > before)
    garbage = null
    // The provider has the garbage: let a build, the watcher and an apply run if they were (wrongly) triggered.
    for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r))
    assert.deepEqual(unhandled, [])
    const last = t.snapshots.at(-1)
    assert.ok(
      last !== undefined && hasServers(last, '/', 1),
      `routes changed by garbage: ${t.snapshots.length - applied} applies`,
    )
    assert.equal((await get(t.lb.url, '/')).body, 'a')
  })
}

test('Consul answers properly again → converges on the changes made meanwhile', async () => {
  consul.register({ id: 'svc-b', service: 'svc', port: portOfUpstream(ups, 1), tags: ['urlprefix-/'] })
  await t.applied((s) => hasServers(s, '/', 2))
  const seen = new Set<string>()
  for (let i = 0; i < 6; i++) seen.add((await get(t.lb.url, '/')).body)
  assert.deepEqual([...seen].sort(), ['a', 'b'])
  assert.deepEqual(unhandled, [])
})
