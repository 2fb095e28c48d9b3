/**
 * The first `state/any` read goes out with the first catalog read (src/provider/consul/consul.ts `#firstState`):
 * in `state` mode the state watch starts from its answer instead of asking only once the catalog has answered;
 * when the catalog's answer means `service` mode (`auto`, few routed services), it is dropped and no state watch
 * follows.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConsulTestServer } from '../../helpers/consul-server.js'
import { firstConsulSnapshot } from '../../helpers/consul-lb.js'

async function catalog(): Promise<ConsulTestServer> {
  const consul = await ConsulTestServer.start()
  for (let s = 0; s < 3; s++)
    consul.register({
      id: `s${s}-0`,
      service: `s${s}`,
      address: `10.0.0.${s}`,
      port: 80,
      tags: [`urlprefix-/s${s}`],
    })
  // The catalog answers late: a state read made only after its answer would be handled after it.
  consul.delay('/v1/catalog/services', 200)
  return consul
}

const plainState = (url: string): boolean => url.startsWith('/v1/health/state/any') && !url.includes('index=')

test('state mode reads the state with the catalog, once', async () => {
  const consul = await catalog()
  try {
    const s = await firstConsulSnapshot(consul.address, (c) => (c.watch = 'state'))
    assert.deepEqual(
      s.services.map((x) => x.name),
      ['s0', 's1', 's2'],
    )
    const urls = consul.requests.map((r) => r.url)
    const state = urls.findIndex(plainState)
    const cat = urls.findIndex((u) => u.startsWith('/v1/catalog/services'))
    assert.ok(state >= 0 && state < cat, urls.join('\n'))
    assert.equal(urls.filter(plainState).length, 1, 'the watch started from that answer')
  } finally {
    await consul.close()
  }
})

test('auto mode with few routed services drops the first state read and watches each service', async () => {
  const consul = await catalog()
  try {
    const s = await firstConsulSnapshot(consul.address, (c) => (c.watch = 'auto'))
    assert.equal(s.services.length, 3)
    const urls = consul.requests.map((r) => r.url)
    assert.equal(urls.filter(plainState).length, 1)
    assert.ok(
      !urls.some((u) => u.startsWith('/v1/health/state/any') && u.includes('index=')),
      urls.join('\n'),
    )
    assert.ok(urls.some((u) => u.startsWith('/v1/health/service/s0')))
  } finally {
    await consul.close()
  }
})
