/**
 * TCP routes of one listener (haproxy `mode tcp` frontends; SNI routes from fabio's `proto=tcp+sni`): exact
 * server names, `*.suffix` names (longest first), and the any-name default. Pure: the listener rebuilds the index
 * when the worker swaps the routes (src/proxy/tcp/listener.ts).
 */
import type { TcpRouteSpec } from '../model/snapshot.js'

/** Routes of one listener: exact names, `*.suffix` names (longest first), and the any-name default. */
export interface TcpRouteIndex {
  readonly exact: ReadonlyMap<string, string>
  readonly wildcard: readonly (readonly [suffix: string, service: string])[]
  readonly fallback: string
  /** Any SNI route at all: only then is the ClientHello peeked. */
  readonly sni: boolean
}

/** Pure: the routes for listener `port` (configured port; 0 for test listeners on ephemeral ports). */
export function buildTcpRoutes(routes: readonly TcpRouteSpec[], port: number): TcpRouteIndex {
  const exact = new Map<string, string>()
  const wildcard: [string, string][] = []
  let fallback = ''
  for (const r of routes) {
    if (r.port !== port && r.anyPort !== true) continue
    const name = r.serverName.toLowerCase()
    if (name === '') {
      if (fallback === '') fallback = r.service
    } else if (name.startsWith('*.')) {
      wildcard.push([name.slice(1), r.service])
    } else if (!exact.has(name)) {
      exact.set(name, r.service)
    }
  }
  wildcard.sort((a, b) => b[0].length - a[0].length)
  return { exact, wildcard, fallback, sni: exact.size > 0 || wildcard.length > 0 }
}

/** Pure: the service for a server name ('' = none or no SNI). */
export function lookupTcpRoute(index: TcpRouteIndex, serverName: string): string {
  if (serverName !== '') {
    const e = index.exact.get(serverName)
    if (e !== undefined) return e
    for (let i = 0; i < index.wildcard.length; i++) {
      const w = index.wildcard[i] as readonly [string, string]
      if (serverName.endsWith(w[0]) && serverName.length > w[0].length) return w[1]
    }
  }
  return index.fallback
}
