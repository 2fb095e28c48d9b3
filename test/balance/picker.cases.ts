/**
 * The conformance suite every picker runs (after hono's `common.case.test.ts`).
 * Each picker's test file calls `runPickerCases(name)`; a case a picker cannot meet is skipped by name,
 * with the reason, so the skip shows in the test report.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Pool, selectBackend } from '../../src/balance/pool.js'
import { Backend, isAvailable, type BackendInit } from '../../src/balance/backend.js'
import { pickers, type PickerName } from '../../src/balance/pickers.js'

/** mulberry32: a tiny seeded PRNG, so every run makes the same draws. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type ServerOptions = Partial<Omit<BackendInit, 'name'>> & { readonly inflight?: number }

/** A backend named `name` (host `<name>.test`, port 80, weight 1, unlimited), with overrides. */
export function server(name: string, options: ServerOptions = {}): Backend {
  const b = new Backend({
    service: options.service ?? 'svc',
    name,
    host: options.host ?? `${name}.test`,
    port: options.port ?? 80,
    weight: options.weight ?? 1,
    backup: options.backup ?? false,
    maxconn: options.maxconn ?? 0,
    up: options.up ?? true,
    admin: options.admin ?? 'ready',
  })
  b.inflight = options.inflight ?? 0
  return b
}

export function pool(name: PickerName, backends: readonly Backend[]): Pool {
  return new Pool('svc', name, backends)
}

/** Names of `n` picks through selectBackend, space-separated ('-' for undefined). */
export function picks(
  p: Pool,
  n: number,
  rand: () => number = mulberry32(1),
  avoid: Backend | null = null,
): string {
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(selectBackend(p, rand, avoid)?.name ?? '-')
  return out.join(' ')
}

/** Share of `n` picks per server name. `hold` keeps every picked request in flight (long-lived connections). */
function shares(p: Pool, n: number, hold: boolean): Map<string, number> {
  const rand = mulberry32(42)
  const counts = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const b = selectBackend(p, rand, null)
    assert.ok(b !== undefined)
    if (hold) b.inflight++
    counts.set(b.name, (counts.get(b.name) ?? 0) + 1)
  }
  for (const [k, v] of counts) counts.set(k, v / n)
  return counts
}

function assertShares(
  got: Map<string, number>,
  want: Readonly<Record<string, number>>,
  tolerance: number,
): void {
  for (const [name, share] of Object.entries(want)) {
    const g = got.get(name) ?? 0
    assert.ok(
      Math.abs(g - share) <= tolerance,
      `${name}: share ${g.toFixed(3)}, want ${share} ± ${tolerance}`,
    )
  }
  for (const name of got.keys()) assert.ok(Object.hasOwn(want, name), `${name} was picked but should not be`)
}

/** The available servers in `mixed()`. */
const AVAILABLE: readonly string[] = ['a', 'b', 'c']

/** A mix of available and unavailable servers: a, b, c available; the rest are out for one reason each. */
function mixed(): Backend[] {
  return [
    server('down', { up: false, weight: 9 }),
    server('a', { weight: 3 }),
    server('maint', { admin: 'maint', weight: 9 }),
    server('b', { weight: 1 }),
    server('drain', { admin: 'drain', weight: 9 }),
    server('zero', { weight: 0 }),
    server('c', { weight: 2, maxconn: 100 }),
    server('full', { weight: 9, maxconn: 2, inflight: 2 }),
  ]
}

interface PickerCase {
  readonly desc: string
  readonly run: (name: PickerName) => void
}

