/** Consul health + KV JSON (real response shapes, test/fixtures/consul/) → Snapshot. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { buildSnapshot, newBuildCache, type KvPair } from '../../../src/provider/consul/build.js'
import type { BuildOptions } from '../../../src/provider/consul/targets.js'
import { minimalEntries, instanceStatus, type HealthEntry } from '../../../src/provider/consul/entries.js'
import { defaultConfig } from '../../../src/config/defaults.js'
import type { Snapshot } from '../../../src/model/snapshot.js'

function fixture<T>(name: string): T {
  return JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../../../test/fixtures/consul/${name}`, import.meta.url)), 'utf8'),
  ) as T
}
const web = fixture<HealthEntry[]>('health-web.json')
const api = fixture<HealthEntry[]>('health-api-maintenance.json')
const nochecks = fixture<HealthEntry[]>('health-static-nochecks.json')
const kv = fixture<{ Key: string; Value: string }[]>('kv-fabio-config.json').map((k): KvPair => ({
  key: k.Key,
  value: Buffer.from(k.Value, 'base64').toString('utf8'),
}))

const options: BuildOptions = {
  tagPrefix: 'urlprefix-',
  status: ['passing'],
  routeWithoutChecks: false,
  dc: 'dc1',
  defaults: defaultConfig.defaults,
}

/** Compact text view: `route → service: server*weight ...`. */
function view(s: Snapshot): string[] {
  const out: string[] = []
  const servers = (name: string): string =>
    (s.services.find((v) => v.name === name)?.servers ?? [])
      .map((v) => `${v.name}@${v.host}:${v.port}*${v.weight}`)
      .join(' ')
  for (const r of s.routes) {
    const o = [r.strip && `strip=${r.strip}`, r.allow?.length ? `allow=${r.allow.join(',')}` : '']
      .filter((x) => x !== '')
      .join(' ')
    out.push(`${r.host}${r.path}${o === '' ? '' : ` (${o})`} → ${r.service}: ${servers(r.service)}`)
  }
  for (const r of s.tcpRoutes) out.push(`:${r.port} → ${r.service}: ${servers(r.service)}`)
  return out
}

test('instance status: worst of node + own checks; maintenance; no service checks', () => {
  assert.deepEqual(web.map(instanceStatus), ['passing', 'passing', 'warning', 'critical'])
  assert.deepEqual(api.map(instanceStatus), ['maintenance', 'maintenance', 'passing', 'critical'])
  assert.deepEqual(nochecks.map(instanceStatus), ['nochecks'])
})

test('passing only: empty Service.Address → Node.Address, Weights.Passing, ${DC}, strip', () => {
  const r = buildSnapshot({ health: new Map([['web', web]]), kv: [] }, options)
  assert.deepEqual(view(r.snapshot), [
    '/web (strip=/web) → web: node-a/web-1@10.0.0.1:8080*1 node-b/web-2@10.1.0.2:8080*3',
    'dc1.web.example.com/ → web: node-a/web-1@10.0.0.1:8080*1 node-b/web-2@10.1.0.2:8080*3',
  ])
  assert.deepEqual(r.problems, [])
})

test('passing + warning: the warning instance joins with Weights.Warning', () => {
  const r = buildSnapshot(
    { health: new Map([['web', web]]), kv: [] },
    { ...options, status: ['passing', 'warning'] },
  )
  assert.deepEqual(
    view(r.snapshot)[0],
    '/web (strip=/web) → web: node-a/web-1@10.0.0.1:8080*1 node-b/web-2@10.1.0.2:8080*3 node-c/web-3@10.1.0.3:8080*1',
  )
})

test('node and service maintenance and a critical serfHealth are never routed; a bad tag drops only its route', () => {
  const r = buildSnapshot({ health: new Map([['api', api]]), kv: [] }, options)
  assert.deepEqual(view(r.snapshot), [
    '/api → api: node-c/api-3@10.2.0.3:9000*1',
    ':9000 → api: node-c/api-3@10.2.0.3:9000*1',
  ])
  assert.deepEqual(r.problems, [
    {
      where: 'api node-c/api-3 tag "urlprefix-/bad weight=7"',
      reason: 'weight= must be a number between 0 and 1, got "7"',
      dropped: true,
      kind: 'tag',
      service: 'api',
    },
  ])
})

