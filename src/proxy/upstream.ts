/**
 * Upstream servers at runtime: one Upstream (a balance Backend plus its connection pool) per server,
 * grouped per service. Rebuilt from each Snapshot; unchanged servers keep their pools across swaps,
 * removed ones are closed gracefully (in-flight requests finish).
 */
import type { ServerStats, ServiceStats } from '../metrics/stats.js'
import { checkBalance, Pool } from '../balance/pool.js'
import { Backend, type AdminState } from '../balance/backend.js'
import type { ServerSpec, ServiceSpec, Snapshot } from '../model/snapshot.js'
import type { ServerHealthView as ServerHealth } from '../health/view.js'
import { goodLayer7Status } from '../health/state.js'
import { WaitQueue } from './queue.js'
import { ConnPool, type PoolOptions } from './h1/pool.js'
import type { Deadlines } from './timers.js'
import { isIP } from 'node:net'

/** What every server's connection pool shares: the process's deadline heap and the response head limit. */
export interface PoolEnv {
  readonly deadlines: Deadlines
  readonly maxHeaderSize: number
}

/** Where hostnames get their addresses (src/net/resolver.ts in production; a stub in tests). */
export interface AddressBook {
  /** Current address for `host`, or undefined when unknown/failed. Must not block. */
  peek(host: string): string | undefined
  /** Why `host` has no address ('' when it has one). */
  failure(host: string): string
}

export class Upstream extends Backend {
  declare spec: ServerSpec
  declare serviceSpec: ServiceSpec
  /** Address the pool connects to ('' = not resolved). */
  address: string
  /**
   * The connection pool, created on first use (`ensurePool`) from the address and the service's settings:
   * 10k idle services cost no pools and no pool settings.
   */
  pool: ConnPool | null
  /** What pools are made with; null until the address is known. */
  env: PoolEnv | null
  /** Active/passive health of this server; null = not checked (health is whatever the provider says). */
  health: ServerHealth | null
  /** The service's wait queue (shared by its servers, kept across snapshots). */
  queue: WaitQueue
  /**
   * The rarely set parts (`downReason`, runtime overrides, `hostPort`, `sessions`), in one object made when one
   * of them is first set: most servers never need any, and each field costs 240 KB at 30,000 servers.
   */
  #extra: UpstreamExtra | null
  /** This server's counters, created on its first count (metrics.ts; null = none yet). */
  metrics: ServerStats | null

  constructor(service: ServiceSpec, spec: ServerSpec, queue: WaitQueue = new WaitQueue(service.name)) {
    super(spec, service)
    this.address = ''
    this.pool = null
    this.env = null
    this.health = null
    this.queue = queue
    this.#extra = null
    this.metrics = null
    this.up = spec.state !== 'down'
    this.admin = adminState(spec)
  }

