/**
 * The blocking-query loop (client.ts `Watch`) against a scripted fetch, with mock timers: Consul's documented
 * rules (index reset, index ≥ 1, payload comparison, rate limit, backoff with jitter) and its state.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { backoffDelay, TokenBucket, Watch, type ConsulReply } from '../../../src/provider/consul/client.js'

/** Let pending promise callbacks run (setImmediate is not mocked here). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
}

/** A fetch that answers from `script` and then hangs until aborted; records the index of every request. */
function scripted(script: (ConsulReply | Error)[]): {
  fetch: (i: number, s: AbortSignal) => Promise<ConsulReply>
  indexes: number[]
} {
  const indexes: number[] = []
  let n = 0
  return {
    indexes,
    fetch: (index, signal) => {
      indexes.push(index)
      const next = script[n++]
      if (next instanceof Error) return Promise.reject(next)
      if (next !== undefined) return Promise.resolve(next)
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
      )
    },
  }
}

const reply = (index: number, text: string, status = 200): ConsulReply => ({ status, index, text })
const fast = { rateLimit: { interval: 0, burst: 1 }, backoff: { min: 100, max: 1_000 } }

test('index rules: plain first read, blocking on the last index, reset when it goes backwards, never < 1', async () => {
  const s = scripted([reply(10, 'a'), reply(12, 'a'), reply(5, 'b'), reply(0, 'b'), reply(0, 'c')])
  const data: string[] = []
  const w = new Watch({ name: 'w', fetch: s.fetch, onData: (r) => data.push(r.text), ...fast })
  const ac = new AbortController()
  const done = w.run(ac.signal)
  await settle()
  // 0 = plain read; 10, 12 = blocking; 5 < 12 → reset → 0 (plain read); 0 from server → 1; 1 again.
  assert.deepEqual(s.indexes, [0, 10, 12, 0, 1, 1])
  // Same payload at index 12 is not a change.
  assert.deepEqual(data, ['a', 'b', 'c'])
  assert.equal(w.state.resets, 1)
  assert.equal(w.state.changes, 3)
  ac.abort()
  await done
})

test('a response without X-Consul-Index is an error, not a busy loop', async () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const s = scripted([reply(NaN, 'x'), reply(3, 'y')])
    const w = new Watch({ name: 'w', fetch: s.fetch, onData: () => {}, ...fast, rand: () => 1 })
    const ac = new AbortController()
    const done = w.run(ac.signal)
    await settle()
    assert.deepEqual(s.indexes, [0])
    assert.equal(w.state.errors, 1)
    assert.match(w.state.lastError, /X-Consul-Index/)
    mock.timers.tick(100)
    await settle()
    // The retry succeeds (index 3), and the next request blocks on it.
    assert.deepEqual(s.indexes, [0, 0, 3])
    assert.equal(w.state.errors, 0)
    ac.abort()
    await done
  } finally {
    mock.timers.reset()
  }
})

test('errors back off exponentially with jitter, up to max; the index is kept', async () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const boom = new Error('ECONNREFUSED')
    const s = scripted([reply(7, 'a'), boom, boom, boom, boom, boom, reply(8, 'b')])
    const w = new Watch({ name: 'w', fetch: s.fetch, onData: () => {}, ...fast, rand: () => 0.5 })
    const ac = new AbortController()
    const done = w.run(ac.signal)
    await settle()
    // rand 0.5 → 3/4 of d, d = 100, 200, 400, 800, 1000 (capped).
    for (const delay of [75, 150, 300, 600, 750]) {
      const before = s.indexes.length
      mock.timers.tick(delay - 1)
      await settle()
      assert.equal(s.indexes.length, before, `not before ${delay} ms`)
      mock.timers.tick(1)
      await settle()
      assert.ok(s.indexes.length > before, `after ${delay} ms`)
    }
    // The last retry succeeds and the watch blocks on index 8.
    assert.deepEqual(s.indexes, [0, 7, 7, 7, 7, 7, 7, 8])
    assert.equal(w.state.totalErrors, 5)
    assert.equal(w.state.errors, 0)
    assert.equal(w.state.lastIndex, 8)
    ac.abort()
    await done
  } finally {
    mock.timers.reset()
  }
})

test('backoffDelay stays within [d/2, d] and caps at max', () => {
  assert.equal(
    backoffDelay(1, 100, 1_000, () => 0),
    50,
  )
  assert.equal(
    backoffDelay(1, 100, 1_000, () => 1),
    100,
  )
  assert.equal(
    backoffDelay(40, 100, 1_000, () => 1),
    1_000,
  )
})

test('rate limit: a burst goes at once, then one request per interval', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 })
  try {
    // The index keeps rising with the same payload: Consul churn elsewhere (hashicorp/consul#3890).
    const script = Array.from({ length: 10 }, (_, i) => reply(i + 1, 'same'))
    const s = scripted(script)
    const w = new Watch({
      name: 'w',
      fetch: s.fetch,
      onData: () => {},
      rateLimit: { interval: 1_000, burst: 2 },
      backoff: fast.backoff,
    })
    const ac = new AbortController()
    const done = w.run(ac.signal)
    await settle()
    // The first answer is new data (its token comes back); the next two drain the bucket.
    assert.equal(s.indexes.length, 3)
    mock.timers.tick(999)
    await settle()
    assert.equal(s.indexes.length, 3)
    mock.timers.tick(1)
    await settle()
    assert.equal(s.indexes.length, 4)
    mock.timers.tick(1_000)
    await settle()
    assert.equal(s.indexes.length, 5)
    ac.abort()
    await done
  } finally {
    mock.timers.reset()
  }
})

test('rate limit: answers that changed give their token back, so changes are followed at once', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 })
  try {
    const script = Array.from({ length: 10 }, (_, i) => reply(i + 1, `payload ${i}`))
    const s = scripted(script)
    let seen = 0
    const w = new Watch({
      name: 'w',
      fetch: s.fetch,
      onData: () => seen++,
      rateLimit: { interval: 1_000, burst: 2 },
      backoff: fast.backoff,
    })
    const ac = new AbortController()
    const done = w.run(ac.signal)
    await settle()
    for (let i = 0; i < 5 && seen < 10; i++) await settle()
    // No timer moved: every changed answer was followed by the next request at once.
    assert.equal(seen, 10)
    assert.equal(s.indexes.length, 11)
    ac.abort()
    await done
  } finally {
    mock.timers.reset()
  }
})

test('TokenBucket refills up to burst', () => {
  let now = 0
  const b = new TokenBucket(100, 3, () => now)
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [0, 0, 0, 100])
  now = 1_000
  assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [0, 0, 0, 100])
})

test('abort stops the loop while it sleeps, leaving no timer', async () => {
  const s = scripted([new Error('down')])
  const w = new Watch({
    name: 'w',
    fetch: s.fetch,
    onData: () => {},
    rateLimit: fast.rateLimit,
    backoff: { min: 60_000, max: 60_000 },
  })
  const ac = new AbortController()
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const done = w.run(ac.signal)
  await settle()
  ac.abort()
  await done
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before)
})