const cases = [
  {
    desc: 'empty pool: undefined',
    run(name) {
      assert.equal(selectBackend(pool(name, []), mulberry32(1), null), undefined)
      const only = server('a')
      assert.equal(selectBackend(pool(name, []), mulberry32(1), only), undefined)
    },
  },
  {
    desc: 'no available server: undefined',
    run(name) {
      const table: readonly { desc: string; options: ServerOptions }[] = [
        { desc: 'down', options: { up: false } },
        { desc: 'maint', options: { admin: 'maint' } },
        { desc: 'drain', options: { admin: 'drain' } },
        { desc: 'weight 0', options: { weight: 0 } },
        { desc: 'full at maxconn', options: { maxconn: 3, inflight: 3 } },
      ]
      for (const row of table) {
        const p = pool(name, [server('a', row.options), server('b', row.options), server('c', row.options)])
        assert.equal(picks(p, 5), '- - - - -', row.desc)
        assert.equal(picks(p, 2, mulberry32(1), p.normal[0] ?? null), '- -', `${row.desc}, avoid unavailable`)
      }
      const unavailable = mixed().filter((b) => !AVAILABLE.includes(b.name))
      assert.equal(picks(pool(name, unavailable), 5), '- - - - -', 'mixed reasons')
    },
  },
  {
    desc: 'never returns an unavailable server',
    run(name) {
      const p = pool(name, mixed())
      const rand = mulberry32(7)
      const seen = new Set<string>()
      for (let i = 0; i < 2000; i++) {
        const b = selectBackend(p, rand, null)
        assert.ok(b !== undefined && isAvailable(b), `pick ${i}: ${b?.name}`)
        seen.add(b.name)
        // churn the load so load-aware pickers move around
        b.inflight = (b.inflight + 1) % 5
      }
      for (const b of seen) assert.ok(AVAILABLE.includes(b), b)
    },
  },
  {
    desc: 'avoid: not returned while another server is available',
    run(name) {
      const p = pool(name, mixed())
      const rand = mulberry32(3)
      for (const avoid of p.normal) {
        for (let i = 0; i < 200; i++) {
          const b = selectBackend(p, rand, avoid)
          assert.ok(b !== undefined && b !== avoid && isAvailable(b), `avoid ${avoid.name}: got ${b?.name}`)
        }
      }
    },
  },
  {
    desc: 'avoid: returned when it is the only available server',
    run(name) {
      const p = pool(name, [
        server('down', { up: false }),
        server('a'),
        server('full', { maxconn: 1, inflight: 1 }),
      ])
      const a = p.normal[1] ?? null
      assert.equal(picks(p, 3, mulberry32(1), a), 'a a a')
      const single = pool(name, [server('only')])
      assert.equal(picks(single, 2, mulberry32(1), single.normal[0] ?? null), 'only only')
    },
  },
  {
    desc: 'maxconn: a server at its limit is skipped until a request ends',
    run(name) {
      const p = pool(name, [server('a', { maxconn: 2 }), server('b', { maxconn: 2 })])
      const rand = mulberry32(5)
      const held: Backend[] = []
      for (let i = 0; i < 4; i++) {
        const b = selectBackend(p, rand, null)
        assert.ok(b !== undefined, `pick ${i}`)
        b.inflight++
        held.push(b)
      }
      assert.deepEqual(
        p.normal.map((b) => b.inflight),
        [2, 2],
      )
      assert.equal(selectBackend(p, rand, null), undefined)
      const released = held[0] as Backend
      released.inflight--
      assert.equal(selectBackend(p, rand, null), released)
    },
  },
  {
    desc: 'distribution follows weights (requests end at once)',
    run(name) {
      const p = pool(name, [
        server('a', { weight: 5 }),
        server('b', { weight: 3 }),
        server('down', { weight: 8, up: false }),
        server('c', { weight: 1 }),
        server('d', { weight: 1 }),
      ])
      assertShares(shares(p, 10_000, false), { a: 0.5, b: 0.3, c: 0.1, d: 0.1 }, 0.02)
    },
  },
  {
    desc: 'distribution follows weights (requests held open)',
    run(name) {
      const p = pool(name, [
        server('a', { weight: 5 }),
        server('b', { weight: 3 }),
        server('drain', { weight: 8, admin: 'drain' }),
        server('c', { weight: 1 }),
        server('d', { weight: 1 }),
      ])
      assertShares(shares(p, 10_000, true), { a: 0.5, b: 0.3, c: 0.1, d: 0.1 }, 0.02)
    },
  },
  {
    desc: 'runtime weight 0 takes a server out, and back in when restored',
    run(name) {
      const p = pool(name, [server('a'), server('b'), server('c')])
      const b = p.normal[1] as Backend
      b.setWeight(0)
      const rand = mulberry32(9)
      for (let i = 0; i < 100; i++) assert.notEqual(selectBackend(p, rand, null), b)
      b.setWeight(1)
      let seen = false
      const others = p.normal.filter((x) => x !== b)
      for (const o of others) o.inflight = 1 // make b the most attractive for load-aware pickers
      for (let i = 0; i < 100 && !seen; i++) seen = selectBackend(p, rand, others[0] ?? null) === b
      assert.ok(seen, 'b picked again after weight restored')
    },
  },
  {
    desc: 'backup: unused while a normal server is available',
    run(name) {
      const p = pool(name, [server('x', { backup: true }), server('a'), server('b', { up: false })])
      assert.equal(picks(p, 4), 'a a a a')
    },
  },
  {
    desc: 'backup: the first available backup when every normal server is down or in maintenance',
    run(name) {
      const p = pool(name, [
        server('a', { up: false }),
        server('x', { backup: true, up: false }),
        server('y', { backup: true, weight: 1 }),
        server('b', { admin: 'maint' }),
        server('z', { backup: true, weight: 100 }),
      ])
      assert.equal(picks(p, 4), 'y y y y')
      const y = p.backup[1] ?? null
      assert.equal(picks(p, 3, mulberry32(1), y), 'z z z', 'avoid among backups')
      const z = p.backup[2] as Backend
      z.up = false
      assert.equal(picks(p, 2, mulberry32(1), y), 'y y', 'avoid as the only backup')
      const a = p.normal[0] as Backend
      a.up = true
      assert.equal(picks(p, 2), 'a a', 'normal back: backups unused again')
    },
  },
  {
    desc: 'backup: a usable normal server that is full keeps backups out; draining ones do not',
    run(name) {
      const p = pool(name, [
        server('a', { admin: 'drain' }),
        server('b', { maxconn: 1, inflight: 1 }),
        server('c', { up: false }),
        server('x', { backup: true }),
      ])
      assert.equal(picks(p, 3), '- - -', 'b is up and ready, only full')
      const b = p.normal[1] as Backend
      b.up = false
      assert.equal(picks(p, 3), 'x x x', 'a draining server does not count as usable (haproxy)')
      b.up = true
      b.setWeight(0)
      assert.equal(picks(p, 2), 'x x', 'nor does a weight-0 server')
    },
  },
  {
    desc: 'pickers only return servers from the list they are given',
    run(name) {
      const p = pool(name, [server('a'), server('x', { backup: true }), server('y', { backup: true })])
      const pick = pickers[name]
      const rand = mulberry32(11)
      for (let i = 0; i < 20; i++) {
        const b = pick(p, p.backup, rand, null)
        assert.ok(b !== undefined && p.backup.includes(b), b?.name)
        const n = pick(p, p.normal, rand, null)
        assert.equal(n?.name, 'a')
      }
    },
  },
] as const satisfies readonly PickerCase[]

export type PickerCaseName = (typeof cases)[number]['desc']

export interface PickerCaseOptions {
  /** Case name → why this picker does not meet it. */
  readonly skip?: Partial<Record<PickerCaseName, string>>
}

export function runPickerCases(name: PickerName, options: PickerCaseOptions = {}): void {
  const skip = new Map(Object.entries(options.skip ?? {}))
  for (const key of skip.keys()) {
    if (!cases.some((c) => c.desc === key)) throw new Error(`runPickerCases(${name}): no case named "${key}"`)
  }
  describe(`${name}: picker conformance`, () => {
    for (const c of cases) {
      const reason = skip.get(c.desc)
      if (reason === undefined) test(c.desc, () => c.run(name))
      else test(c.desc, { skip: reason }, () => {})
    }
  })
}