  /**
   * `service/server`, for logs, errors and the admin API. Made on each use (not per request): a kept label
   * string cost ≈ 60 bytes × 30,000 servers.
   */
  get label(): string {
    return `${this.serviceSpec.name}/${this.spec.name}`
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

  /** The provider's verdict (snapshot state is not `down`). */
  get stateUp(): boolean {
    return this.spec.state !== 'down'
  }

  /** Why the server is not usable ('' when fine). */
  get downReason(): string {
    return this.#extra === null ? '' : this.#extra.downReason
  }

  set downReason(why: string) {
    if (why !== '' || this.#extra !== null) this.#more().downReason = why
  }

  /** Runtime override (haproxy `set server … state`); kept across snapshots. null = none. */
  get runtimeAdmin(): AdminState | null {
    return this.#extra === null ? null : this.#extra.runtimeAdmin
  }

  set runtimeAdmin(admin: AdminState | null) {
    if (admin !== null || this.#extra !== null) this.#more().runtimeAdmin = admin
  }

  /** Runtime override (haproxy `set weight`); kept across snapshots. null = none. */
  get runtimeWeight(): number | null {
    return this.#extra === null ? null : this.#extra.runtimeWeight
  }

  set runtimeWeight(weight: number | null) {
    if (weight !== null || this.#extra !== null) this.#more().runtimeWeight = weight
  }

  /** `host:port` as configured, the upstream Host header for `host_header: dst`. */
  get hostPort(): string {
    const x = this.#more()
    if (x.hostPort === null) {
      const { host, port } = this.spec
      x.hostPort = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
    }
    return x.hostPort
  }

  /** Open long-lived sessions on this server (TCP sessions, WebSocket tunnels), for `shutdown-sessions`. */
  get sessions(): Set<Session> {
    const x = this.#more()
    if (x.sessions === null) x.sessions = new Set()
    return x.sessions
  }

  #more(): UpstreamExtra {
    if (this.#extra === null)
      this.#extra = {
        downReason: '',
        runtimeAdmin: null,
        runtimeWeight: null,
        hostPort: null,
        sessions: null,
      }
    return this.#extra
  }

  /** The pool for the current address, created on first use; null while the address is unknown. */
  ensurePool(): ConnPool | null {
    const env = this.env
    if (this.pool === null && env !== null && this.address !== '') {
      this.pool = new ConnPool(poolOptions(this, env), env.deadlines, this.serviceSpec.timeouts.body)
    }
    return this.pool
  }

  /** Take the settings of a new snapshot that did not change this server's pool identity. */
  update(service: ServiceSpec, spec: ServerSpec): void {
    this.spec = spec
    this.serviceSpec = service
    this.maxconn = spec.maxconn
    this.recompute(Date.now())
  }
}

/** A long-lived session on a server (`Upstream.sessions`). */
interface Session {
  shutdown(reason: string): void
}

/** The rarely used parts of an Upstream, in one object made on first use. */
interface UpstreamExtra {
  downReason: string
  runtimeAdmin: AdminState | null
  runtimeWeight: number | null
  hostPort: string | null
  sessions: Set<Session> | null
}

/** Pool settings for the current address (only when the pool is created). */
function poolOptions(up: Upstream, env: PoolEnv): PoolOptions {
  const s = up.serviceSpec
  return {
    address: up.address,
    port: up.port,
    tls: s.proto === 'https',
    servername: isIP(up.host) !== 0 ? '' : up.host,
    tlsSkipVerify: s.tlsSkipVerify,
    connectTimeout: s.timeouts.connect,
    keepAlive: s.timeouts.keepAlive,
    max: s.maxConnections,
    sendProxy: s.sendProxy ?? 'none',
    maxHeaderSize: env.maxHeaderSize,
  }
}

function adminState(spec: ServerSpec): 'ready' | 'drain' | 'maint' {
  return spec.state === 'drain' ? 'drain' : spec.state === 'maint' ? 'maint' : 'ready'
}

/** Makes the upstreams of `svc` (refreshed: address looked up); `keep` = they become `svc.upstreams`. */
export type UpstreamMaker = (svc: ServiceRuntime, keep: boolean) => readonly Upstream[]

/**
 * One service of the current snapshot at runtime. Its upstreams and balancer are made on first use (a request,
 * an active check, the admin API): a given lb sees traffic for few of 10,000 discovered services, and an
 * Upstream costs ≈ 180 bytes, so 30,000 never-used servers were ≈ 5 MB of heap. A service whose upstreams
 * exist passes them on to its next runtime (connections, counters and health stay on them).
 */
export class ServiceRuntime {
  readonly spec: ServiceSpec
  /** This service's counters, set by `Metrics.sync` when the table swaps (null = not counted). */
  metrics: ServiceStats | null
  /** `pool`, made on first use: most of 10,000 discovered services see no request through a given lb. */
  #pool: Pool | null
  #upstreams: readonly Upstream[] | null
  /** `queue`, made with the upstreams or on first use (kept across snapshots: waiters stay queued). */
  #queue: WaitQueue | null
  /** Makes `#upstreams` when they are first needed (null when they were given). */
  readonly #make: UpstreamMaker | null

  /** `upstreams` null: made by `make` on first use. */
  constructor(
    spec: ServiceSpec,
    upstreams: readonly Upstream[] | null,
    queue: WaitQueue | null,
    make: UpstreamMaker | null = null,
  ) {
    checkBalance(spec.balance)
    if (upstreams === null && make === null) throw new TypeError('ServiceRuntime needs upstreams or a maker')
    this.metrics = null
    this.spec = spec
    this.#upstreams = upstreams
    this.#make = upstreams === null ? make : null
    this.#pool = null
    this.#queue = queue
    if (queue !== null) queue.max = spec.maxqueue ?? 0
  }

  /** The service's wait queue (shared by its upstreams). */
  get queue(): WaitQueue {
    if (this.#queue === null) {
      this.#queue = new WaitQueue(this.spec.name)
      this.#queue.max = this.spec.maxqueue ?? 0
    }
    return this.#queue
  }

  /** The queue if it has been made, else null (nothing ever waited on a service without one). */
  get madeQueue(): WaitQueue | null {
    return this.#queue
  }

  /** One Upstream per server of the spec, in its order; made on first use. */
  get upstreams(): readonly Upstream[] {
    return this.#upstreams ?? this.#makeUpstreams()
  }

  /** The upstreams if they have been made, else null (for passes over every service that must not make them). */
  get madeUpstreams(): readonly Upstream[] | null {
    return this.#upstreams
  }

  /**
   * The upstreams as they are, or, when not made yet, fresh ones that are not kept (what they would be now: a
   * metrics scrape reads servers' state without making 30,000 Upstreams for good).
   */
  peekUpstreams(): readonly Upstream[] {
    return this.#upstreams ?? (this.#make as UpstreamMaker)(this, false)
  }

  #makeUpstreams(): readonly Upstream[] {
    const ups = (this.#make as UpstreamMaker)(this, true)
    this.#upstreams = ups
    return ups
  }

  /** The balancer over `upstreams` (picker state lives here, so it is kept while the runtime is). */
  get pool(): Pool {
    return this.#pool ?? this.#newPool()
  }

  #newPool(): Pool {
    const pool = new Pool(this.spec.name, this.spec.balance, this.upstreams)
    this.#pool = pool
    return pool
  }

  /** ms a request may wait in the queue (`timeouts.queue`, default `timeouts.connect`). */
  get queueTimeout(): number {
    return this.spec.queueTimeout ?? this.spec.timeouts.connect
  }
}

/** A request or connection to `up` finished: free its slot and hand it to the oldest waiter. */
export function releaseSlot(up: Upstream): void {
  up.inflight--
  if (up.queue.length > 0) up.queue.drain()
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
        was.timeouts.body === service.timeouts.body &&
        was.timeouts.keepAlive === service.timeouts.keepAlive))
  )
}

