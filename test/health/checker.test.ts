/**
 * The scheduler with real probes against a real server and node:test mock timers: DOWN after exactly `fall`
 * failed checks at the right intervals, UP after `rise`, fastinter/downinter timing, start offsets.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { HealthChecker } from '../../src/health/checker.js'
import { checkProxy, type HealthTarget } from '../../src/health/server-health.js'
import { probe } from '../../src/health/run-probe.js'
import { checkDefaults } from '../../src/config/defaults.js'
import type { HealthCheckSpec } from '../../src/model/snapshot.js'

interface Listening {
  server: Server
  sockets: Set<Socket>
}

async function listenOn(port: number): Promise<Listening & { port: number }> {
  const server = createServer()
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port }, resolve))
  const a = server.address()
  return { server, sockets, port: typeof a === 'object' && a !== null ? a.port : 0 }
}

async function stop(l: Listening): Promise<void> {
  for (const s of l.sockets) s.destroy()
  await new Promise<void>((resolve) => l.server.close(() => resolve()))
}

function setup(spec: HealthCheckSpec, targets: HealthTarget[]) {
  const probes: { at: number; port: number; reason: string }[] = []
  const changes: { at: number; up: boolean; status: string; label: string }[] = []
  const checker = new HealthChecker({
    now: () => Date.now(),
    rand: () => 0.5,
    onChange: (h, up) => changes.push({ at: Date.now(), up, status: h.status(), label: h.target.label }),
    probe: async (s, t, now) => {
      const at = Date.now()
      const r = await probe(s, t, now)
      probes.push({ at, port: t.port, reason: r.reason })
      return r
    },
  })
  checker.sync(new Map(targets.map((t) => [t, { spec, observe: null, slowstart: 0 }])))
  /** Advance mock time by `ms`, then wait for the probes it started to finish (real I/O). */
  const advance = async (ms: number): Promise<void> => {
    mock.timers.tick(ms)
    await checker.settled()
  }
  return { checker, probes, changes, advance }
}

test('checker: a server that stops accepting is DOWN after exactly fall checks, UP again after rise', async () => {
  const first = await listenOn(0)
  const port = first.port
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
  const spec: HealthCheckSpec = {
    ...checkDefaults,
    inter: 1_000,
    fastinter: 200,
    downinter: 5_000,
    rise: 2,
    fall: 3,
    initState: 'fully-up',
  }
  const target: HealthTarget = { label: 'svc/a', host: '127.0.0.1', port, address: '127.0.0.1' }
  const { checker, probes, changes, advance } = setup(spec, [target])
  let again: Listening | null = null
  try {
    await advance(0) // first check at offset 0
    await advance(1_000)
    assert.deepEqual(
      probes.map((p) => `${p.at} ${p.reason}`),
      ['0 L4OK', '1000 L4OK'],
    )
    await stop(first)
    // inter while fully up; then fastinter while going down; DOWN on the 3rd failure.
    await advance(1_000)
    assert.equal(checker.get(target)?.status(), 'UP 2/3')
    await advance(200)
    assert.deepEqual(changes, [])
    await advance(200)
    assert.deepEqual(changes, [{ at: 2_400, up: false, status: 'DOWN 0/2', label: 'svc/a' }])
    assert.deepEqual(
      probes.slice(2).map((p) => `${p.at} ${p.reason}`),
      ['2000 L4CON', '2200 L4CON', '2400 L4CON'],
    )
    // Fully down: downinter.
    await advance(4_999)
    assert.equal(probes.length, 5)
    await advance(1)
    assert.equal(probes.length, 6)
    assert.equal(probes[5]?.at, 7_400)
    again = await listenOn(port)
    await advance(5_000) // 12400: pass 1/2, then fastinter
    assert.equal(checker.get(target)?.status(), 'DOWN 1/2')
    await advance(200) // 12600: pass 2/2 → UP (jumps to fully up)
    assert.deepEqual(changes.at(-1), { at: 12_600, up: true, status: 'UP 3/3', label: 'svc/a' })
    await advance(1_000)
    assert.equal(probes.at(-1)?.at, 13_600)
    const h = checker.get(target)
    assert.equal(h?.last?.reason, 'L4OK')
    assert.equal(h?.failedChecks, 4)
    assert.equal(h?.downTransitions, 1)
  } finally {
    checker.stop()
    mock.timers.reset()
    if (again !== null) await stop(again)
  }
})

test('checker: default init (health = rise) checks at fastinter and the first failure marks down', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
  const spec: HealthCheckSpec = { ...checkDefaults, inter: 10_000, fastinter: 500, rise: 2, fall: 2 }
  const target: HealthTarget = { label: 'svc/dead', host: '127.0.0.1', port: 1, address: '127.0.0.1' }
  const { checker, probes, changes, advance } = setup(spec, [target])
  try {
    assert.equal(checker.get(target)?.up, true)
    await advance(0)
    assert.deepEqual(
      changes.map((c) => `${c.at} ${c.up}`),
      ['0 false'],
    )
    await advance(10_000) // fully down, no downinter → inter
    assert.deepEqual(
      probes.map((p) => p.at),
      [0, 10_000],
    )
  } finally {
    checker.stop()
    mock.timers.reset()
  }
})

test('checker: servers added together start at evenly spread offsets', async () => {
  const l = await listenOn(0)
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
  const spec: HealthCheckSpec = { ...checkDefaults, inter: 1_000, fastinter: 0, initState: 'fully-up' }
  const targets = [0, 1, 2, 3].map((i) => ({
    label: `s${i}`,
    host: '127.0.0.1',
    port: l.port,
    address: '127.0.0.1',
  }))
  const { checker, probes, advance } = setup(spec, targets)
  try {
    for (let t = 0; t < 1_000; t += 250) await advance(t === 0 ? 0 : 250)
    assert.deepEqual(
      probes.map((p) => p.at),
      [0, 250, 500, 750],
    )
  } finally {
    checker.stop()
    mock.timers.reset()
    await stop(l)
  }
})

test('checkProxy: which PROXY header checks send (haproxy send-proxy / check-send-proxy)', () => {
  const cases = [
    { desc: 'service v2, no override', check: {}, service: 'v2', want: 'v2' },
    { desc: 'service v1, no override', check: {}, service: 'v1', want: 'v1' },
    { desc: 'service none', check: {}, service: 'none', want: 'none' },
    { desc: 'check port set: not inherited', check: { port: 9000 }, service: 'v2', want: 'none' },
    { desc: 'check address set: not inherited', check: { address: '10.0.0.9' }, service: 'v1', want: 'none' },
    {
      desc: 'check port + send_proxy true',
      check: { port: 9000, sendProxy: true },
      service: 'v2',
      want: 'v2',
    },
    { desc: 'send_proxy true alone sends v1', check: { sendProxy: true }, service: 'none', want: 'v1' },
    { desc: 'send_proxy false wins', check: { sendProxy: false }, service: 'v2', want: 'none' },
  ] as const
  for (const c of cases) {
    assert.equal(checkProxy({ ...checkDefaults, ...c.check }, c.service), c.want, c.desc)
  }
})
