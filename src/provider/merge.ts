/**
 * Merge the latest snapshot of every provider into the one Snapshot the worker applies. Pure: never mutates
 * its input (traefik's merge does; we don't).
 *
 * Naming (decided here, STYLE §5): the config-file provider (`file`) keeps its service names as written, so
 * config routes, logs and tests see `web`. Every other provider's services are **always** qualified
 * `name@provider` (`web@consul`), not only on collision: a name that changed whenever a collision appeared or
 * disappeared would churn connection pools and metric labels. So a static `web` and a Consul `web` never
 * silently merge; they are two services, each with its own routes.
 *
 * Route precedence: providers are merged in the order given (file first), and buildTable keeps the first route
 * for a host+path, so a static route wins over a discovered one with the same host and path (reported by the
 * table's `ignored`). Within each provider the output is canonically sorted (services by name, servers by
 * name, routes by host/path), so equal inputs give deep-equal outputs whatever order a provider produced.
 */
import type { HttpRouteSpec, ServiceSpec, Snapshot, TcpRouteSpec } from '../snapshot.js'

export interface ProviderSnapshot {
  readonly provider: string
  readonly snapshot: Snapshot
}

/** The provider whose names are not qualified. */
export const unqualifiedProvider = 'file'

export function qualify(name: string, provider: string): string {
  return provider === unqualifiedProvider || name === '' ? name : `${name}@${provider}`
}

export function merge(inputs: readonly ProviderSnapshot[]): Snapshot {
  const services: ServiceSpec[] = []
  const routes: HttpRouteSpec[] = []
  const tcpRoutes: TcpRouteSpec[] = []
  for (const { provider, snapshot } of inputs) {
    const c = canonical(snapshot)
    for (const s of c.services)
      services.push(provider === unqualifiedProvider ? s : { ...s, name: qualify(s.name, provider) })
    for (const r of c.routes)
      routes.push(provider === unqualifiedProvider ? r : { ...r, service: qualify(r.service, provider) })
    for (const t of c.tcpRoutes)
      tcpRoutes.push(provider === unqualifiedProvider ? t : { ...t, service: qualify(t.service, provider) })
  }
  return { services, routes, tcpRoutes }
}

/** The same snapshot with services, servers and routes in a canonical order (new arrays; objects shared). */
export function canonical(s: Snapshot): Snapshot {
  const services = s.services
    .map((svc) => {
      const servers = svc.servers.slice().sort((a, b) => cmp(a.name, b.name))
      return sameOrder(servers, svc.servers) ? svc : { ...svc, servers }
    })
    .sort((a, b) => cmp(a.name, b.name))
  const routes = s.routes.slice().sort((a, b) => cmp(a.host, b.host) || cmp(a.path, b.path))
  const tcpRoutes = s.tcpRoutes
    .slice()
    .sort((a, b) => a.port - b.port || cmp(a.serverName, b.serverName) || cmp(a.service, b.service))
  return { services, routes, tcpRoutes }
}

function sameOrder<T>(a: readonly T[], b: readonly T[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
