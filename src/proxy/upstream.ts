/**
 * Upstream servers at runtime: one Upstream (a balance Backend plus its connection pool) per server,
 * grouped per service. Rebuilt from each Snapshot; unchanged servers keep their pools across swaps,
 * removed ones are closed gracefully (in-flight requests finish).
 */
import type { ServerStats, ServiceStats } from '../metrics.js'
import { Backend, Pool, type AdminState } from '../balance/pool.js'
import type { ServerSpec, ServiceSpec, Snapshot } from '../snapshot.js'
import type { ServerHealth } from '../health/checker.js'
import { goodLayer7Status } from '../health/state.js'
import { WaitQueue } from './queue.js'
import type { DispatcherOptions, Engine, UpstreamDispatcher } from './engine.js'
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
  /**
   * The connection pool, created on first use (`ensureDispatcher`) from the address and the service's
   * settings: 10k idle services cost no pools and no pool settings.
   */
  dispatcher: UpstreamDispatcher | null
  /** Creates the pool; null until the address is known. */
  engine: Engine | null
  /** Why the server is not usable ('' when fine). */
  downReason: string
  /** `hostPort`, made on first use (most servers never need it). */
  #hostPort: string | null
  /** Active/passive health of this server; null = not checked (health is whatever the provider says). */
  health: ServerHealth | null
  /** The provider's verdict (snapshot state is not `down`). */
  stateUp: boolean
  /** Runtime overrides (haproxy `set server … state`, `set weight`); kept across snapshots. null = none. */
  runtimeAdmin: AdminState | null
  runtimeWeight: number | null
  /** The service's wait queue (shared by its servers, kept across snapshots). */
  queue: WaitQueue
  /** `sessions`, created with the first session (most servers never carry a long-lived one). */
  #sessions: Set<Session> | null
  /** This server's counters, created on its first count (metrics.ts; null = none yet). */
  metrics: ServerStats | null

  constructor(service: ServiceSpec, spec: ServerSpec, queue: WaitQueue = new WaitQueue(service.name)) {
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
    this.engine = null
    this.downReason = ''
    this.#hostPort = null
    this.health = null
    this.stateUp = spec.state !== 'down'
    this.runtimeAdmin = null
    this.runtimeWeight = null
    this.queue = queue
    this.#sessions = null
    this.metrics = null
    this.up = spec.state !== 'down'
    this.admin = adminState(spec)
  }

  /**
   * Recompute `up`, `admin` and `effectiveWeight` from their sources: address resolution, the provider's state,
   * the health checker (by `check.source`), runtime overrides and slowstart. Called on every change of any.
   */
  recompute(now: number): void {
    const h = this.health
    const source = this.serviceSpec.check?.source ?? 'consul'
    const checked = h === null || !h.active ? this.stateUp : source === 'both' ? h.up && this.stateUp : h.up
    this.up = this.downReason === '' && checked
    this.admin = this.runtimeAdmin ?? adminState(this.spec)
    const weight = this.runtimeWeight ?? this.spec.weight
    this.weight = weight
    this.effectiveWeight = h === null ? weight : h.effectiveWeight(weight, now)
  }

  /** `host:port` as configured, the upstream Host header for `host_header: dst`. */
  get hostPort(): string {
    if (this.#hostPort === null) {
      const { host, port } = this
      this.#hostPort = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
    }
    return this.#hostPort
  }

  /** Open long-lived sessions on this server (TCP sessions, WebSocket tunnels), for `shutdown-sessions`. */
  get sessions(): Set<Session> {
    if (this.#sessions === null) this.#sessions = new Set()
    return this.#sessions
  }

  /** The pool for the current address, created on first use; null while the address is unknown. */
  ensureDispatcher(): UpstreamDispatcher | null {
    if (this.dispatcher === null && this.engine !== null && this.address !== '') {
      this.dispatcher = this.engine.createDispatcher(poolOptions(this))
    }
    return this.dispatcher
  }

  /** Take the settings of a new snapshot that did not change this server's pool identity. */
  update(service: ServiceSpec, spec: ServerSpec): void {
    this.spec = spec
    this.serviceSpec = service
    this.maxconn = spec.maxconn
    this.stateUp = spec.state !== 'down'
    this.recompute(Date.now())
  }
}

/** A long-lived session on a server (`Upstream.sessions`). */
interface Session {
  shutdown(reason: string): void
}

/** Pool settings for the current address (only when the pool is created). */
function poolOptions(up: Upstream): DispatcherOptions {
  const s = up.serviceSpec
  return {
    origin: formatOrigin(s.proto, up.address, up.port),
    servername: isIP(up.host) !== 0 ? '' : up.host,
    connectTimeout: s.timeouts.connect,
    keepAliveTimeout: s.timeouts.keepAlive,
    connections: s.maxConnections,
    tlsSkipVerify: s.tlsSkipVerify,
    sendProxy: s.sendProxy ?? 'none',
  }
}

function adminState(spec: ServerSpec): 'ready' | 'drain' | 'maint' {
  return spec.state === 'drain' ? 'drain' : spec.state === 'maint' ? 'maint' : 'ready'
}

