/**
 * Upstream servers at runtime: one Upstream (a balance Backend plus its connection pool) per server,
 * grouped per service. Rebuilt from each Snapshot; unchanged servers keep their pools across swaps,
 * removed ones are closed gracefully (in-flight requests finish).
 */
import { Backend, Pool } from '../balance/pool.js'
import type { ServerSpec, ServiceSpec, Snapshot } from '../snapshot.js'
import type { Engine, UpstreamDispatcher } from './engine.js'
import { isIP } from 'node:net'

/** Where hostnames get their addresses (src/net/resolver.ts in production; a stub in tests). */
export interface AddressBook {
  /** Current address for `host`, or undefined when unknown/failed. Must not block. */
  peek(host: string): string | undefined
  /** Why `host` has no address ('' when it has one). */
  failure(host: string): string
}

export class Upstream extends Backend {
  spec: ServerSpec
  serviceSpec: ServiceSpec
  /** `service/server`, used in logs. */
  readonly label: string
  /** Address the pool connects to ('' = not resolved). */
  address: string
  dispatcher: UpstreamDispatcher | null
  /** Why the server is not usable ('' when fine). */
  downReason: string
  /** `host:port` as configured, the upstream Host header for `host_header: dst`. */
  readonly hostPort: string

  constructor(service: ServiceSpec, spec: ServerSpec) {
    super({
      service: service.name,
      name: spec.name,
      host: spec.host,
      port: spec.port,
      weight: spec.weight,
      backup: spec.backup,
      maxconn: spec.maxconn,
    })
    this.spec = spec
    this.serviceSpec = service
    this.label = `${service.name}/${spec.name}`
    this.address = ''
    this.dispatcher = null
    this.downReason = ''
    this.hostPort = isIP(spec.host) === 6 ? `[${spec.host}]:${spec.port}` : `${spec.host}:${spec.port}`
    this.up = spec.state !== 'down'
    this.admin = adminState(spec)
  }

  /** Take the settings of a new snapshot that did not change this server's pool identity. */
  update(service: ServiceSpec, spec: ServerSpec): void {
    this.spec = spec
    this.serviceSpec = service
    this.weight = spec.weight
    this.effectiveWeight = spec.weight
    this.maxconn = spec.maxconn
    this.admin = adminState(spec)
    if (this.downReason === '') this.up = spec.state !== 'down'
  }
}

function adminState(spec: ServerSpec): 'ready' | 'drain' | 'maint' {
  return spec.state === 'drain' ? 'drain' : spec.state === 'maint' ? 'maint' : 'ready'
}

export class ServiceRuntime {
  readonly spec: ServiceSpec
  readonly pool: Pool
  readonly upstreams: readonly Upstream[]
  constructor(spec: ServiceSpec, upstreams: readonly Upstream[]) {
    this.spec = spec
    this.upstreams = upstreams
    this.pool = new Pool(spec.name, spec.balance, upstreams)
  }
}

/** Identity of a connection pool: a change in any of these needs a new pool. */
function poolKey(service: ServiceSpec, server: ServerSpec): string {
  const t = service.timeouts
  return [
    service.name,
    server.name,
    server.host,
    server.port,
    server.backup,
    service.proto,
    service.tlsSkipVerify,
    service.maxConnections,
    t.connect,
    t.keepAlive,
  ].join('|')
}

function formatOrigin(proto: string, address: string, port: number): string {
  return isIP(address) === 6 ? `${proto}://[${address}]:${port}` : `${proto}://${address}:${port}`
}

export class UpstreamSet {
  readonly #engine: Engine
  readonly #addresses: AddressBook
  #services: Map<string, ServiceRuntime>
  #byKey: Map<string, Upstream>

  constructor(engine: Engine, addresses: AddressBook) {
    this.#engine = engine
    this.#addresses = addresses
    this.#services = new Map()
    this.#byKey = new Map()
  }

  get services(): ReadonlyMap<string, ServiceRuntime> {
    return this.#services
  }

  /**
   * Build the runtime services for `snapshot`. Upstreams whose pool identity is unchanged are kept
   * (with their connections and counters); the rest are closed once their in-flight requests finish.
   */
  apply(snapshot: Snapshot): Map<string, ServiceRuntime> {
    const nextByKey = new Map<string, Upstream>()
    const services = new Map<string, ServiceRuntime>()
    for (const service of snapshot.services) {
      const ups: Upstream[] = []
      for (const server of service.servers) {
        const key = poolKey(service, server)
        // Same pool identity: keep the object, so in-flight requests and counters stay on it.
        let up = this.#byKey.get(key)
        if (up === undefined) up = new Upstream(service, server)
        else up.update(service, server)
        nextByKey.set(key, up)
        ups.push(up)
      }
      services.set(service.name, new ServiceRuntime(service, ups))
    }
    for (const [key, old] of this.#byKey) {
      if (!nextByKey.has(key) && old.dispatcher !== null) {
        void old.dispatcher.close()
        old.dispatcher = null
      }
    }
    this.#byKey = nextByKey
    this.#services = services
    for (const up of nextByKey.values()) this.refresh(up)
    return services
  }

  /** Re-read the address of `up` and (re)create its pool when the address changed. */
  refresh(up: Upstream): void {
    const literal = isIP(up.host) !== 0
    const address = literal ? up.host : this.#addresses.peek(up.host)
    if (address === undefined) {
      up.up = false
      up.downReason = this.#addresses.failure(up.host) || `cannot resolve ${up.host}`
      return
    }
    if (up.downReason !== '' && !literal) {
      up.downReason = ''
      up.up = up.spec.state !== 'down'
    }
    if (address === up.address && up.dispatcher !== null) return
    const previous = up.dispatcher
    const s = up.serviceSpec
    up.address = address
    up.dispatcher = this.#engine.createDispatcher({
      origin: formatOrigin(s.proto, address, up.port),
      servername: literal ? '' : up.host,
      connectTimeout: s.timeouts.connect,
      keepAliveTimeout: s.timeouts.keepAlive,
      connections: s.maxConnections,
      tlsSkipVerify: s.tlsSkipVerify,
    })
    if (previous !== null) void previous.close()
  }

  /** Re-check every upstream using `host` (called when the resolver reports a change). */
  refreshHost(host: string): void {
    for (const up of this.#byKey.values()) if (up.host === host) this.refresh(up)
  }

  /** Hostnames that need resolving. */
  hostnames(): Set<string> {
    const names = new Set<string>()
    for (const up of this.#byKey.values()) if (isIP(up.host) === 0) names.add(up.host)
    return names
  }

  async close(): Promise<void> {
    const closing: Promise<void>[] = []
    for (const up of this.#byKey.values()) if (up.dispatcher !== null) closing.push(up.dispatcher.close())
    await Promise.allSettled(closing)
  }

  async destroy(): Promise<void> {
    const closing: Promise<void>[] = []
    for (const up of this.#byKey.values()) if (up.dispatcher !== null) closing.push(up.dispatcher.destroy())
    await Promise.allSettled(closing)
  }
}
