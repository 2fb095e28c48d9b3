/**
 * The serving side: listeners, the route table and upstream pools, swapped in as one state on every snapshot
 * (rebuilding only what the snapshot changed against the last one: provider/delta.ts, route/update.ts).
 * One Worker runs in-process with `workers: 0|1`; in cluster mode every worker process runs one
 * (worker-process.ts), fed by the primary over IPC.
 */
import type { ObserveReport } from './ipc.js'
import { Metrics } from '../metrics/metrics.js'
import type { Config, DeepReadonly, ListenerConfig } from '../config/types.js'
import { tcpListenerDefaults } from '../config/defaults.js'
import type { Snapshot, TcpRouteSpec } from '../model/snapshot.js'
import type { Changed } from '../provider/delta.js'
import type { ServerStatus, ServersState } from '../health/service.js'
import { recordObservation, ServerHealthView, type ObservationSink } from '../health/view.js'
import { TcpListener, type TcpContext } from '../proxy/tcp/listener.js'
import { type Upstream, UpstreamSet } from '../proxy/upstream.js'
import { accessLines, type Logger } from '../log/log.js'
import { buildTable } from '../route/table.js'
import {
  authSchemes,
  changesOf,
  gzipTypes,
  hasHostnames,
  listenerKey,
  ResolvedAddresses,
  tableFor,
} from './worker-parts.js'
import { describeTable } from '../route/describe.js'
import { CidrSet } from '../net/cidr.js'
import { Resolver, type ResolveResult } from '../net/resolver.js'
import type { ProxyState } from '../proxy/request-path.js'
import { ConnectionBudget, keepAliveHint, TunnelSet, type ProxyContext } from '../proxy/context.js'
import { HttpListener } from '../proxy/listeners.js'
import { buildTlsContexts, type TlsContexts } from '../proxy/tls-contexts.js'
import { newTicketSecret, ticketKey, ticketPeriod, untilRotation } from '../proxy/ticket-keys.js'
import { Deadlines } from '../proxy/timers.js'
import { performance } from 'node:perf_hooks'
import { noRouteAnswer } from '../route/noroute.js'

/**
 * The servers' statuses an apply binds: for the services named in `only` (what changed; their old bindings are
 * dropped, the others kept), or every status when `only` is null (all bindings are replaced).
 */
export type ServersFor = (only: ReadonlySet<string> | null) => ServersState

export interface WorkerOptions {
  readonly config: Config
  readonly log: Logger
  readonly accessLog: Logger
  readonly rand?: () => number
  /** ms clock for health checks and slowstart (default `Date.now`, which node:test mock timers fake). */
  readonly clock?: () => number
  /** Request metrics (default: a fresh registry for this Worker). */
  readonly metrics?: Metrics
  /** The session ticket secret every process of this lb shares (src/proxy/ticket-keys.ts); default: a new one. */
  readonly ticketSecret?: Buffer
}

/** The longest delay setTimeout takes (2^31 - 1 ms); longer ones fire at once. */
const MAX_TIMER = 2_147_483_647

/** ms between slowstart weight updates while a server ramps (check results published in-process update it too). */
const rampTick = 1_000

