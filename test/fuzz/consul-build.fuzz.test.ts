/**
 * Property tests for the Consul snapshot build (src/provider/consul/build.ts), which takes one of two paths:
 * `ownedBuild` (every service owns its routes: parts per service, concatenated) and `irBuild` (one IR for all,
 * KV commands applied). Whatever the catalog:
 * - without KV commands, the build equals the IR build (forced here by an empty KV key, which adds no command);
 * - with a BuildCache carried across random changes, every build equals a cold build of the same input, also
 *   when told which service changed (the patch of the last result, `patchOwned`).
 * Services whose instances share one tag list take `plainService` (a part built without the IR), so the first
 * property also holds that shortcut to the general path. And a build that names its services `<name>@consul`
 * (BuildOptions `suffix`, as the daemon's provider does) equals the merge's qualified copies of a plain build.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { defaultOpts, parseTagText, simpleSrc } from '../../src/fabio/tags.js'
import { buildSnapshot, newBuildCache, type KvPair } from '../../src/provider/consul/build.js'
import type { BuildOptions } from '../../src/provider/consul/targets.js'
import type { HealthEntry } from '../../src/provider/consul/entries.js'
import { canonical, merge } from '../../src/provider/merge.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { defaultConfig } from '../../src/config/defaults.js'
import { fuzzParams } from './runs.js'

const options: BuildOptions = {
  tagPrefix: 'urlprefix-',
  status: ['passing', 'warning'],
  routeWithoutChecks: false,
  dc: 'dc1',
  defaults: defaultConfig.defaults,
}

/** Route tags from a small pool, so services share keys, carry canary weights, redirects and TCP routes. */
const tag = fc.constantFrom(
  'urlprefix-/',
  'urlprefix-/a',
  'urlprefix-/b strip=/b',
  'urlprefix-a.example.com/',
  'urlprefix-a.example.com/x weight=0.2',
  'urlprefix-*.example.com/',
  'urlprefix-/r redirect=301,https://example.com$path',
  'urlprefix-:9000 proto=tcp',
  'urlprefix-/bad weight=7',
  'version-1',
  'version-2',
)

const instance = fc.record({
  tags: fc.array(tag, { maxLength: 4 }),
  status: fc.constantFrom('passing', 'warning', 'critical'),
  port: fc.integer({ min: 8000, max: 8003 }),
  node: fc.constantFrom('n1', 'n2'),
  weight: fc.constantFrom(1, 2, 10, 300, 1000),
})

type Instance = typeof instance extends fc.Arbitrary<infer T> ? T : never

function entries(service: string, list: readonly Instance[]): HealthEntry[] {
  return list.map((x, i) => ({
    Node: { Node: x.node, Address: '10.0.0.1' },
    Service: {
      ID: `${service}-${i}`,
      Service: service,
      Tags: x.tags,
      Address: i % 2 === 0 ? `10.1.0.${i + 1}` : '',
      Port: x.port,
      Weights: { Passing: x.weight, Warning: 1 },
    },
    Checks: [{ CheckID: `service:${service}-${i}`, Status: x.status, ServiceID: `${service}-${i}` }],
  }))
}

