import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Resolver,
  createDnsLookup,
  type LookupAnswer,
  type LookupFn,
  type ResolveResult,
  type ResolverOptions,
} from '../../src/net/resolver.js'

const base = { maxTtl: 30_000, minTtl: 1_000, retry: 5_000, cacheSize: 16 } as const

function dnsError(code: string, hostname: string): Error {
  return Object.assign(new Error(`queryA ${code} ${hostname}`), { code })
}

/** A scripted DNS: answers per name (an Error is thrown), and every call recorded. */
class FakeDns {
  readonly calls: string[] = []
  readonly answers = new Map<string, readonly LookupAnswer[] | Error>()
  readonly lookup: LookupFn = (hostname) => {
    this.calls.push(hostname)
    const a = this.answers.get(hostname)
    if (a === undefined) return Promise.reject(dnsError('ENOTFOUND', hostname))
    if (a instanceof Error) return Promise.reject(a)
    return Promise.resolve(a)
  }
  set(hostname: string, addresses: readonly string[], ttl = 10): void {
    this.answers.set(
      hostname,
      addresses.map((address) => ({ address, ttl })),
    )
  }
}

/** Lets every pending promise chain run (setImmediate is not faked). */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function newResolver(dns: FakeDns, extra: Partial<ResolverOptions> = {}): Resolver {
  return new Resolver({ ...base, lookup: dns.lookup, ...extra })
}

function ok(addresses: string[], expiresAt: number): ResolveResult {
  return { ok: true, addresses, expiresAt }
}

test('IP literals resolve without a lookup', async (t) => {
  const cases = [
    { desc: 'IPv4', host: '10.0.0.1' },
    { desc: 'IPv6', host: '2001:db8::1' },
    { desc: 'IPv6 loopback', host: '::1' },
  ]
  for (const c of cases) {
    await t.test(c.desc, async () => {
      const dns = new FakeDns()
      const r = newResolver(dns)
      assert.deepEqual(await r.resolve(c.host), ok([c.host], Infinity))
      assert.equal(r.peek(c.host), c.host)
      assert.deepEqual(dns.calls, [])
    })
  }
})

test('TTL from the answer, clamped to [minTtl, maxTtl]', async (t) => {
  const cases = [
    { desc: 'in range', ttls: [10], want: 10_000 },
    { desc: 'zero → minTtl', ttls: [0], want: 1_000 },
    { desc: 'sub-second → minTtl', ttls: [0.2], want: 1_000 },
    { desc: 'long → maxTtl', ttls: [3600], want: 30_000 },
    { desc: 'unknown (lookup fallback) → maxTtl', ttls: [Infinity], want: 30_000 },
    { desc: 'smallest of several records', ttls: [20, 5, 60], want: 5_000 },
    { desc: 'NaN → maxTtl', ttls: [NaN], want: 30_000 },
  ]
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 })
      const dns = new FakeDns()
      dns.answers.set(
        'svc.example',
        c.ttls.map((ttl, i) => ({ address: `10.0.0.${i + 1}`, ttl })),
      )
      const r = newResolver(dns)
      const got = await r.resolve('svc.example')
      assert.ok(got.ok)
      assert.equal(got.expiresAt - 1_000_000, c.want)
    })
  }
})

test('answers are cached while fresh and looked up again after expiry', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const dns = new FakeDns()
  dns.set('svc.example', ['10.0.0.1'], 10)
  const r = newResolver(dns)
  const first = await r.resolve('svc.example')
  t.mock.timers.tick(9_999)
  assert.equal(await r.resolve('svc.example'), first, 'same object from the cache')
  assert.equal(dns.calls.length, 1)
  t.mock.timers.tick(1)
  dns.set('svc.example', ['10.0.0.2'], 10)
  assert.deepEqual(await r.resolve('svc.example'), ok(['10.0.0.2'], 20_000))
  assert.equal(dns.calls.length, 2)
})

test('duplicate and non-IP answers are dropped', async () => {
  const dns = new FakeDns()
  dns.set('svc.example', ['10.0.0.1', 'not-an-ip', '10.0.0.1', '::1'])
  const got = await newResolver(dns).resolve('svc.example')
  assert.ok(got.ok)
  assert.deepEqual(got.addresses, ['10.0.0.1', '::1'])
})

