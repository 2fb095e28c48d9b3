/**
 * The file provider's build step: a validated Config → the Snapshot of its static services and routes.
 * Pure (STYLE §6): reading and re-reading the file on SIGHUP is loadConfig's job; this only converts.
 * Defaults were already merged into every service by validate(), so this is a field-by-field copy into
 * fresh objects (the Snapshot shares nothing with the Config).
 */
import type { Config, DeepReadonly, ServerConfig, ServiceConfig } from '../config/schema.js'
import type { HttpRouteSpec, ServerSpec, ServerState, ServiceSpec, Snapshot } from '../snapshot.js'

/** Initial admin state in the file → control-plane state. Health checks may later turn 'up' into 'down'. */
const serverStates = {
  up: 'up',
  drain: 'drain',
  maint: 'maint',
} as const satisfies Record<ServerConfig['state'], ServerState>

export function configToSnapshot(config: Config): Snapshot {
  const source = config.file === '' ? 'config' : config.file
  const services: ServiceSpec[] = []
  for (const s of config.services) services.push(toService(s))
  const routes: HttpRouteSpec[] = []
  for (let i = 0; i < config.routes.length; i++) {
    const r = config.routes[i]
    if (r === undefined) continue
    routes.push({
      host: r.host,
      path: r.path,
      service: r.service,
      strip: r.strip,
      prepend: r.prepend,
      hostHeader: r.hostHeader,
      redirect: r.redirect === null ? null : { code: r.redirect.code, url: r.redirect.url },
      source: `${source}:routes[${i}]`,
    })
  }
  return { services, routes, tcpRoutes: [] }
}

function toService(s: DeepReadonly<ServiceConfig>): ServiceSpec {
  const servers: ServerSpec[] = []
  for (const v of s.servers) {
    servers.push({
      name: v.name,
      host: v.host,
      port: v.port,
      weight: v.weight,
      backup: v.backup,
      maxconn: v.maxconn,
      state: serverStates[v.state],
    })
  }
  return {
    name: s.name,
    balance: s.balance,
    retries: s.retries,
    timeouts: {
      connect: s.timeouts.connect,
      server: s.timeouts.server,
      body: s.timeouts.body,
      keepAlive: s.timeouts.keepAlive,
    },
    maxConnections: s.maxConnections,
    proto: s.proto,
    tlsSkipVerify: s.tlsSkipVerify,
    servers,
  }
}
