/** Builds lb's pieces from fabio's inputs, for the conformance suite (see cases.ts). */
import { defaultConfig } from '../../../src/config/defaults.js'
import { applyCommands, parseCommands, parseDst, type Ir, type Target } from '../../../src/fabio/routecmd.js'
import { toSnapshot } from '../../../src/fabio/snapshot.js'
import { shares } from '../../../src/fabio/weights.js'
import { buildTable, type RouteTable } from '../../../src/route/table.js'
import { lookupHttp } from '../../../src/route/lookup.js'
import type { PathMatch, Snapshot } from '../../../src/model/snapshot.js'

/** Route command text → lb's IR (fabio's table), with every problem line. */
export function irOf(text: string): { ir: Ir; problems: string[] } {
  const parsed = parseCommands(text)
  const ir: Ir = new Map()
  const problems = [...parsed.problems, ...applyCommands(ir, parsed.commands, text)].map(
    (p) => `${p.line}: ${p.reason}`,
  )
  return { ir, problems }
}

function optsText(t: Target): string {
  const o = t.opts
  const words: string[] = []
  if (o.hostHeader !== '') words.push(`host=${o.hostHeader}`)
  if (o.prepend !== '') words.push(`prepend=${o.prepend}`)
  if (o.proto !== 'http' && o.redirect === null) words.push(`proto=${o.proto}`)
  if (o.redirect !== null) words.push(`redirect=${o.redirect.code}`)
  if (o.strip !== '') words.push(`strip=${o.strip}`)
  if (o.tlsSkipVerify) words.push('tlsskipverify=true')
  return words.join(' ')
}

/**
 * fabio's `Table.config(true)` from lb's IR: hosts in reverse order with the host-less routes last, paths in
 * reverse order, targets in insertion order with their share (targets with no share left out).
 */
export function fabioConfig(ir: Ir): string[] {
  const keys = [...ir.keys()]
  const hostOf = (k: string): string => (k.startsWith(':') ? k : k.slice(0, k.indexOf('/')))
  const pathOf = (k: string): string => (k.startsWith(':') ? '' : k.slice(k.indexOf('/')))
  keys.sort((a, b) => {
    const ha = hostOf(a)
    const hb = hostOf(b)
    if (ha !== hb) return ha === '' ? 1 : hb === '' ? -1 : ha < hb ? 1 : -1
    return pathOf(a) < pathOf(b) ? 1 : pathOf(a) > pathOf(b) ? -1 : 0
  })
  const out: string[] = []
  for (const key of keys) {
    const r = ir.get(key)
    if (r === undefined) continue
    const w = shares(r.targets)
    r.targets.forEach((t, i) => {
      const share = w[i] ?? 0
      if (share <= 0) return
      let line = `route add ${t.service} ${key} ${t.dst} weight ${share.toFixed(4)}`
      if (t.tags.length > 0) line += ` tags "${t.tags.join(',')}"`
      const opts = optsText(t)
      if (opts !== '') line += ` opts "${opts}"`
      out.push(line)
    })
  }
  return out
}

/** A fabio `route add` line with its dst in lb's canonical form (`http://h/` → `http://h:80/`). */
export function canonicalLine(line: string): string {
  const f = line.split(' ')
  const dst = parseDst(f[4] ?? '')
  if (typeof dst !== 'string') f[4] = dst.url
  return f.join(' ')
}

export function snapshotOf(text: string): Snapshot {
  return toSnapshot(irOf(text).ir, { defaults: defaultConfig.defaults, source: 'test' })
}

export function tableOf(
  text: string,
  pathMatch: PathMatch = 'prefix',
): { table: RouteTable; snapshot: Snapshot } {
  const snapshot = snapshotOf(text)
  return { table: buildTable(snapshot.routes, { pathMatch }), snapshot }
}

/**
 * What fabio's `Table.Lookup(...).URL` names for a request: the redirect URL of a redirect route, else
 * `scheme://host:port` of the route's (first) server; 'none' without a route.
 */
export function lookupDst(
  t: { table: RouteTable; snapshot: Snapshot },
  host: string | undefined,
  url: string,
  tls = false,
  forwardedProto = '',
): string {
  const route = lookupHttp(t.table, host, url, tls, forwardedProto)
  if (route === undefined) return 'none'
  if (route.redirect !== null) return route.redirect.url
  const svc = t.snapshot.services.find((s) => s.name === route.service)
  const s = svc?.servers[0]
  return s === undefined ? 'no server' : `${svc?.proto ?? 'http'}://${s.host}:${s.port}`
}