test('concurrent resolves share one lookup', async () => {
  const calls: string[] = []
  let release: (a: LookupAnswer[]) => void = () => {}
  const lookup: LookupFn = (hostname) => {
    calls.push(hostname)
    return new Promise((resolve) => {
      release = resolve
    })
  }
  const r = new Resolver({ ...base, lookup })
  const pending = [r.resolve('svc.example'), r.resolve('svc.example'), r.resolve('svc.example')]
  await flush()
  assert.deepEqual(calls, ['svc.example'])
  release([{ address: '10.0.0.1', ttl: 10 }])
  const [a, b, c] = await Promise.all(pending)
  assert.ok(a?.ok)
  assert.equal(a, b)
  assert.equal(b, c)
  // Cached now: no second lookup, and a new in-flight is possible later.
  await r.resolve('svc.example')
  assert.equal(calls.length, 1)
})

test('a lookup that throws synchronously does not wedge the name', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  let n = 0
  const lookup: LookupFn = () => {
    n++
    if (n === 1) throw dnsError('EBADNAME', 'bad')
    return Promise.resolve([{ address: '10.0.0.1', ttl: 10 }])
  }
  const r = new Resolver({ ...base, lookup })
  assert.deepEqual(await r.resolve('svc.example'), { ok: false, reason: 'EBADNAME svc.example' })
  await flush()
  t.mock.timers.tick(base.retry)
  assert.deepEqual(await r.resolve('svc.example'), ok(['10.0.0.1'], 15_000))
})

test('failures become reasons and are cached for retry', async (t) => {
  const cases = [
    { desc: 'ENOTFOUND', answer: dnsError('ENOTFOUND', 'x'), want: 'ENOTFOUND kube.controller01' },
    { desc: 'ETIMEOUT', answer: dnsError('ETIMEOUT', 'x'), want: 'ETIMEOUT kube.controller01' },
    { desc: 'error without code', answer: new Error('boom'), want: 'boom' },
    { desc: 'no addresses', answer: [] as LookupAnswer[], want: 'ENODATA kube.controller01' },
  ]
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
      const dns = new FakeDns()
      dns.answers.set('kube.controller01', c.answer)
      const r = newResolver(dns)
      assert.deepEqual(await r.resolve('kube.controller01'), { ok: false, reason: c.want })
      t.mock.timers.tick(base.retry - 1)
      await r.resolve('kube.controller01')
      assert.equal(dns.calls.length, 1, 'negative-cached')
      t.mock.timers.tick(1)
      await r.resolve('kube.controller01')
      assert.equal(dns.calls.length, 2)
      assert.equal(r.peek('kube.controller01'), undefined)
    })
  }
})

test('peek: sticky address, hold valid after failure, undefined after the hold', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const dns = new FakeDns()
  const r = newResolver(dns)
  assert.equal(r.peek('svc.example'), undefined, 'never resolved')
  dns.set('svc.example', ['10.0.0.1', '10.0.0.2'], 10)
  await r.resolve('svc.example')
  assert.equal(r.peek('svc.example'), '10.0.0.1')

  t.mock.timers.tick(10_000)
  dns.set('svc.example', ['10.0.0.3', '10.0.0.1'], 10)
  await r.resolve('svc.example')
  assert.equal(r.peek('svc.example'), '10.0.0.1', 'kept while still in the answer')

  t.mock.timers.tick(10_000)
  dns.set('svc.example', ['10.0.0.3'], 10)
  await r.resolve('svc.example')
  assert.equal(r.peek('svc.example'), '10.0.0.3', 'moved when gone')

  // Expires at 40s; hold valid runs maxTtl (30s) past that, through a failure.
  t.mock.timers.tick(10_000)
  dns.answers.delete('svc.example')
  assert.equal((await r.resolve('svc.example')).ok, false)
  assert.equal(r.peek('svc.example'), '10.0.0.3', 'last good address held')
  t.mock.timers.tick(29_999)
  assert.equal(r.peek('svc.example'), '10.0.0.3')
  t.mock.timers.tick(1)
  assert.equal(r.peek('svc.example'), undefined, 'hold over')
})