export class Worker {
  readonly log: Logger
  readonly ctx: ProxyContext
  readonly tunnels: TunnelSet
  readonly deadlines: Deadlines
  readonly upstreams: UpstreamSet
  readonly addresses: ResolvedAddresses
  readonly tcpCtx: TcpContext
  readonly clock: () => number
  readonly metrics: Metrics
  tcpRoutes: readonly TcpRouteSpec[]
  #config: Config
  #noRoutePage: string
  /** syncListeners ran (listeners are open); tcp-dynamic listeners follow each apply from then on. */
  #listening: boolean
  /** The tcp-dynamic listener keys opened last, joined. */
  #dynamicKeys: string
  listeners: Map<string, HttpListener | TcpListener>
  #watched: Map<string, (r: ResolveResult) => void>
  #version: number
  /**
   * Where passive observations go: set to the health service's `observe` when it runs in this process; null in
   * a cluster worker, which collects them for the primary (`takeObservations`).
   */
  observer: ObservationSink | null
  /** Observation runs per server id since the last `takeObservations` (cluster workers). */
  readonly #observed: Map<number, number[]>
  /** Every health view's sink: one function for all servers. */
  readonly #sink: ObservationSink
  /** The servers the health service's ids name, bound by service and server name with each snapshot. */
  #byId: Map<number, Upstream>
  /** Last servers' state seq applied. */
  #serversSeq: number
  /** Recomputes slowstart weights while a server ramps. */
  #rampTimer: ReturnType<typeof setTimeout> | null
  /**
   * The snapshot applied last; null before the first and after a config change (the next apply builds
   * everything). Otherwise an apply rebuilds only what differs from it (`provider/delta.ts`).
   */
  #snapshot: Snapshot | null
  /** The last `changesFor` answer, for the apply that follows it. */
  #change: {
    readonly base: Snapshot | null
    readonly next: Snapshot
    readonly changed: Changed | null
  } | null
  readonly #ticketSecret: Buffer
  /** The configured TLS listeners as last synced (their current certificates and rotation). */
  #tlsListeners: readonly DeepReadonly<ListenerConfig>[]
  /** Fires at the next session ticket key change of a TLS listener (null: none rotates). */
  #ticketTimer: ReturnType<typeof setTimeout> | null

  constructor(options: WorkerOptions) {
    const { config, log } = options
    this.log = log
    this.#config = config
    this.#noRoutePage = ''
    this.#listening = false
    this.#dynamicKeys = ''
    this.#ticketSecret = options.ticketSecret ?? newTicketSecret()
    this.#ticketTimer = null
    this.#tlsListeners = []
    const ticketKeyNow = (name: string, rotation: number): Buffer =>
      ticketKey(this.#ticketSecret, name, ticketPeriod(rotation, this.clock()))
    const resolver = new Resolver({
      maxTtl: config.resolver.maxTtl,
      minTtl: config.resolver.minTtl,
      retry: config.resolver.retry,
      cacheSize: config.resolver.cacheSize,
    })
    this.addresses = new ResolvedAddresses(resolver)
    this.deadlines = new Deadlines()
    this.upstreams = new UpstreamSet(
      { deadlines: this.deadlines, maxHeaderSize: config.http.maxHeaderSize },
      this.addresses,
    )
    this.tunnels = new TunnelSet()
    this.#watched = new Map()
    this.#version = 0
    this.metrics = options.metrics ?? new Metrics({ enabled: config.metrics.enabled })
    this.ctx = {
      state: { table: buildTable([], { pathMatch: config.http.pathMatch }), services: new Map(), version: 0 },
      trustedProxies: new CidrSet(config.http.trustedProxies),
      requestIdHeader: config.http.requestIdHeader.toLowerCase(),
      clientIpHeader: config.http.clientIpHeader,
      clientIpLower: config.http.clientIpHeader.toLowerCase(),
      forwardedBy: config.http.localIp,
      certHeaders: certHeaderNames(config),
      ticketKey: ticketKeyNow,
      auth: authSchemes(config),
      accessDetail: !['json', 'httplog'].includes(config.log.access.format),
      noRoute: noRouteAnswer(config.http.noRoute),
      accessLog: options.accessLog,
      log,
      rand: options.rand ?? Math.random,
      now: () => performance.now(),
      connections: new ConnectionBudget(config.http.maxconn),
      metrics: this.metrics,
      deadlines: this.deadlines,
      timeouts: config.http.timeouts,
      maxHeaderSize: config.http.maxHeaderSize,
      http2: config.http.http2,
      tunnels: this.tunnels,
      keepAliveHint: keepAliveHint(config.http.timeouts.keepAlive),
      accessLines: accessLines(options.accessLog),
      gzip: gzipTypes(config),
    }
    this.listeners = new Map()
    this.clock = options.clock ?? Date.now
    this.metrics.tcpListeners = () => this.#tcpListenerViews()
    this.tcpRoutes = []
    this.observer = null
    this.#observed = new Map()
    this.#sink = (id, ok) => this.#observe(id, ok)
    this.#byId = new Map()
    this.#serversSeq = 0
    this.#rampTimer = null
    this.#snapshot = null
    this.#change = null
    this.tcpCtx = {
      state: () => this.ctx.state,
      tcpRoutes: () => this.tcpRoutes,
      accessLog: options.accessLog,
      log,
      rand: this.ctx.rand,
      now: this.ctx.now,
      metrics: this.metrics,
      deadlines: this.deadlines,
      ticketKey: ticketKeyNow,
    }
  }

  get config(): Config {
    return this.#config
  }

  /** A new configuration (reload): the parts of the request path read per request follow it at once. */
  set config(config: Config) {
    this.#config = config
    this.#snapshot = null
    this.ctx.auth = authSchemes(config)
    this.ctx.noRoute = noRouteAnswer(config.http.noRoute, this.#noRoutePage)
    this.ctx.gzip = gzipTypes(config)
  }

  /** The no-route page from Consul KV (`consul.no_route_key`; '' = none): replaces the configured page. */
  setNoRoutePage(page: string): void {
    this.#noRoutePage = page
    this.ctx.noRoute = noRouteAnswer(this.#config.http.noRoute, page)
  }

  /** Open sessions per TCP listener, for `lb_tcp_connections_active`. */
  #tcpListenerViews(): { name: string; active: number }[] {
    const out: { name: string; active: number }[] = []
    for (const l of this.listeners.values())
      if (l instanceof TcpListener) out.push({ name: l.info.name, active: l.sessions.size })
    return out
  }

  /**
   * The health service's statuses (health verdict, counters, slowstart start, runtime overrides), applied by id
   * with the same consequences wherever they come from: shutdown-sessions on DOWN, queues woken. An entry that
   * names its service and server binds its id to that server. An older state than the last one is ignored.
   */
  applyServers(state: ServersState): void {
    if (state.seq < this.#serversSeq) return
    this.#serversSeq = state.seq
    this.#applyStatuses(state.servers)
  }

  #applyStatuses(servers: readonly ServerStatus[]): void {
    const now = this.clock()
    let ramping = false
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i] as ServerStatus
      const u = s.service === undefined ? this.#byId.get(s.id) : this.#bind(s)
      if (u === undefined) continue
      u.runtimeAdmin = s.admin
      u.runtimeWeight = s.weight
      const h = u.health
      let wentDown = false
      if (h !== null && s.health !== null) {
        const v = s.health
        const changed = h.up !== v.up
        wentDown = h.up && !v.up
        h.apply(v)
        if (h.ramping(now)) ramping = true
        if (changed)
          this.log.info({ server: u.label, up: v.up, status: h.status() }, 'server verdict from primary')
      }
      u.recompute(now)
      if (wentDown && u.serviceSpec.onMarkedDown === 'shutdown-sessions')
        this.upstreams.shutdownSessions(u, 'server marked down')
      if (u.queue.length > 0) u.queue.drain()
    }
    if (ramping) this.#armRamp()
  }

  /** Bind a status's id to its server in the current snapshot (made now if its service had none made yet). */
  #bind(s: ServerStatus): Upstream | undefined {
    const svc = this.upstreams.services.get(s.service as string)
    if (svc === undefined) return undefined
    const ups = svc.upstreams
    for (let i = 0; i < ups.length; i++) {
      const u = ups[i] as Upstream
      if (u.name !== s.server) continue
      this.#byId.set(s.id, u)
      if (u.health !== null) u.health.id = s.id
      return u
    }
    return undefined
  }

  /** The server the health service calls `id` (for its check durations). */
  upstreamById(id: number): Upstream | undefined {
    return this.#byId.get(id)
  }

  #armRamp(): void {
    if (this.#rampTimer !== null) return
    this.#rampTimer = setTimeout(() => {
      this.#rampTimer = null
      const now = this.clock()
      let ramping = false
      for (const u of this.upstreams.all()) {
        const h = u.health
        if (h === null || h.slowstart === 0) continue
        u.recompute(now)
        if (h.ramping(now)) ramping = true
      }
      if (ramping) this.#armRamp()
    }, rampTick)
    this.#rampTimer.unref()
  }

  /** A passive observation: to the health service in this process, else collected for the primary. */
  #observe(id: number, ok: boolean): void {
    const observer = this.observer
    if (observer !== null) {
      observer(id, ok)
      return
    }
    // Hot path: one Map lookup per observation, an allocation only when a new failure run starts.
    let runs = this.#observed.get(id)
    if (runs === undefined) {
      runs = [0]
      this.#observed.set(id, runs)
    }
    recordObservation(runs, ok)
  }

  /** Passive observations collected since the last call, per server id; null when there are none. */
  takeObservations(): ObserveReport | null {
    const observed = this.#observed
    if (observed.size === 0) return null
    const out: [number, number[]][] = []
    for (const [id, runs] of observed) out.push([id, runs])
    observed.clear()
    return out
  }

  /**
   * Give every server of an actively checked service (that did not opt out) a health view, kept across
   * snapshots with the server; the others have none (they are as healthy as the provider says).
   */
  #bindHealth(only: ReadonlySet<string> | null): void {
    // Checked services get their upstreams now (the others make them on first use).
    const services = this.upstreams.services
    if (only === null) {
      for (const svc of services.values()) if (svc.spec.check !== undefined) void svc.upstreams
    } else {
      for (const name of only) {
        const svc = services.get(name)
        if (svc !== undefined && svc.spec.check !== undefined) void svc.upstreams
      }
    }
    const now = this.clock()
    for (const u of only === null ? this.upstreams.all() : this.#madeOf(only)) {
      const spec = u.serviceSpec.check
      if (spec === undefined || u.spec.check === false) {
        u.health = null
      } else {
        const observe = u.serviceSpec.observe ?? null
        const slowstart = u.serviceSpec.slowstart ?? 0
        const h = u.health
        if (h === null) u.health = new ServerHealthView(0, spec, observe, slowstart, this.#sink)
        else {
          h.spec = spec
          h.observe = observe
          h.slowstart = slowstart
          h.active = spec.source !== 'consul'
        }
      }
      u.recompute(now)
    }
  }

  /** The upstreams made so far of the services named in `names`. */
  *#madeOf(names: ReadonlySet<string>): IterableIterator<Upstream> {
    const services = this.upstreams.services
    for (const name of names) {
      const ups = services.get(name)?.madeUpstreams
      if (ups !== undefined && ups !== null) yield* ups
    }
  }

  get state(): ProxyState {
    return this.ctx.state
  }

  /** How `snapshot` differs from the last one applied (null: every part is rebuilt), as `apply` will take it. */
  changesFor(snapshot: Snapshot): Changed | null {
    const memo = this.#change
    if (memo !== null && memo.base === this.#snapshot && memo.next === snapshot) return memo.changed
    const changed = changesOf(this.#snapshot, snapshot)
    this.#change = { base: this.#snapshot, next: snapshot, changed }
    return changed
  }

  /**
   * Resolve hostnames, build the table and pools (or update them for what changed since the last snapshot), take
   * the servers' statuses (`servers`: the health service's state for this snapshot, or for the changed services
   * only), and swap them in: the table, the services and the TCP routes change together. `known`: how `snapshot`
   * differs from the last one applied, when the caller has it (a delta applied in place, provider/delta.ts
   * `applyDeltaInPlace`: the two are then one object, which `changesFor` cannot compare); taken only while the
   * last apply stands.
   */
  async apply(snapshot: Snapshot, servers?: ServersState | ServersFor, known?: Changed): Promise<void> {
    const changed = known !== undefined && this.#snapshot !== null ? known : this.changesFor(snapshot)
    this.#change = null
    // Until this apply completes, the next one builds everything.
    this.#snapshot = null
    // In place when nothing is awaited before the swap below (no hostname to resolve, no tcp-dynamic listener to
    // open): no request can see the services of one snapshot with the table of the other.
    const inPlace = changed !== null && !hasHostnames(changed) && !this.config.tcpDynamic
    const services = this.upstreams.apply(snapshot, changed, inPlace)
    if (this.#listening && this.config.tcpDynamic) {
      const keys = [...this.#dynamicListeners(this.config, snapshot.tcpRoutes).keys()].sort().join('\n')
      if (keys !== this.#dynamicKeys)
        await this.#syncListeners(this.config, this.config.shutdown.timeout, snapshot.tcpRoutes)
    }
    if ((snapshot.noRoutePage ?? '') !== this.#noRoutePage) this.setNoRoutePage(snapshot.noRoutePage ?? '')
    this.#bindHealth(changed === null ? null : changed.services)
    if (servers !== undefined) {
      const partial = typeof servers === 'function' && changed !== null
      const state =
        typeof servers === 'function' ? servers(changed === null ? null : changed.services) : servers
      if (partial) {
        // Only the changed services' statuses come: the other servers keep their ids.
        for (const [id, u] of this.#byId) if (changed.services.has(u.serviceSpec.name)) this.#byId.delete(id)
      } else this.#byId = new Map()
      if (state.seq > this.#serversSeq) this.#serversSeq = state.seq
      this.#applyStatuses(state.servers)
    }
    if (changed === null || hasHostnames(changed)) await this.#resolveAll()
    // The table last, with no await before the swap: an update changes the current table in place.
    const table = tableFor(this.ctx.state.table, snapshot, changed, this.config.http.pathMatch)
    this.#snapshot = snapshot
    this.#version++
    this.ctx.state = { table, services, version: this.#version }
    this.tcpRoutes = snapshot.tcpRoutes
    this.metrics.sync(table, services, this.#version, changed === null ? null : changed.services)
    if (this.log.isLevelEnabled('debug')) this.log.debug({ table: describeTable(table) }, 'route table')
    this.log.info(
      { version: this.#version, routes: table.size, services: services.size },
      'route table swapped',
    )
  }

  async #resolveAll(): Promise<void> {
    const resolver = this.addresses.resolver
    const names = this.upstreams.hostnames()
    await Promise.all(
      [...names].map(async (host) => {
        const result = await resolver.resolve(host)
        if (result.ok) this.addresses.reasons.delete(host)
        else this.addresses.reasons.set(host, result.reason)
        this.upstreams.refreshHost(host)
        if (!this.#watched.has(host)) {
          const onChange = (r: ResolveResult): void => {
            if (r.ok) this.addresses.reasons.delete(host)
            else {
              this.addresses.reasons.set(host, r.reason)
              this.log.warn({ host, reason: r.reason }, 'server address resolution failed')
            }
            this.upstreams.refreshHost(host)
          }
          this.#watched.set(host, onChange)
          resolver.watch(host, onChange)
        }
      }),
    )
    for (const [host, onChange] of this.#watched) {
      if (!names.has(host)) {
        resolver.unwatch(host, onChange)
        this.#watched.delete(host)
      }
    }
  }

  /**
   * The tcp-dynamic listeners the current TCP routes ask for (`tcp_dynamic: true`): one per distinct
   * `bindHost:port` (fabio `urlprefix-<ip>:<port> proto=tcp`), with the defaults of a `mode: tcp` listener.
   */
  #dynamicListeners(
    config: Config,
    tcpRoutes: readonly TcpRouteSpec[],
  ): Map<string, DeepReadonly<ListenerConfig>> {
    const out = new Map<string, DeepReadonly<ListenerConfig>>()
    if (!config.tcpDynamic) return out
    for (const r of tcpRoutes) {
      if (r.bindHost === undefined) continue
      const l: DeepReadonly<ListenerConfig> = {
        ...tcpListenerDefaults,
        name: `tcp-dynamic-${r.bindHost.includes(':') ? `[${r.bindHost}]` : r.bindHost}:${r.port}`,
        host: r.bindHost,
        port: r.port,
      }
      out.set(listenerKey(l), l)
    }
    return out
  }

  /** Open listeners that are configured but not open; close the ones no longer configured. */
  syncListeners(config: Config, closeTimeout: number): Promise<void> {
    return this.#syncListeners(config, closeTimeout, this.tcpRoutes)
  }

  /** syncListeners, with the tcp-dynamic listeners `tcpRoutes` ask for (a snapshot's, before it is swapped in). */
  async #syncListeners(
    config: Config,
    closeTimeout: number,
    tcpRoutes: readonly TcpRouteSpec[],
  ): Promise<void> {
    this.#listening = true
    const wanted = new Map<string, DeepReadonly<ListenerConfig>>()
    for (const l of config.listeners) wanted.set(listenerKey(l), l)
    const dynamic = this.#dynamicListeners(config, tcpRoutes)
    this.#dynamicKeys = [...dynamic.keys()].sort().join('\n')
    for (const [key, l] of dynamic) if (!wanted.has(key)) wanted.set(key, l)
    // Certificates first, all read before any is used: a file that fails leaves every listener as it was.
    const certs: [HttpListener | TcpListener, TlsContexts][] = []
    for (const [key, l] of wanted) {
      const open = this.listeners.get(key)
      if (open !== undefined && l.tls !== undefined)
        certs.push([open, buildTlsContexts(l.tls, this.ctx.ticketKey(l.name, l.tls.ticketRotation))])
    }
    for (const [listener, contexts] of certs) listener.setTls(contexts)
    this.ctx.certHeaders = certHeaderNames(config)
    const closing: Promise<void>[] = []
    for (const [key, listener] of this.listeners) {
      if (!wanted.has(key)) {
        this.listeners.delete(key)
        closing.push(listener.close(closeTimeout))
      }
    }
    await Promise.all(closing)
    const names = new Set<string>()
    for (const l of wanted.values()) names.add(l.name)
    this.metrics.retainListeners(names)
    for (const [key, l] of wanted) {
      if (this.listeners.has(key)) continue
      const listener = l.mode === 'tcp' ? new TcpListener(l, this.tcpCtx) : new HttpListener(l, this.ctx)
      let port: number
      try {
        port = await listener.listen()
      } catch (err) {
        // A tcp-dynamic address this host cannot bind (not its IP, in use) must not fail the whole apply.
        if (!dynamic.has(key)) throw err
        this.log.warn({ listener: l.name, err: String(err) }, 'tcp-dynamic listener could not listen')
        continue
      }
      this.listeners.set(key, listener)
      this.log.info({ listener: l.name, address: l.host === '' ? '*' : l.host, port }, 'listening')
    }
    this.#tlsListeners = config.listeners.filter((l) => l.tls !== undefined)
    this.#scheduleTicketRotation()
  }

  /** Arm the timer for the next ticket key change of any TLS listener. */
  #scheduleTicketRotation(): void {
    if (this.#ticketTimer !== null) clearTimeout(this.#ticketTimer)
    this.#ticketTimer = null
    const now = this.clock()
    let next = Infinity
    for (const l of this.#tlsListeners)
      if (l.tls !== undefined) next = Math.min(next, untilRotation(l.tls.ticketRotation, now))
    if (next === Infinity) return
    // A longer delay than a timer takes (about 24.8 days) fires early: the rotation then finds the same period.
    this.#ticketTimer = setTimeout(() => this.rotateTickets(), Math.min(next, MAX_TIMER))
    this.#ticketTimer.unref()
  }

  /**
   * New contexts with the current period's ticket key for every open TLS listener (the files are read again;
   * a listener whose files fail now keeps its contexts and key, logged), then the timer for the next change.
   */
  rotateTickets(): void {
    this.#ticketTimer = null
    for (const l of this.#tlsListeners) {
      const open = this.listeners.get(listenerKey(l))
      if (open === undefined || l.tls === undefined) continue
      try {
        open.setTls(buildTlsContexts(l.tls, this.ctx.ticketKey(l.name, l.tls.ticketRotation)))
      } catch (err) {
        this.log.warn({ listener: l.name, err: String(err) }, 'TLS ticket key rotation: certificates')
      }
    }
    this.#scheduleTicketRotation()
  }

  /** Ports actually bound, by listener name (port 0 in config = ephemeral). */
  ports(): Map<string, number> {
    const out = new Map<string, number>()
    for (const l of this.listeners.values()) out.set(l.info.name, l.info.port)
    return out
  }

  /** Stop listening, let in-flight requests finish up to `timeout`, close tunnels and pools. */
  async stop(timeout: number): Promise<void> {
    await Promise.all([...this.listeners.values()].map((l) => l.close(timeout)))
    this.listeners.clear()
    this.tunnels.closeAll()
    if (this.#rampTimer !== null) clearTimeout(this.#rampTimer)
    this.#rampTimer = null
    if (this.#ticketTimer !== null) clearTimeout(this.#ticketTimer)
    this.#ticketTimer = null
    this.addresses.resolver.close()
    this.upstreams.destroy()
    this.deadlines.close()
    // Access lines wait in a batch (src/log/log.ts): write them out before the process goes.
    ;(this.ctx.accessLog as { flush?: () => void }).flush?.()
  }
}

/** The lower-case `tls.client_header` names of the HTTPS listeners of `config`. */
function certHeaderNames(config: Config): ReadonlySet<string> {
  const out = new Set<string>()
  for (const l of config.listeners)
    if (l.mode === 'http' && l.tls !== undefined && l.tls.clientHeader !== '')
      out.add(l.tls.clientHeader.toLowerCase())
  return out
}
