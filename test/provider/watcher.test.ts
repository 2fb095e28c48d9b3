/** The provider watcher: drops unchanged snapshots, throttles latest-wins (mock timers), merges providers. */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { Watcher } from '../../src/provider/watcher.js'
import { StaticProvider } from '../../src/provider/provider.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { defaultConfig } from '../../src/config/defaults.js'

function snap(...paths: string[]): Snapshot {
  const d = defaultConfig.defaults
  return {
    services: [
      {
        name: 's',
        balance: d.balance,
        retries: 0,
        timeouts: { ...d.timeouts },
        maxConnections: 1,
        proto: 'http',
        tlsSkipVerify: false,
        servers: [],
      },
    ],
    routes: paths.map((path) => ({
      host: '',
      path,
      service: 's',
      strip: '',
      prepend: '',
      hostHeader: '',
      redirect: null,
      source: 't',
    })),
    tcpRoutes: [],
  }
}
const paths = (s: Snapshot): string[] => s.routes.map((r) => `${r.path}→${r.service}`)
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
}

test('leading edge at once, then at most one per window, latest wins; unchanged dropped', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 })
  try {
    const p = new StaticProvider('file', snap('/a'))
    const got: string[][] = []
    const w = new Watcher({ providers: [p], window: 100, consumer: (s) => void got.push(paths(s)) })
    const ac = new AbortController()
    w.start(ac.signal)
    await settle()
    assert.deepEqual(got, [['/a→s']])
    p.set(snap('/a')) // unchanged: dropped
    p.set(snap('/b'))
    p.set(snap('/c'))
    await settle()
    assert.deepEqual(got.length, 1, 'within the window nothing more is published')
    mock.timers.tick(100)
    await settle()
    assert.deepEqual(got, [['/a→s'], ['/c→s']])
    assert.deepEqual(w.stats, { received: 4, dropped: 1, published: 2 })
    mock.timers.tick(500)
    p.set(snap('/d'))
    await settle()
    assert.deepEqual(got.at(-1), ['/d→s'], 'after a quiet window the next change goes at once')
    ac.abort()
  } finally {
    mock.timers.reset()
  }
})

test('merge: file names kept, other providers qualified svc@provider; a provider can be replaced and removed', async () => {
  const file = new StaticProvider('file', snap('/f'))
  const got: Snapshot[] = []
  const w = new Watcher({ providers: [file], window: 0, consumer: (s) => void got.push(s) })
  const ac = new AbortController()
  w.start(ac.signal)
  const c1 = new AbortController()
  w.add(new StaticProvider('consul', snap('/c')), c1.signal)
  await settle()
  assert.deepEqual(paths(got.at(-1) as Snapshot), ['/f→s', '/c→s@consul'])
  assert.deepEqual(
    got.at(-1)?.services.map((s) => s.name),
    ['s', 's@consul'],
  )
  c1.abort()
  w.remove('consul')
  await w.flush()
  assert.deepEqual(paths(got.at(-1) as Snapshot), ['/f→s'])
  ac.abort()
})

test('the consumer is never overlapped: changes during a slow apply are published once after it', async () => {
  const p = new StaticProvider('file', snap('/a'))
  const got: string[][] = []
  let release: () => void = () => {}
  const w = new Watcher({
    providers: [p],
    window: 0,
    consumer: async (s) => {
      got.push(paths(s))
      await new Promise<void>((r) => (release = r))
    },
  })
  const ac = new AbortController()
  w.start(ac.signal)
  p.set(snap('/b'))
  p.set(snap('/c'))
  await settle()
  assert.deepEqual(got, [['/a→s']])
  release()
  await settle()
  assert.deepEqual(got, [['/a→s'], ['/c→s']])
  release()
  ac.abort()
})