test('watch refreshes before expiry and retries after failure', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const dns = new FakeDns()
  dns.set('svc.example', ['10.0.0.1'], 10)
  const r = newResolver(dns)
  const seen: ResolveResult[] = []
  r.watch('svc.example', (res) => seen.push(res))
  await flush()
  assert.deepEqual(seen, [ok(['10.0.0.1'], 10_000)])
  assert.equal(dns.calls.length, 1)

  // TTL 10 s: refresh 1 s early (10% capped at 1 s).
  t.mock.timers.tick(8_999)
  await flush()
  assert.equal(dns.calls.length, 1)
  t.mock.timers.tick(1)
  await flush()
  assert.equal(dns.calls.length, 2)
  assert.equal(r.peek('svc.example'), '10.0.0.1', 'fresh without a gap')

  // Failure: retried every `retry` ms.
  dns.answers.delete('svc.example')
  t.mock.timers.tick(9_000)
  await flush()
  assert.equal(dns.calls.length, 3)
  assert.deepEqual(seen.at(-1), { ok: false, reason: 'ENOTFOUND svc.example' })
  t.mock.timers.tick(base.retry - 1)
  await flush()
  assert.equal(dns.calls.length, 3)
  t.mock.timers.tick(1)
  await flush()
  assert.equal(dns.calls.length, 4)

  // Minimum TTL (1 s) refreshes after 900 ms.
  dns.set('svc.example', ['10.0.0.1'], 0)
  t.mock.timers.tick(base.retry)
  await flush()
  assert.equal(dns.calls.length, 5)
  t.mock.timers.tick(899)
  await flush()
  assert.equal(dns.calls.length, 5)
  t.mock.timers.tick(1)
  await flush()
  assert.equal(dns.calls.length, 6)
  r.close()
})

test('watch reports only changes of the address set or of ok/failure', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const steps: { desc: string; answer: string[] | Error; reported: boolean }[] = [
    { desc: 'first result', answer: ['10.0.0.1'], reported: true },
    { desc: 'same', answer: ['10.0.0.1'], reported: false },
    { desc: 'address added', answer: ['10.0.0.1', '10.0.0.2'], reported: true },
    { desc: 'same set reordered', answer: ['10.0.0.2', '10.0.0.1'], reported: false },
    { desc: 'fails', answer: dnsError('ENOTFOUND', 'x'), reported: true },
    { desc: 'fails differently', answer: dnsError('ETIMEOUT', 'x'), reported: false },
    { desc: 'recovers with the old set', answer: ['10.0.0.1', '10.0.0.2'], reported: true },
    { desc: 'address replaced', answer: ['10.0.0.1', '10.0.0.3'], reported: true },
  ]
  const dns = new FakeDns()
  const r = newResolver(dns)
  const seen: ResolveResult[] = []
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]
    assert.ok(step)
    if (step.answer instanceof Error) dns.answers.set('svc.example', step.answer)
    else dns.set('svc.example', step.answer, 10)
    const before = seen.length
    if (i === 0) r.watch('svc.example', (res) => seen.push(res))
    else t.mock.timers.tick(10_000) // past any refresh or retry time
    await flush()
    assert.equal(dns.calls.length, i + 1, step.desc)
    assert.equal(seen.length - before, step.reported ? 1 : 0, step.desc)
  }
  assert.deepEqual(
    seen.map((s) => (s.ok ? s.addresses.join(',') : s.reason)),
    ['10.0.0.1', '10.0.0.1,10.0.0.2', 'ENOTFOUND svc.example', '10.0.0.1,10.0.0.2', '10.0.0.1,10.0.0.3'],
  )
  r.close()
})

test('watch: second listener gets the current result; unwatch stops refreshing', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const dns = new FakeDns()
  dns.set('svc.example', ['10.0.0.1'], 10)
  const r = newResolver(dns)
  const a: ResolveResult[] = []
  const b: ResolveResult[] = []
  const onA = (res: ResolveResult): void => void a.push(res)
  const onB = (res: ResolveResult): void => void b.push(res)
  r.watch('svc.example', onA)
  await flush()
  r.watch('svc.example', onB)
  await flush()
  assert.equal(a.length, 1)
  assert.deepEqual(b, a)
  assert.equal(dns.calls.length, 1, 'one lookup for both')

  r.unwatch('svc.example', onA)
  dns.set('svc.example', ['10.0.0.2'], 10)
  t.mock.timers.tick(9_000)
  await flush()
  assert.equal(a.length, 1)
  assert.equal(b.length, 2)

  r.unwatch('svc.example', onB)
  assert.equal(r.watching, 0)
  t.mock.timers.tick(120_000)
  await flush()
  assert.equal(dns.calls.length, 2, 'no refresh after the last unwatch')
  assert.equal(r.peek('svc.example'), undefined, 'past the hold')
})

