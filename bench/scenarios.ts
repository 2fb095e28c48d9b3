/**
 * Named route-table scenarios shared by the route benches: tables with 10, 1k and 10k routes,
 * exact vs wildcard hosts, deep paths. Each generator is deterministic (seeded PRNG), so runs compare.
 *
 * Every scenario carries REQUESTS requests as parallel arrays (`hosts[i]`, `urls[i]`); all of them find a route.
 */
import type { PathMatch } from '../src/model/snapshot.js'
import type { HttpRouteSpec } from '../src/model/snapshot.js'

export interface Scenario {
  readonly name: string
  readonly description: string
  readonly pathMatch: PathMatch
  readonly routes: readonly HttpRouteSpec[]
  /** Raw Host headers, one per request. */
  readonly hosts: readonly (string | undefined)[]
  /** Raw request targets, one per request. */
  readonly urls: readonly string[]
}

export const REQUESTS = 1024

/** mulberry32. */
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

function pick<T>(rand: () => number, items: readonly T[]): T {
  const item = items[Math.floor(rand() * items.length)]
  if (item === undefined) throw new Error('pick from an empty list')
  return item
}

/** Copies a string into a flat string, as the HTTP parser hands them over (not a cons string). */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1')
}

function route(host: string, path: string, service: string, n: number): HttpRouteSpec {
  return { host, path, service, strip: '', prepend: '', hostHeader: '', redirect: null, source: `bench:${n}` }
}

const HOST_PATHS = ['/', '/api/', '/api/v1/users', '/static/'] as const
const HOST_URLS = [
  '/',
  '/index.html',
  '/api/v1/users/42?expand=1',
  '/api/orders?page=2',
  '/static/app.js',
] as const

/** `n` routes over n/4 exact hosts `svc-<h>.example.com`, 4 paths each. */
function exactHosts(name: string, n: number, hostForm: (h: string) => string, description: string): Scenario {
  const routes: HttpRouteSpec[] = []
  const hostNames: string[] = []
  for (let i = 0; i < n; i++) {
    const h = `svc-${i >> 2}.example.com`
    if ((i & 3) === 0) hostNames.push(h)
    routes.push(route(h, HOST_PATHS[i & 3] ?? '/', `svc-${i}`, i))
  }
  const rand = prng(n)
  const hosts: string[] = []
  const urls: string[] = []
  for (let i = 0; i < REQUESTS; i++) {
    hosts.push(flat(hostForm(pick(rand, hostNames))))
    urls.push(flat(pick(rand, HOST_URLS)))
  }
  return { name, description, pathMatch: 'prefix', routes, hosts, urls }
}

/** 10k services, one route each: `svc-<i>.example.com/`. */
function services(name: string, n: number): Scenario {
  const routes: HttpRouteSpec[] = []
  for (let i = 0; i < n; i++) routes.push(route(`svc-${i}.example.com`, '/', `svc-${i}`, i))
  const rand = prng(n + 1)
  const hosts: string[] = []
  const urls: string[] = []
  for (let i = 0; i < REQUESTS; i++) {
    hosts.push(flat(`svc-${Math.floor(rand() * n)}.example.com`))
    urls.push(flat(pick(rand, HOST_URLS)))
  }
  return { name, description: `${n} exact hosts, one route each`, pathMatch: 'prefix', routes, hosts, urls }
}

/** `n` routes over n/2 wildcard hosts `*.t<h>.example.com` (paths `/`, `/api/`) plus `*.example.com/`. */
function wildcardHosts(name: string, n: number): Scenario {
  const routes: HttpRouteSpec[] = [route('*.example.com', '/', 'fallback', -1)]
  const tenants = n >> 1
  for (let i = 0; i < n - 1; i++) {
    routes.push(route(`*.t${i >> 1}.example.com`, (i & 1) === 0 ? '/' : '/api/', `svc-${i}`, i))
  }
  const rand = prng(n + 2)
  const hosts: string[] = []
  const urls: string[] = []
  for (let i = 0; i < REQUESTS; i++) {
    const t = Math.floor(rand() * tenants)
    hosts.push(flat(pick(rand, [`app.t${t}.example.com`, `a.b.t${t}.example.com`, `www.example.com`])))
    urls.push(flat(pick(rand, HOST_URLS)))
  }
  return {
    name,
    description: `${n} routes on ${tenants} wildcard hosts *.t<i>.example.com`,
    pathMatch: 'prefix',
    routes,
    hosts,
    urls,
  }
}

/** `n` catch-all routes `/org-a/team-b/svc-c/vD/` (segment matching), requests 4 to 8 segments deeper. */
function deepPaths(name: string, n: number): Scenario {
  const routes: HttpRouteSpec[] = []
  const prefixes: string[] = []
  for (let i = 0; i < n; i++) {
    const p = `/org-${i % 10}/team-${Math.floor(i / 10) % 10}/svc-${Math.floor(i / 100)}/v${i % 7}/`
    prefixes.push(p)
    routes.push(route('', p, `svc-${i}`, i))
  }
  const rand = prng(n + 3)
  const hosts: string[] = []
  const urls: string[] = []
  for (let i = 0; i < REQUESTS; i++) {
    let url = pick(rand, prefixes)
    const depth = 4 + Math.floor(rand() * 5)
    for (let d = 0; d < depth; d++) url += `seg${Math.floor(rand() * 100)}/`
    url += '?q=1&page=2'
    hosts.push(flat('api.example.com'))
    urls.push(flat(url))
  }
  return {
    name,
    description: `${n} catch-all routes 4 segments deep, requests 8-12 segments, segment matching`,
    pathMatch: 'segment',
    routes,
    hosts,
    urls,
  }
}

const asIs = (h: string): string => h

export const scenarios = {
  'exact-10': () => exactHosts('exact-10', 10, asIs, '10 routes on 3 exact hosts'),
  'exact-1k': () => exactHosts('exact-1k', 1_000, asIs, '1k routes on 250 exact hosts'),
  'exact-10k': () => exactHosts('exact-10k', 10_000, asIs, '10k routes on 2.5k exact hosts'),
  'exact-10k-port-443': () =>
    exactHosts('exact-10k-port-443', 10_000, (h) => h + ':443', 'exact-10k, Host with :443 (alias key)'),
  'exact-10k-slow-host': () =>
    exactHosts(
      'exact-10k-slow-host',
      10_000,
      (h) => h.toUpperCase() + ':8080',
      'exact-10k, upper-case Host with :8080 (normalise + port fallback)',
    ),
  'services-10k': () => services('services-10k', 10_000),
  'wildcard-10k': () => wildcardHosts('wildcard-10k', 10_000),
  'deep-paths-10k': () => deepPaths('deep-paths-10k', 10_000),
} as const satisfies Record<string, () => Scenario>

export type ScenarioName = keyof typeof scenarios