test('no checks: not routed by default (like fabio), routed with routeWithoutChecks', () => {
  const health = new Map([['static', nochecks]])
  assert.deepEqual(view(buildSnapshot({ health, kv: [] }, options).snapshot), [])
  assert.deepEqual(
    view(buildSnapshot({ health, kv: [] }, { ...options, routeWithoutChecks: true }).snapshot),
    ['static.example.com/ → static: node-a/static-1@10.0.0.1:7000*1'],
  )
})

test('KV route commands apply after the generated routes, key by key; a bad line is reported and skipped', () => {
  const r = buildSnapshot(
    {
      health: new Map([
        ['web', web],
        ['api', api],
      ]),
      kv,
    },
    options,
  )
  // `route weight ... weight 0.1` over both version-1 instances: 0.05 each, all fixed and < 1 → normalised to
  // 50/50 (fabio), so /web gets its own server list and the other route of web a `web~<src>` service.
  assert.deepEqual(view(r.snapshot), [
    '/web (strip=/web) → web: node-a/web-1@10.0.0.1:8080*256 node-b/web-2@10.1.0.2:8080*256',
    'dc1.web.example.com/ → web~dc1.web.example.com/: node-a/web-1@10.0.0.1:8080*1 node-b/web-2@10.1.0.2:8080*3',
    ':9000 → api: node-c/api-3@10.2.0.3:9000*1',
  ])
  assert.deepEqual(
    r.problems.filter((p) => p.where.startsWith('kv')),
    [
      {
        where: 'kv fabio/config:2',
        reason: 'unknown command "route nonsense" (expected add, del or weight)',
        dropped: true,
        kind: 'command',
        service: '',
      },
    ],
  )
})

test('a canary weight tag makes a per-route service with integer weights', () => {
  const entries: HealthEntry[] = [0, 1, 2].map((i) => ({
    Node: { Node: 'n', Address: '10.0.0.1' },
    Service: {
      ID: `s-${i}`,
      Service: 's',
      Tags: i === 2 ? ['urlprefix-/ weight=0.05'] : ['urlprefix-/'],
      Address: '',
      Port: 8000 + i,
    },
    Checks: [{ CheckID: `service:s-${i}`, Status: 'passing', ServiceID: `s-${i}` }],
  }))
  const r = buildSnapshot({ health: new Map([['s', entries]]), kv: [] }, options)
  assert.deepEqual(view(r.snapshot), [
    '/ → s: n/s-0@10.0.0.1:8000*256 n/s-1@10.0.0.1:8001*256 n/s-2@10.0.0.1:8002*27',
  ])
})

