/**
 * The file provider's build step: a validated Config → the Snapshot of its static services and routes.
 * Pure: reading and re-reading the file on SIGHUP is loadConfig's job; this only converts.
 * Defaults were already merged into every service by validate(), so this is a field-by-field copy into
 * fresh objects (the Snapshot shares nothing with the Config).
 */
import type { Config, DeepReadonly, ServerConfig, ServiceConfig } from '../config/types.js'
import type {
  HealthCheckSpec,
  HttpRouteSpec,
  ServerSpec,
  ServerState,
  ServiceSpec,
  Snapshot,
  TcpRouteSpec,
} from '../model/snapshot.js'
import { applyCommands, parseCommands, type Ir } from '../fabio/routecmd.js'
import { toSnapshot } from '../fabio/snapshot.js'

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
      ...(r.allow === undefined || r.allow.length === 0 ? {} : { allow: [...r.allow] }),
      ...(r.deny === undefined || r.deny.length === 0 ? {} : { deny: [...r.deny] }),
      ...(r.pathMatch === undefined ? {} : { pathMatch: r.pathMatch }),
      ...(r.auth === undefined || r.auth === '' ? {} : { auth: r.auth }),
      ...(r.hsts === undefined || r.hsts === '' ? {} : { hsts: r.hsts }),
    })
  }
  if (config.routeCommands === '') return { services, routes, tcpRoutes: tcpRoutes(config, source) }
  const cmd = routeCommandsSnapshot(config)
  return {
    services: [...services, ...cmd.services],
    routes: [...routes, ...cmd.routes],
    tcpRoutes: [...tcpRoutes(config, source), ...cmd.tcpRoutes],
  }
}

/**
 * The config's `route_commands` (fabio's route language, like fabio's `registry.static.routes`) as a Snapshot:
 * the commands build their own table from empty, so `route del`/`route weight` act on routes added by earlier
 * commands, not on the `routes:` section. validate() already rejected bad lines and name clashes with `services:`.
 */
export function routeCommandsSnapshot(config: Config): Snapshot {
  const parsed = parseCommands(config.routeCommands)
  const ir: Ir = new Map()
  applyCommands(ir, parsed.commands, config.routeCommands)
  return toSnapshot(ir, { defaults: config.defaults, source: 'config:route_commands' })
}

/**
 * `mode: tcp` listeners → TCP routes on their configured port: one per `sni_routes` entry, and the listener's
 * `service` as the any-name route (serverName ''). Port 0 (tests) is kept as 0; the listener matches on it.
 */
function tcpRoutes(config: Config, source: string): TcpRouteSpec[] {
  const out: TcpRouteSpec[] = []
  for (let i = 0; i < config.listeners.length; i++) {
    const l = config.listeners[i]
    if (l === undefined || l.mode !== 'tcp') continue
    for (let j = 0; j < l.sniRoutes.length; j++) {
      const r = l.sniRoutes[j]
      if (r === undefined) continue
      out.push({
        port: l.port,
        serverName: r.serverName,
        service: r.service,
        source: `${source}:listeners[${i}].sni_routes[${j}]`,
      })
    }
    if (l.service !== '') {
      out.push({ port: l.port, serverName: '', service: l.service, source: `${source}:listeners[${i}]` })
    }
  }
  return out
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
      // Optional snapshot fields are set only when not the default, so snapshots stay minimal and comparable.
      ...(v.check ? {} : { check: false }),
    })
  }
  const spec: ServiceSpec = {
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
    ...(s.check === null ? {} : { check: structuredClone(s.check) as HealthCheckSpec }),
    ...(s.observe === null ? {} : { observe: { ...s.observe } }),
    ...(s.slowstart === 0 ? {} : { slowstart: s.slowstart }),
    ...(s.maxqueue === 0 ? {} : { maxqueue: s.maxqueue }),
    ...(s.timeouts.queue === undefined ? {} : { queueTimeout: s.timeouts.queue }),
    ...(s.onMarkedDown === 'none' ? {} : { onMarkedDown: s.onMarkedDown }),
    ...(s.sendProxy === 'none' ? {} : { sendProxy: s.sendProxy }),
  }
  return spec
}