test('watch an IP literal: reported once, no timer', async () => {
  const live = new Set<number>()
  let next = 0
  const dns = new FakeDns()
  const r = newResolver(dns, {
    setTimer: () => {
      live.add(++next)
      return next
    },
    clearTimer: (h) => void live.delete(h as number),
  })
  const seen: ResolveResult[] = []
  r.watch('10.0.0.1', (res) => seen.push(res))
  await flush()
  assert.deepEqual(seen, [ok(['10.0.0.1'], Infinity)])
  assert.equal(live.size, 0)
  assert.deepEqual(dns.calls, [])
})

test('watch starts from a fresh cached answer without a second lookup', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const dns = new FakeDns()
  dns.set('svc.example', ['10.0.0.1'], 10)
  const r = newResolver(dns)
  await r.resolve('svc.example')
  t.mock.timers.tick(4_000)
  const seen: ResolveResult[] = []
  r.watch('svc.example', (res) => seen.push(res))
  await flush()
  assert.equal(seen.length, 1)
  assert.equal(dns.calls.length, 1)
  t.mock.timers.tick(4_999)
  await flush()
  assert.equal(dns.calls.length, 1)
  t.mock.timers.tick(1)
  await flush()
  assert.equal(dns.calls.length, 2, 'refresh at 9 s, as scheduled from the cached answer')
  r.close()
})

test('close clears every timer and silences in-flight lookups', async () => {
  const live = new Map<number, () => void>()
  let next = 0
  let release: (a: LookupAnswer[]) => void = () => {}
  const dns = new FakeDns()
  for (const h of ['a.example', 'b.example', 'c.example']) dns.set(h, ['10.0.0.1'], 10)
  const lookup: LookupFn = (hostname) => {
    if (hostname !== 'slow.example') return dns.lookup(hostname)
    return new Promise((resolve) => {
      release = resolve
    })
  }
  const r = new Resolver({
    ...base,
    lookup,
    setTimer: (fn) => {
      live.set(++next, fn)
      return next
    },
    clearTimer: (h) => void live.delete(h as number),
  })
  const seen: string[] = []
  dns.answers.set('c.example', dnsError('ENOTFOUND', 'c.example'))
  for (const h of ['a.example', 'b.example', 'c.example', 'slow.example']) r.watch(h, () => seen.push(h))
  await flush()
  assert.equal(live.size, 3, 'one timer per settled watched name')
  r.close()
  assert.equal(live.size, 0)
  assert.equal(r.watching, 0)
  release([{ address: '10.0.0.9', ttl: 10 }])
  await flush()
  assert.equal(live.size, 0, 'the in-flight lookup schedules nothing')
  assert.ok(!seen.includes('slow.example'), 'and reports nothing')
  r.watch('a.example', () => seen.push('late'))
  await flush()
  assert.equal(live.size, 0, 'watch after close is a no-op')
})

test('constructor rejects unusable options', async (t) => {
  const cases = [
    { desc: 'minTtl 0', opts: { minTtl: 0 } },
    { desc: 'maxTtl < minTtl', opts: { maxTtl: 500 } },
    { desc: 'retry 0', opts: { retry: 0 } },
    { desc: 'cacheSize 0', opts: { cacheSize: 0 } },
  ]
  for (const c of cases) {
    await t.test(c.desc, () => {
      assert.throws(() => new Resolver({ ...base, lookup: new FakeDns().lookup, ...c.opts }), RangeError)
    })
  }
})

test('the LRU cache is bounded', async () => {
  const dns = new FakeDns()
  for (const h of ['a.example', 'b.example', 'c.example']) dns.set(h, ['10.0.0.1'], 10)
  const r = newResolver(dns, { cacheSize: 2 })
  await r.resolve('a.example')
  await r.resolve('b.example')
  await r.resolve('c.example')
  assert.equal(r.peek('a.example'), undefined, 'evicted')
  assert.equal(r.peek('c.example'), '10.0.0.1')
})

test('createDnsLookup (real DNS/getaddrinfo)', async (t) => {
  const lookup = createDnsLookup({ timeout: 1_000, tries: 1 })
  await t.test('localhost falls back to getaddrinfo (/etc/hosts)', async () => {
    const answers = await lookup('localhost')
    assert.ok(answers.length > 0)
    assert.ok(
      answers.some((a) => a.address === '127.0.0.1' || a.address === '::1'),
      JSON.stringify(answers),
    )
  })
  await t.test('an unknown name fails with ENOTFOUND', async () => {
    const r = new Resolver({ ...base, lookup })
    assert.deepEqual(await r.resolve('nonexistent.invalid'), {
      ok: false,
      reason: 'ENOTFOUND nonexistent.invalid',
    })
  })
})