test('with a BuildCache every build equals a cold build, and what did not change is the same objects', () => {
  const cache = newBuildCache()
  const health = new Map<string, readonly HealthEntry[]>([
    ['web', web],
    ['api', api],
  ])
  const canary: KvPair = {
    key: 'fabio/config/canary',
    value: 'route weight web /web weight 0.2 tags "version-1"',
  }
  const steps: { desc: string; change: () => void; kv: readonly KvPair[] }[] = [
    { desc: 'first build', change: () => {}, kv: [] },
    { desc: 'nothing changed', change: () => {}, kv: [] },
    { desc: 'api changed (new array, same content)', change: () => health.set('api', [...api]), kv: [] },
    {
      desc: 'an api instance moved to another port (patched in place)',
      change: () =>
        health.set(
          'api',
          api.map((e) => ({ ...e, Service: { ...e.Service, Port: e.Service.Port + 1 } })),
        ),
      kv: [],
    },
    {
      desc: 'a web instance goes critical (its routes keep their keys)',
      change: () =>
        health.set(
          'web',
          web.map((e, i) =>
            i === 0 ? { ...e, Checks: [{ CheckID: 'x', Status: 'critical', ServiceID: '' }] } : e,
          ),
        ),
      kv: [],
    },
    { desc: 'web back', change: () => health.set('web', web), kv: [] },
    { desc: 'KV route commands', change: () => {}, kv },
    { desc: 'KV canary weight added', change: () => {}, kv: [...kv, canary] },
    {
      desc: 'a service that shares /web',
      change: () => health.set('web2', retag(web, 'web2')),
      kv: [canary],
    },
    { desc: 'web removed', change: () => health.delete('web'), kv: [canary] },
    { desc: 'web back, KV gone', change: () => health.set('web', web), kv: [] },
  ]
  let previous: Snapshot | null = null
  for (const step of steps) {
    step.change()
    const warm = buildSnapshot({ health, kv: step.kv }, options, cache)
    const cold = buildSnapshot({ health: new Map(health), kv: step.kv }, options)
    assert.deepEqual(warm, cold, step.desc)
    if (step.desc === 'nothing changed' || step.desc === 'api changed (new array, same content)') {
      // Only api was re-read: everything else keeps its objects.
      const before = previous as Snapshot
      const kept = (service: string): boolean => !service.startsWith('api')
      for (const s of warm.snapshot.services.filter((v) => kept(v.name)))
        assert.equal(
          s,
          before.services.find((p) => p.name === s.name),
          `${step.desc}: service ${s.name}`,
        )
      for (const r of warm.snapshot.routes.filter((v) => kept(v.service)))
        assert.equal(
          r,
          before.routes.find((p) => p.source === r.source),
          `${step.desc}: route ${r.source}`,
        )
      if (step.desc === 'nothing changed') assert.equal(warm.snapshot.tcpRoutes[0], before.tcpRoutes[0])
    }
    previous = warm.snapshot
  }
})

/** The same instances under another service name and IDs. */
function retag(entries: readonly HealthEntry[], name: string): HealthEntry[] {
  return entries.map((e) => ({
    ...e,
    Service: { ...e.Service, ID: `${name}-${e.Service.ID}`, Service: name },
    Checks: (e.Checks ?? []).map((c) =>
      c.ServiceID === e.Service.ID ? { ...c, ServiceID: `${name}-${e.Service.ID}` } : c,
    ),
  }))
}

test('minimalEntries keeps what build reads: the same snapshot and problems from the reduced entries', () => {
  for (const [name, entries] of [
    ['web', web],
    ['api', api],
    ['static', nochecks],
  ] as const) {
    const health = new Map([[name, entries]])
    const reduced = new Map([[name, minimalEntries(entries)]])
    for (const o of [
      options,
      { ...options, status: ['passing', 'warning'] as const, routeWithoutChecks: true },
    ])
      assert.deepEqual(buildSnapshot({ health: reduced, kv }, o), buildSnapshot({ health, kv }, o), name)
  }
  assert.deepEqual(
    minimalEntries([null, 7, { Node: {} }, { Service: { ID: 3 } }]),
    [],
    'unusable entries skipped',
  )
})

test('a large service with a repeated address:port builds as the general path does (one server per address)', () => {
  const entries: HealthEntry[] = Array.from({ length: 20 }, (_, i) => ({
    Node: { Node: 'n', Address: '10.0.0.1' },
    Service: {
      ID: `big-${String(i).padStart(2, '0')}`,
      Service: 'big',
      Tags: ['urlprefix-/big'],
      Address: '',
      // Instances 18 and 19 share one port: the same address:port twice.
      Port: 8000 + Math.min(i, 18),
      Weights: { Passing: 1, Warning: 1 },
    },
    Checks: [
      { CheckID: `service:big-${i}`, Status: 'passing', ServiceID: `big-${String(i).padStart(2, '0')}` },
    ],
  }))
  const health = new Map([['big', entries]])
  const plain = buildSnapshot({ health, kv: [] }, options)
  const general = buildSnapshot({ health, kv: [{ key: 'fabio/config/empty', value: '' }] }, options)
  assert.deepEqual(plain, general)
  assert.equal(plain.snapshot.services[0]?.servers.length, 19)
})
