/** Each balance algorithm through real sockets: the share each server gets follows its weight. */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import type { BalanceName } from '../../src/model/snapshot.js'

let ups: TestUpstream[] = []
let lb: TestLb
const WEIGHTS = [1, 2, 5]
const algorithms: BalanceName[] = ['roundrobin', 'static-rr', 'leastconn', 'random', 'first']

/** Deterministic PRNG so `random` is repeatable. */
function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

before(async () => {
  ups = await Promise.all(['a', 'b', 'c'].map((n) => startUpstream(n)))
  lb = await startLb((c) => {
    c.services = algorithms.map((balance) => {
      const s = service(
        balance,
        ups.map((u) => u.port),
        { balance },
      )
      s.servers = s.servers.map((srv, i) => ({ ...srv, weight: WEIGHTS[i] ?? 1 }))
      return s
    })
    c.routes = algorithms.map((balance) => route(`${balance}.test`, '/', balance))
  }, mulberry32(42))
})

after(async () => {
  await lb.close()
  await Promise.all(ups.map((u) => u.close()))
})

async function shares(host: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const r = await get(lb.url, '/', { host })
    assert.equal(r.status, 200)
    counts.set(r.body, (counts.get(r.body) ?? 0) + 1)
  }
  return counts
}

test('roundrobin follows weights exactly over one cycle multiple', async () => {
  const c = await shares('roundrobin.test', 80)
  assert.deepEqual([c.get('a'), c.get('b'), c.get('c')], [10, 20, 50])
})

test('static-rr follows weights exactly over one cycle multiple', async () => {
  const c = await shares('static-rr.test', 80)
  assert.deepEqual([c.get('a'), c.get('b'), c.get('c')], [10, 20, 50])
})

test('leastconn with sequential requests spreads load over all servers', async () => {
  const c = await shares('leastconn.test', 90)
  // Every server is idle between sequential requests, so ties rotate.
  for (const name of ['a', 'b', 'c']) assert.ok((c.get(name) ?? 0) >= 20, `${name}: ${c.get(name)}`)
})

test('random (power of two choices) roughly follows weights', async () => {
  const c = await shares('random.test', 400)
  const total = 400
  const expect = [1 / 8, 2 / 8, 5 / 8]
  ;['a', 'b', 'c'].forEach((name, i) => {
    const got = (c.get(name) ?? 0) / total
    assert.ok(Math.abs(got - (expect[i] ?? 0)) < 0.1, `${name}: ${got}`)
  })
})

test('first sends everything to the first available server', async () => {
  const c = await shares('first.test', 20)
  assert.equal(c.get('a'), 20)
})