export class UpstreamSet {
  readonly #env: PoolEnv
  readonly #addresses: AddressBook
  #services: Map<string, ServiceRuntime>
  /** Makes a service's upstreams on first use (one function for every service, no closure each). */
  readonly #make: UpstreamMaker

  constructor(env: PoolEnv, addresses: AddressBook) {
    this.#env = env
    this.#addresses = addresses
    this.#services = new Map()
    this.#make = (svc, keep) => this.#makeUpstreams(svc, keep)
  }

  /** Every upstream made so far of the current snapshot (a service's are made on first use). */
  *all(): IterableIterator<Upstream> {
    for (const svc of this.#services.values()) {
      const ups = svc.madeUpstreams
      if (ups !== null) yield* ups
    }
  }

  #makeUpstreams(svc: ServiceRuntime, keep: boolean): readonly Upstream[] {
    const servers = svc.spec.servers
    const ups: Upstream[] = new Array<Upstream>(servers.length)
    // A view (not kept) gets a queue of its own rather than making the service's.
    const queue = keep ? svc.queue : (svc.madeQueue ?? new WaitQueue(svc.spec.name))
    for (let i = 0; i < servers.length; i++) {
      const up = new Upstream(svc.spec, servers[i] as ServerSpec, queue)
      if (keep) this.refresh(up)
      else this.#peekAddress(up)
      ups[i] = up
    }
    return ups
  }

  /** `refresh` without making the pool settings: only `up`/`downReason` for a view that is not kept. */
  #peekAddress(up: Upstream): void {
    if (isIP(up.host) !== 0 || this.#addresses.peek(up.host) !== undefined) return
    up.up = false
    up.downReason = this.#addresses.failure(up.host) || `cannot resolve ${up.host}`
  }

  /** shutdown-sessions: close every connection to `up` now (pooled HTTP connections, TCP sessions, tunnels). */
  shutdownSessions(up: Upstream, reason: string): void {
    for (const s of [...up.sessions]) s.shutdown(reason)
    const pool = up.pool
    if (pool !== null) {
      up.pool = null
      pool.destroyAll()
      this.refresh(up)
    }
  }

  get services(): ReadonlyMap<string, ServiceRuntime> {
    return this.#services
  }

  /**
   * Build the runtime services for `snapshot`. Upstreams whose pool identity is unchanged are kept
   * (with their connections and counters); the rest are closed once their in-flight requests finish.
   * A server is the same server when its service and server names are (found through the service's previous
   * runtime: no map of every server is kept between snapshots).
   */
  apply(
    snapshot: Snapshot,
    changed: SnapshotChange | null = null,
    inPlace = false,
  ): Map<string, ServiceRuntime> {
    if (changed !== null) return this.#applyChange(changed, inPlace)
    const previous = this.#services
    const services = new Map<string, ServiceRuntime>()
    for (const service of snapshot.services) {
      // A name repeated in one snapshot (config validation rules it out): the first one wins.
      if (services.has(service.name)) continue
      // The same spec object as last time (providers and merge keep unchanged services as the same objects):
      // keep its runtime whole, so a change elsewhere costs no pass over its servers and keeps its balancer's
      // position (a Consul change in one service no longer resets round-robin in all the others).
      const prev = previous.get(service.name)
      services.set(
        service.name,
        prev !== undefined && prev.spec === service ? prev : this.#runtime(service, prev),
      )
    }
    for (const [name, prev] of previous)
      if (!services.has(name)) for (const up of prev.madeUpstreams ?? []) closePool(up)
    this.#services = services
    // Kept runtimes are as they were (address changes reach them through `refreshHost`): refresh the others only.
    for (const svc of services.values()) {
      if (previous.get(svc.spec.name) === svc) continue
      const ups = svc.madeUpstreams
      if (ups !== null) for (const up of ups) this.refresh(up)
    }
    return services
  }

  /**
   * `apply` for a snapshot that differs from the last applied one by `changed` only: the other services'
   * runtimes are the same objects, so only the changed names are looked at (a change of one service out of
   * 10,000 no longer walks the 10,000). `inPlace`: change the current map rather than a copy (copying 10,000
   * entries took 2 ms): for a caller that swaps in the new state before anything else runs.
   */
  #applyChange(changed: SnapshotChange, inPlace: boolean): Map<string, ServiceRuntime> {
    const previous = inPlace ? null : this.#services
    const services = previous === null ? this.#services : new Map(previous)
    const specs = new Map<string, ServiceSpec>()
    for (const s of changed.addedServices) if (!specs.has(s.name)) specs.set(s.name, s)
    for (const name of changed.services) {
      const prev = (previous ?? services).get(name)
      const spec = specs.get(name)
      if (spec === undefined) {
        services.delete(name)
        for (const up of prev?.madeUpstreams ?? []) closePool(up)
        continue
      }
      if (prev !== undefined && prev.spec === spec) continue
      const svc = this.#runtime(spec, prev)
      services.set(name, svc)
      for (const up of svc.madeUpstreams ?? []) this.refresh(up)
    }
    this.#services = services
    return services
  }

  /** The runtime of `service`, keeping what it can of `prev` (same name, another spec). */
  #runtime(service: ServiceSpec, prev: ServiceRuntime | undefined): ServiceRuntime {
    // The service's queue outlives its runtime (waiters stay queued across a change of the service).
    const made = prev?.madeUpstreams ?? null
    // Nothing made for the previous runtime: nothing to keep, and this one makes its own on first use.
    if (made === null) return new ServiceRuntime(service, null, prev?.madeQueue ?? null, this.#make)
    const queue = (prev as ServiceRuntime).queue
    const old = byName(made)
    const servers = service.servers
    const ups: Upstream[] = []
    for (let i = 0; i < servers.length; i++) {
      const server = servers[i] as ServerSpec
      // Same pool identity: keep the object, so in-flight requests and counters stay on it.
      let up = take(old, server.name)
      if (up === undefined || !samePool(up, service, server)) {
        if (up !== undefined) closePool(up)
        up = new Upstream(service, server, queue)
      } else {
        up.update(service, server)
        up.queue = queue
      }
      ups.push(up)
    }
    for (const rest of old.values()) for (const up of rest) closePool(up)
    // slice: an array grown by push keeps room for 17 servers (≈ 150 bytes) where most services have 1–3.
    return new ServiceRuntime(service, ups.slice(), queue)
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
    if (address === up.address && up.env !== null) return
    const previous = up.pool
    up.address = address
    up.env = this.#env
    up.pool = null
    if (previous !== null) previous.close()
  }

  /** Re-check every upstream using `host` (called when the resolver reports a change). */
  refreshHost(host: string): void {
    for (const up of this.all()) if (up.host === host) this.refresh(up)
  }

  /** Hostnames that need resolving. */
  hostnames(): Set<string> {
    const names = new Set<string>()
    // From the specs: servers whose upstreams are not made yet need their addresses too.
    for (const svc of this.#services.values())
      for (const server of svc.spec.servers) if (isIP(server.host) === 0) names.add(server.host)
    return names
  }

  /** Stop using the pools: idle connections close now, busy ones when their exchange ends. */
  close(): void {
    for (const up of this.all()) up.pool?.close()
  }

  /** Close every connection now. */
  destroy(): void {
    for (const up of this.all()) {
      const pool = up.pool
      up.pool = null
      pool?.destroyAll()
    }
  }
}

/**
 * How a snapshot differs from the last one applied (provider/delta.ts `Changed`): the names of the services
 * removed, added or replaced, and the specs added or replacing.
 */
export interface SnapshotChange {
  readonly services: ReadonlySet<string>
  readonly addedServices: readonly ServiceSpec[]
}

/** A service's previous upstreams by server name (a list: a name may repeat in a bad snapshot). */
function byName(ups: readonly Upstream[]): Map<string, Upstream[]> {
  const m = new Map<string, Upstream[]>()
  for (const up of ups) {
    const list = m.get(up.spec.name)
    if (list === undefined) m.set(up.spec.name, [up])
    else list.push(up)
  }
  return m
}

/** The first previous upstream named `name`, removed from `old` (so each is kept at most once). */
function take(old: Map<string, Upstream[]> | null, name: string): Upstream | undefined {
  const list = old?.get(name)
  if (list === undefined) return undefined
  const up = list.shift()
  if (list.length === 0) old?.delete(name)
  return up
}

/** `up` left the snapshot: close its pool once its in-flight requests finish. */
function closePool(up: Upstream): void {
  if (up.pool !== null) {
    up.pool.close()
    up.pool = null
  }
}
