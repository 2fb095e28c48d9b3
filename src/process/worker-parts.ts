/**
 * What the Worker (worker.ts) computes from its config and its snapshots, kept apart so worker.ts holds the
 * wiring: the auth schemes and gzip types of a config, listener identity, the resolver as an address book, and
 * how much of the state a snapshot changes (provider/delta.ts) and which route table that asks for.
 */
import { isIP } from 'node:net'
import type { Config, DeepReadonly, ListenerConfig } from '../config/types.js'
import type { PathMatch, Snapshot } from '../model/snapshot.js'
import type { AddressBook } from '../proxy/upstream.js'
import type { Resolver } from '../net/resolver.js'
import { compileAuthScheme, type AuthScheme } from '../route/auth.js'
import { buildTable, type RouteTable } from '../route/table.js'
import { updateTable } from '../route/update.js'
import { changedBy, diffSnapshot, type Changed } from '../provider/delta.js'

/** The `http.auth` schemes by name, compiled (htpasswd parsed) once per config. */
export function authSchemes(config: Config): Map<string, AuthScheme> {
  const out = new Map<string, AuthScheme>()
  for (const a of config.http.auth) out.set(a.name, compileAuthScheme(a))
  return out
}

/** `http.gzip_content_types` compiled (the loader checked it), or null when off. */
export function gzipTypes(config: Config): RegExp | null {
  const types = config.http.gzipContentTypes
  return types === '' ? null : new RegExp(types, 'i')
}

/**
 * What makes a listener a different one (closed and opened again). A TLS listener's certificates and protocol
 * settings are not part of it: a reload applies them to the open listener (`setTls`, HTTP and TCP).
 */
export function listenerKey(l: DeepReadonly<ListenerConfig>): string {
  if (l.tls !== undefined) return JSON.stringify({ ...l, tls: true })
  return JSON.stringify(l)
}

/** Resolver results as the upstream set reads them, plus change notification. */
export class ResolvedAddresses implements AddressBook {
  readonly resolver: Resolver
  readonly reasons: Map<string, string> = new Map()
  constructor(resolver: Resolver) {
    this.resolver = resolver
  }
  peek(host: string): string | undefined {
    return this.resolver.peek(host)
  }
  failure(host: string): string {
    return this.reasons.get(host) ?? ''
  }
}

/** What `snapshot` changes against `prev` (the last one applied), or null when everything is to be built. */
export function changesOf(prev: Snapshot | null, snapshot: Snapshot): Changed | null {
  if (prev === null) return null
  const delta = diffSnapshot(prev, snapshot)
  return delta === null ? null : changedBy(prev, delta)
}

/**
 * The route table for `snapshot`: `current` updated for the routes that changed (route/update.ts, which takes
 * `current` over), or built whole when there is no previous state or the change is large (a full state from
 * another process has no object in common with this one's: every route would count as changed).
 */
export function tableFor(
  current: RouteTable,
  snapshot: Snapshot,
  changed: Changed | null,
  pathMatch: PathMatch,
): RouteTable {
  const options = { pathMatch }
  if (changed === null || current.pathMatch !== pathMatch) return buildTable(snapshot.routes, options)
  const n = changed.removedRoutes.length + changed.addedRoutes.length
  if (n === 0) return current
  if (n > snapshot.routes.length / 4) return buildTable(snapshot.routes, options)
  return updateTable(current, snapshot.routes, changed.removedRoutes, changed.addedRoutes, options)
}

/** Whether a change adds or removes a server named by a hostname (which the resolver then watches or drops). */
export function hasHostnames(changed: Changed): boolean {
  for (const list of [changed.removedServices, changed.addedServices])
    for (const svc of list) for (const s of svc.servers) if (isIP(s.host) === 0) return true
  return false
}
