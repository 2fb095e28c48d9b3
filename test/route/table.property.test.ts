/**
 * Property test: lookupHttp agrees with a brute-force reference written straight from the documented
 * semantics (src/route/table.ts module comment) over random tables and requests from a seeded PRNG.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { HttpRouteSpec } from '../../src/model/snapshot.js'
import { buildTable } from '../../src/route/table.js'
import { describeTable } from '../../src/route/describe.js'
import { lookupHttp } from '../../src/route/lookup.js'
import { reference, spec } from './table.reference.js'

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Rand = () => number

function pick<T>(rand: Rand, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)]
  if (item === undefined) throw new Error('pick from empty list')
  return item
}

const LABELS = ['a', 'b', 'ab', 'x', 'ex'] as const
const PORTS = [':80', ':443', ':8080', ':81'] as const
const SEGMENTS = ['a', 'b', 'ab', 'a/b', 'ba'] as const

function randomCase(rand: Rand, s: string): string {
  if (rand() > 0.15) return s
  let out = ''
  for (const ch of s) out += rand() < 0.5 ? ch.toUpperCase() : ch
  return out
}

function domain(rand: Rand): string {
  const n = 1 + Math.floor(rand() * 3)
  const labels: string[] = []
  for (let i = 0; i < n; i++) labels.push(pick(rand, LABELS))
  return labels.join('.')
}

function routeHost(rand: Rand): string {
  const r = rand()
  if (r < 0.15) return ''
  let host: string
  if (r < 0.55) host = domain(rand)
  else if (r < 0.85) host = '*.' + domain(rand)
  else if (r < 0.9) host = '*' + domain(rand)
  else if (r < 0.93) host = '*'
  else host = pick(rand, ['[::1]', '[fe80::a]', '10.0.0.1'])
  if (rand() < 0.2) host += pick(rand, PORTS)
  return randomCase(rand, host)
}

function randomPath(rand: Rand): string {
  const n = Math.floor(rand() * 4)
  const segs: string[] = []
  for (let i = 0; i < n; i++) segs.push(pick(rand, SEGMENTS))
  let path = '/' + segs.join('/')
  if (n > 0 && rand() < 0.3) path += '/'
  return path
}

function requestHost(rand: Rand, specs: readonly HttpRouteSpec[]): string | undefined {
  const r = rand()
  if (r < 0.05) return undefined
  if (r < 0.1) return ''
  const base = specs.length > 0 && rand() < 0.8 ? pick(rand, specs).host : domain(rand)
  const port = /:\d+$/.exec(base)?.[0] ?? ''
  let host = base.replace(/:\d+$/, '')
  if (host.startsWith('*')) host = (rand() < 0.5 ? domain(rand) : pick(rand, ['', 'x'])) + host.slice(1)
  else if (rand() < 0.3) host = pick(rand, LABELS) + '.' + host
  if (host === '') host = domain(rand)
  if (rand() < 0.05) host += '.'
  if (port !== '' && rand() < 0.5) host += port
  else if (rand() < 0.35) host += pick(rand, [...PORTS, ':9', ':'])
  return randomCase(rand, host)
}

function requestUrl(rand: Rand, specs: readonly HttpRouteSpec[]): string {
  let url = specs.length > 0 && rand() < 0.7 ? pick(rand, specs).path : randomPath(rand)
  const extra = Math.floor(rand() * 3)
  for (let i = 0; i < extra; i++)
    url += pick(rand, ['/', 'a', 'b', '/a', 'x', '/..', '/.', '%2e', ';p', '%61'])
  if (rand() < 0.3) url += pick(rand, ['?', '?q=1', '?next=/a/b', '?/'])
  return url
}

test('lookupHttp agrees with a brute-force reference on random tables', () => {
  const seed = 20_240_611
  const rand = prng(seed)
  let lookups = 0
  let hits = 0
  for (let t = 0; t < 2000; t++) {
    const specs: HttpRouteSpec[] = []
    const n = Math.floor(rand() * 12)
    for (let i = 0; i < n; i++) specs.push(spec(routeHost(rand), randomPath(rand), i))
    for (const mode of ['prefix', 'segment'] as const) {
      const table = buildTable(specs, { pathMatch: mode })
      for (let q = 0; q < 8; q++) {
        const host = requestHost(rand, specs)
        const url = requestUrl(rand, specs)
        const got = lookupHttp(table, host, url)
        const want = reference(specs, mode, host, url)
        lookups++
        if (want !== undefined) hits++
        assert.deepEqual(
          got === undefined ? undefined : { id: got.id, host: got.host, path: got.path },
          want,
          `seed ${seed}, table ${t}, ${mode}, host ${JSON.stringify(host)}, url ${JSON.stringify(url)}\n` +
            describeTable(table),
        )
      }
    }
  }
  // Guard against a generator that only produces misses.
  assert.ok(hits > lookups / 3, `${hits} hits of ${lookups}`)
})