export class ServiceRuntime {
  readonly spec: ServiceSpec
  readonly pool: Pool
  readonly upstreams: readonly Upstream[]
  readonly queue: WaitQueue
  /** ms a request may wait in the queue (`timeouts.queue`, default `timeouts.connect`). */
  readonly queueTimeout: number
  /** This service's counters, set by `Metrics.sync` when the table swaps (null = not counted). */
  metrics: ServiceStats | null
  constructor(spec: ServiceSpec, upstreams: readonly Upstream[], queue: WaitQueue) {
    this.metrics = null
    this.spec = spec
    this.upstreams = upstreams
    this.pool = new Pool(spec.name, spec.balance, upstreams)
    this.queue = queue
    this.queueTimeout = spec.queueTimeout ?? spec.timeouts.connect
    queue.max = spec.maxqueue ?? 0
  }
}

/** A request or connection to `up` finished: free its slot and hand it to the oldest waiter. */
export function releaseSlot(up: Upstream): void {
  up.inflight--
  if (up.queue.items.length > 0) up.queue.drain()
}

/** Passive check, connection level (haproxy observe layer4 — and layer7 counts connect failures too). */
export function observeConnect(up: Upstream, ok: boolean): void {
  const h = up.health
  if (h === null || h.observe === null) return
  if (!ok) h.report(false)
  else if (h.observe.observe === 'layer4') h.report(true)
}

/** Passive check, response status (haproxy observe layer7: 100-499, 501, 505 are good). status 0 = timeout. */
export function observeStatus(up: Upstream, status: number): void {
  const h = up.health
  if (h === null || h.observe === null || h.observe.observe !== 'layer7') return
  h.report(status !== 0 && goodLayer7Status(status))
}

/**
 * Whether `up` (of the last snapshot) has the pool identity of `server` in `service`: a change in any of these
 * needs a new pool. (Compared field by field: a key string per server cost ≈ 100 bytes × 30,000 servers.)
 */
function samePool(up: Upstream, service: ServiceSpec, server: ServerSpec): boolean {
  const was = up.serviceSpec
  const s = up.spec
  return (
    s.host === server.host &&
    s.port === server.port &&
    s.backup === server.backup &&
    (was === service ||
      (was.proto === service.proto &&
        was.tlsSkipVerify === service.tlsSkipVerify &&
        was.maxConnections === service.maxConnections &&
        (was.sendProxy ?? 'none') === (service.sendProxy ?? 'none') &&
        was.timeouts.connect === service.timeouts.connect &&
        was.timeouts.keepAlive === service.timeouts.keepAlive))
  )
}

function formatOrigin(proto: string, address: string, port: number): string {
  return isIP(address) === 6 ? `${proto}://[${address}]:${port}` : `${proto}://${address}:${port}`
}

/**
 * The map key of a server: its `service/server` label, made unique when a snapshot repeats a server name in
 * one service (config validation and Consul IDs rule it out; the key must still not collide).
 */
function key(keys: ReadonlyMap<string, unknown>, label: string): string {
  if (!keys.has(label)) return label
  let i = 1
  while (keys.has(`${label}\0${i}`)) i++
  return `${label}\0${i}`
}

export class UpstreamSet {
  readonly #engine: Engine
  readonly #addresses: AddressBook
  #services: Map<string, ServiceRuntime>
  /** Every upstream by its `service/server` label. */
  #byKey: Map<string, Upstream>

  constructor(engine: Engine, addresses: AddressBook) {
    this.#engine = engine
    this.#addresses = addresses
    this.#services = new Map()
    this.#byKey = new Map()
  }

  /** Every upstream of the current snapshot. */
  all(): IterableIterator<Upstream> {
    return this.#byKey.values()
  }

  /** shutdown-sessions: close every connection to `up` now (pooled HTTP connections, TCP sessions, tunnels). */
  shutdownSessions(up: Upstream, reason: string): void {
    for (const s of [...up.sessions]) s.shutdown(reason)
    const d = up.dispatcher
    if (d !== null) {
      up.dispatcher = null
      void d.destroy()
      this.refresh(up)
    }
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
      // The same spec object as last time (providers and merge keep unchanged services as the same objects):
      // keep its runtime whole, so a change elsewhere costs no pass over its servers and keeps its balancer's
      // position (a Consul change in one service no longer resets round-robin in all the others).
      const prev = this.#services.get(service.name)
      if (prev !== undefined && prev.spec === service) {
        for (const up of prev.upstreams) nextByKey.set(key(nextByKey, up.label), up)
        services.set(service.name, prev)
        continue
      }
      // The service's queue outlives its runtime (waiters stay queued across a change of the service).
      const queue = prev?.queue ?? new WaitQueue(service.name)
      const servers = service.servers
      const ups: Upstream[] = []
      for (let i = 0; i < servers.length; i++) {
        const server = servers[i] as ServerSpec
        const k = key(nextByKey, `${service.name}/${server.name}`)
        // Same pool identity: keep the object, so in-flight requests and counters stay on it.
        let up = this.#byKey.get(k)
        if (up === undefined || !samePool(up, service, server)) up = new Upstream(service, server, queue)
        else {
          up.update(service, server)
          up.queue = queue
        }
        nextByKey.set(k, up)
        ups.push(up)
      }
      // slice: an array grown by push keeps room for 17 servers (≈ 150 bytes) where most services have 1–3.
      services.set(service.name, new ServiceRuntime(service, ups.slice(), queue))
    }
    for (const [key, old] of this.#byKey) {
      if (nextByKey.get(key) !== old && old.dispatcher !== null) {
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
      up.recompute(Date.now())
    }
    if (address === up.address && up.engine !== null) return
    const previous = up.dispatcher
    up.address = address
    up.engine = this.#engine
    up.dispatcher = null
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