/** A service's instances; usually (as registrators do) all with the first one's tags. */
const instances = fc
  .tuple(fc.array(instance, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([list, sameTags]) =>
    sameTags ? list.map((x) => ({ ...x, tags: (list[0] as Instance).tags })) : list,
  )

const catalog = fc.dictionary(fc.constantFrom('web', 'api', 'db', 'web~x', 'z'), instances, {
  maxKeys: 5,
})

function health(c: Record<string, readonly Instance[]>): Map<string, readonly HealthEntry[]> {
  return new Map(Object.entries(c).map(([name, list]) => [name, entries(name, list)]))
}

const emptyKv: readonly KvPair[] = [{ key: 'fabio/config/empty', value: '' }]

test('consul build: without KV commands the result equals the IR build', () => {
  fc.assert(
    fc.property(catalog, (c) => {
      const h = health(c)
      assert.deepEqual(
        buildSnapshot({ health: h, kv: [] }, options),
        buildSnapshot({ health: h, kv: emptyKv }, options),
      )
    }),
    fuzzParams(),
  )
})

/** One change to the catalog: a service set (or dropped), and route commands in the KV or none. */
const change = fc.record({
  service: fc.constantFrom('web', 'api', 'db', 'web~x', 'z'),
  instances: fc.option(instances, { nil: null }),
  kv: fc.boolean(),
})

type Change = typeof change extends fc.Arbitrary<infer T> ? T : never

/** `ch` applied to the catalog `h`; returns the KV pairs the build then reads. */
function applyChange(h: Map<string, readonly HealthEntry[]>, ch: Change): readonly KvPair[] {
  if (ch.instances === null) h.delete(ch.service)
  else h.set(ch.service, entries(ch.service, ch.instances))
  return ch.kv ? [{ key: 'fabio/config/w', value: 'route weight web /a weight 0.1 tags "version-2"' }] : []
}

// hinted: the build is told which service changed (what the provider tells it), so it patches its last result.
for (const hinted of [false, true]) {
  test(`consul build: with a cache across changes${hinted ? ', told what changed' : ''}, every build equals a cold build`, () => {
    fc.assert(
      fc.property(catalog, fc.array(change, { maxLength: 6 }), (c, changes) => {
        const cache = newBuildCache()
        const h = health(c)
        buildSnapshot({ health: h, kv: [] }, options, cache)
        for (const ch of changes) {
          const kv = applyChange(h, ch)
          const warm = buildSnapshot({ health: h, kv }, options, cache, hinted ? new Set([ch.service]) : null)
          const cold = buildSnapshot({ health: new Map(h), kv }, options)
          assert.deepEqual(warm, cold)
        }
      }),
      fuzzParams(),
    )
  })
}

/**
 * `s` as the merge qualifies a `consul` provider's snapshot, services in name order (as a suffixed build sorts them,
 * and as the watcher's `canonical` then keeps them).
 */
function qualified(s: Snapshot): Snapshot {
  const m = merge([{ provider: 'consul', snapshot: s }])
  return {
    ...m,
    services: m.services.slice().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  }
}

test('consul build: with the suffix, on every path and across changes, it equals the merge qualifying a plain build', () => {
  const suffixed: BuildOptions = { ...options, suffix: '@consul' }
  fc.assert(
    fc.property(catalog, fc.array(change, { maxLength: 6 }), (c, changes) => {
      const cache = newBuildCache()
      const h = health(c)
      const first = buildSnapshot({ health: h, kv: [] }, suffixed, cache)
      assert.deepEqual(
        canonical(first.snapshot),
        qualified(buildSnapshot({ health: h, kv: [] }, options).snapshot),
      )
      for (const ch of changes) {
        const kv = applyChange(h, ch)
        const warm = buildSnapshot({ health: h, kv }, suffixed, cache, new Set([ch.service]))
        const plain = buildSnapshot({ health: new Map(h), kv }, options)
        assert.deepEqual(canonical(warm.snapshot), qualified(plain.snapshot))
        assert.deepEqual(warm.problems, plain.problems)
      }
    }),
    fuzzParams(),
  )
})

test('consul tags: simpleSrc agrees with the full tag grammar on every tag it accepts', () => {
  const ch = fc.constantFrom(...'aZz09-._~/%$ *:?#\u00e9'.split(''))
  const anyChars = fc
    .tuple(fc.array(ch, { maxLength: 12 }), fc.array(ch, { maxLength: 8 }))
    .map(([h, p]) => `urlprefix-${h.join('')}/${p.join('')}`)
  // Mostly well-formed: hostname-like labels (some upper-case, some bad) and paths with the odd escape or $.
  const label = fc.stringMatching(/^[a-zA-Z0-9-]{0,6}$/)
  const segment = fc.stringMatching(/^[a-zA-Z0-9._~%$-]{0,6}$/)
  const nearlyCanonical = fc
    .tuple(fc.array(label, { maxLength: 3 }), fc.array(segment, { maxLength: 3 }))
    .map(([h, p]) => `urlprefix-${h.join('.')}/${p.join('/')}`)
  const tagText = fc.oneof(anyChars, nearlyCanonical)
  fc.assert(
    fc.property(tagText, (tag) => {
      const quick = simpleSrc(tag, 'urlprefix-'.length)
      if (quick === null) return
      const r = parseTagText(tag, 'urlprefix-', 'dc1')
      assert.ok(r !== null && r.ok, `parseTag rejects ${JSON.stringify(tag)}`)
      assert.deepEqual(r.route.src, quick)
      assert.equal(r.route.opts, defaultOpts)
      assert.equal(r.route.weight, 0)
      assert.deepEqual(r.route.warnings, [])
    }),
    fuzzParams(),
  )
})
