/**
 * The brute-force reference for lookupHttp, written straight from the documented semantics (src/route/table.ts
 * module comment): shared by the seeded property test (table.property.test.ts) and the fast-check fuzz test
 * (test/fuzz/route-table.fuzz.test.ts).
 */
import type { PathMatch } from '../../src/model/snapshot.js'
import type { HttpRouteSpec } from '../../src/model/snapshot.js'
import { normalizeHost, normalizeRouteKey, portStart } from '../../src/route/host.js'

export function spec(host: string, path: string, n: number): HttpRouteSpec {
  return {
    host,
    path,
    service: `s${n}`,
    strip: '',
    prepend: '',
    hostHeader: '',
    redirect: null,
    source: `r${n}`,
  }
}

// ---- reference implementation: obvious, slow, independent of the table's data structures ----

export interface RefRoute {
  readonly id: number
  readonly host: string
  readonly path: string
}

function splitHostPort(h: string): { name: string; port: string } {
  const v6 = /^(\[[^\]]*\])(?::(.*))?$/.exec(h)
  if (v6 !== null) return { name: v6[1] ?? '', port: v6[2] ?? '' }
  const parts = h.split(':')
  if (parts.length === 2) return { name: parts[0] ?? '', port: parts[1] ?? '' }
  return { name: h, port: '' }
}

function pathMatches(mode: PathMatch, path: string, routePath: string): boolean {
  if (!path.startsWith(routePath)) return false
  if (mode === 'prefix') return true
  return path.length === routePath.length || path[routePath.length] === '/' || routePath.endsWith('/')
}

/**
 * The documented normal form (docs/requests.md, Path matching), written plainly and independently of normalize.ts: path
 * up to '?'/'#', unreserved escapes decoded, `;params` dropped, empty and dot segments resolved.
 */
function referenceNormalize(url: string): string {
  const raw = url.split(/[?#]/)[0] ?? ''
  if (!raw.startsWith('/')) return raw
  const decoded = raw.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16))
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m
  })
  const out: string[] = []
  const parts = decoded.split('/').slice(1)
  let trailing = false
  for (const part of parts) {
    const seg = part.split(';')[0] ?? ''
    trailing = seg === '' || seg === '.' || seg === '..'
    if (seg === '..') out.pop()
    else if (!trailing) out.push(seg)
  }
  if (out.length === 0) return '/'
  return '/' + out.join('/') + (trailing ? '/' : '')
}

export function reference(
  specs: readonly HttpRouteSpec[],
  mode: PathMatch,
  host: string | undefined,
  url: string,
): RefRoute | undefined {
  const kept: RefRoute[] = []
  const seen = new Set<string>()
  for (const s of specs) {
    const h = s.host === '' ? '' : normalizeRouteKey(s.host)
    const key = `${h} ${s.path}`
    if (seen.has(key)) continue
    seen.add(key)
    kept.push({ id: kept.length, host: h, path: s.path })
  }
  const path = referenceNormalize(url)

  // Wildcards matching `name` with `port`, most specific (longest suffix) first.
  const wildcards = (name: string, port: string): string[] => {
    const found = new Set<string>()
    for (const r of kept) {
      if (!r.host.startsWith('*')) continue
      const w = splitHostPort(r.host)
      const suffix = w.name.slice(1)
      // A wildcard written with `:80` is the plain-HTTP variant of the portless one (lookups here are plain).
      const base = w.port === '80' && port === '' ? w.name : r.host
      if (
        (w.port === port || (port === '' && w.port === '80')) &&
        name.endsWith(suffix) &&
        name.length > suffix.length
      )
        found.add(base)
    }
    return [...found].sort((a, b) => splitHostPort(b).name.length - splitHostPort(a).name.length)
  }

  const candidates: string[] = []
  if (host !== undefined && host !== '') {
    // Routes written with `:80` serve plain-HTTP requests without a port or with :80 (or an empty one), first.
    const raw = host.toLowerCase()
    const at = portStart(raw)
    const plain = at >= raw.length - 1 || raw.slice(at + 1) === '80'
    const h = normalizeHost(host)
    const { name, port } = splitHostPort(h)
    if (port !== '') candidates.push(h, ...wildcards(name, port))
    if (plain) candidates.push(name + ':80')
    candidates.push(name)
    for (const w of wildcards(name, '')) {
      if (plain) candidates.push(w + ':80')
      candidates.push(w)
    }
  }
  candidates.push('')
  for (const c of candidates) {
    let best: RefRoute | undefined
    for (const r of kept) {
      if (
        r.host === c &&
        pathMatches(mode, path, r.path) &&
        (best === undefined || r.path.length > best.path.length)
      ) {
        best = r
      }
    }
    if (best !== undefined) return best
  }
  return undefined
}
