/**
 * The serving side: listeners, the route table and upstream pools, swapped whole on every snapshot.
 * One Worker runs in-process with `workers: 0|1`; in cluster mode every worker process runs one
 * (`runWorkerProcess`), fed whole states by the primary over IPC.
 */
import cluster from 'node:cluster'
import {
  isToWorker,
  observeFlush,
  recordObservation,
  type FromWorker,
  type ObserveReport,
  type ServersState,
  type ServerState,
  type ToWorker,
} from './ipc.js'
import { accessLines, createAccessLogger, createLogger } from './log.js'
import { Metrics } from './metrics.js'
import { loggedMemoryRelease, type MemoryRelease } from './memory.js'
import { tcpListenerDefaults, type Config, type DeepReadonly, type ListenerConfig } from './config/schema.js'
import type { Snapshot, TcpRouteSpec } from './snapshot.js'
import { HealthChecker, type HealthTarget, type ServerHealth } from './health/checker.js'
import type { ProbeResult } from './health/probes.js'
import { TcpListener, type TcpContext } from './proxy/tcp.js'
import type { Upstream } from './proxy/upstream.js'
import type { Logger } from './log.js'
import { buildTable, describeTable } from './route/table.js'
import { CidrSet } from './net/cidr.js'
import { Resolver, type ResolveResult } from './net/resolver.js'
import type { ProxyState } from './proxy/request-path.js'
import { ConnectionBudget, keepAliveHint, TunnelSet, type ProxyContext } from './proxy/context.js'
import { HttpListener } from './proxy/listeners.js'
import { Deadlines } from './proxy/timers.js'
import { UpstreamSet, type AddressBook } from './proxy/upstream.js'
import { performance } from 'node:perf_hooks'
import { compileAuthScheme, type AuthScheme } from './route/auth.js'
import { noRouteAnswer } from './route/noroute.js'

/** The `http.auth` schemes by name, compiled (htpasswd parsed) once per config. */
function authSchemes(config: Config): Map<string, AuthScheme> {
  const out = new Map<string, AuthScheme>()
  for (const a of config.http.auth) out.set(a.name, compileAuthScheme(a))
  return out
}

export interface WorkerOptions {
  readonly config: Config
  readonly log: Logger
  readonly accessLog: Logger
  readonly rand?: () => number
  /** ms clock for health checks and slowstart (default `Date.now`, which node:test mock timers fake). */
  readonly clock?: () => number
  /** Request metrics (default: a fresh registry for this Worker). */
  readonly metrics?: Metrics
  /**
   * Cluster worker process: run no active checks and keep passive observations for the primary
   * (`takeObservations`); health verdicts and runtime overrides arrive whole with `applyServers`.
   */
  readonly remoteHealth?: boolean
  /** A server's health verdict changed (the primary re-broadcasts the servers' state). */
  readonly onServersChanged?: () => void
}

/**
 * The checker of a cluster worker process: every server stays paused (the primary checks), and passive
 * observations are collected as run lists for the primary instead of counted here. Hot path: one Map lookup
 * per observation, an allocation only when a new failure run starts.
 */
class RemoteChecker extends HealthChecker {
  readonly observed: Map<ServerHealth, number[]> = new Map()

  override observe(h: ServerHealth, ok: boolean): void {
    if (h.observe === null) return
    let runs = this.observed.get(h)
    if (runs === undefined) {
      runs = [0]
      this.observed.set(h, runs)
    }
    recordObservation(runs, ok)
  }

  override pause(h: ServerHealth): void {
    super.pause(h, true)
  }
}

/** Resolver results as the upstream set reads them, plus change notification. */
class ResolvedAddresses implements AddressBook {
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

/** ms between slowstart weight updates in a worker process (local checks update it on every result). */
const rampTick = 1_000

function listenerKey(l: DeepReadonly<ListenerConfig>): string {
  return JSON.stringify(l)
}

export class Worker {
  readonly log: Logger
  readonly ctx: ProxyContext
  readonly tunnels: TunnelSet
  readonly deadlines: Deadlines
  readonly upstreams: UpstreamSet
  readonly addresses: ResolvedAddresses
  readonly checker: HealthChecker
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
  readonly #remote: RemoteChecker | null
  readonly #onServersChanged: (() => void) | null
  /** Last `lb:servers` seq applied (remote health only). */
  #serversSeq: number
  /** Recomputes slowstart weights while a server ramps (remote health: no check results drive it). */
  #rampTimer: ReturnType<typeof setTimeout> | null

  constructor(options: WorkerOptions) {
    const { config, log } = options
    this.log = log
    this.#config = config
    this.#noRoutePage = ''
    this.#listening = false
    this.#dynamicKeys = ''
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
      tunnels: this.tunnels,
      keepAliveHint: keepAliveHint(config.http.timeouts.keepAlive),
      accessLines: accessLines(options.accessLog),
      gzip: gzipTypes(config),
    }
    this.listeners = new Map()
    this.clock = options.clock ?? Date.now
    this.metrics.tcpListeners = () => this.#tcpListenerViews()
    this.tcpRoutes = []
    this.#onServersChanged = options.onServersChanged ?? null
    this.#serversSeq = 0
    this.#rampTimer = null
    const checkerOptions = {
      now: this.clock,
      rand: this.ctx.rand,
      onChange: (h: ServerHealth, up: boolean, why: string) => this.#onHealthChange(h, up, why),
      onResult: (h: ServerHealth, r: ProbeResult) => {
        this.metrics.checkDone(h.target as Upstream, r.duration)
        if (h.ramping(this.clock()) || h.slowstart > 0) (h.target as Upstream).recompute(this.clock())
      },
    }
    this.#remote = options.remoteHealth === true ? new RemoteChecker(checkerOptions) : null
    this.checker = this.#remote ?? new HealthChecker(checkerOptions)
    this.tcpCtx = {
      state: () => this.ctx.state,
      tcpRoutes: () => this.tcpRoutes,
      accessLog: options.accessLog,
      log,
      rand: this.ctx.rand,
      now: this.ctx.now,
      metrics: this.metrics,
    }
  }

  get config(): Config {
    return this.#config
  }

  /** A new configuration (reload): the parts of the request path read per request follow it at once. */
  set config(config: Config) {
    this.#config = config
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

  /** A server's health verdict changed: recompute it, log, shutdown-sessions on DOWN, wake queues on UP. */
  #onHealthChange(h: ServerHealth, up: boolean, why: string): void {
    const u = h.target as Upstream
    u.recompute(this.clock())
    const fields = { server: u.label, status: h.status(), reason: why }
    if (up) this.log.info(fields, 'server is UP')
    else this.log.warn(fields, 'server is DOWN')
    if (!up && u.serviceSpec.onMarkedDown === 'shutdown-sessions')
      this.upstreams.shutdownSessions(u, 'server marked down')
    if (up && u.queue.length > 0) u.queue.drain()
    this.#onServersChanged?.()
  }

  /** Every server's state for `lb:servers` (the primary's view Worker, whose checker is the only one). */
  serverStates(): ServerState[] {
    const out: ServerState[] = []
    for (const u of this.upstreams.all()) {
      const h = u.health
      out.push({
        label: u.label,
        admin: u.runtimeAdmin,
        weight: u.runtimeWeight,
        health:
          h === null
            ? null
            : {
                up: h.up,
                health: h.health,
                upSince: h.upSince,
                last: h.last,
                lastPassive: h.lastPassive,
                checks: h.checks,
                failedChecks: h.failedChecks,
                downTransitions: h.downTransitions,
              },
      })
    }
    return out
  }

  /**
   * Take the primary's servers' state (remote health): health verdicts, counters, slowstart start and runtime
   * overrides, with the same consequences as a local change (shutdown-sessions on DOWN, queues woken).
   * `force` applies an equal `seq` again (after a snapshot built new Upstreams).
   */
  applyServers(state: ServersState, force = false): void {
    if (state.seq < this.#serversSeq || (state.seq === this.#serversSeq && !force)) return
    this.#serversSeq = state.seq
    const now = this.clock()
    let ramping = false
    for (const s of state.servers) {
      const u = this.upstream(s.label)
      if (u === undefined) continue
      u.runtimeAdmin = s.admin
      u.runtimeWeight = s.weight
      const h = u.health
      let wentDown = false
      if (h !== null && s.health !== null) {
        const v = s.health
        const changed = h.up !== v.up
        wentDown = h.up && !v.up
        h.up = v.up
        h.health = v.health
        h.upSince = v.upSince
        h.last = v.last
        h.lastPassive = v.lastPassive
        h.checks = v.checks
        h.failedChecks = v.failedChecks
        h.downTransitions = v.downTransitions
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

  /**
   * The server `service/server` of the current snapshot. Both names may contain '/', so every split is tried
   * (no map of 30,000 labels is kept for this).
   */
  upstream(label: string): Upstream | undefined {
    const services = this.upstreams.services
    for (let at = label.indexOf('/'); at >= 0; at = label.indexOf('/', at + 1)) {
      const svc = services.get(label.slice(0, at))
      if (svc === undefined) continue
      const name = label.slice(at + 1)
      for (const u of svc.upstreams) if (u.name === name) return u
    }
    return undefined
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

  /** Passive observations since the last call, per server label (remote health); null when there are none. */
  takeObservations(): ObserveReport | null {
    const observed = this.#remote?.observed
    if (observed === undefined || observed.size === 0) return null
    const out: [string, number[]][] = []
    for (const [h, runs] of observed) out.push([(h.target as Upstream).label, runs])
    observed.clear()
    return out
  }

  /** Track every upstream whose service has an active check (and whose server did not opt out). */
  #syncHealth(): void {
    const wanted = new Map<
      HealthTarget,
      {
        spec: NonNullable<Upstream['serviceSpec']['check']>
        observe: NonNullable<Upstream['serviceSpec']['observe']> | null
        slowstart: number
        sendProxy: 'none' | 'v1' | 'v2'
      }
    >()
    // Checked services get their upstreams now (the others make them on first use).
    for (const svc of this.upstreams.services.values()) if (svc.spec.check !== undefined) void svc.upstreams
    for (const u of this.upstreams.all()) {
      const spec = u.serviceSpec.check
      if (spec === undefined || u.spec.check === false) continue
      wanted.set(u, {
        spec,
        observe: u.serviceSpec.observe ?? null,
        slowstart: u.serviceSpec.slowstart ?? 0,
        sendProxy: u.serviceSpec.sendProxy ?? 'none',
      })
    }
    this.checker.sync(wanted)
    const now = this.clock()
    for (const u of this.upstreams.all()) {
      const h = wanted.has(u) ? (this.checker.get(u) ?? null) : null
      u.health = h
      if (h !== null) this.checker.pause(h, u.admin === 'maint')
      u.recompute(now)
    }
  }

  get state(): ProxyState {
    return this.ctx.state
  }

  /** Resolve hostnames, build the table and pools, and swap them in. */
  async apply(snapshot: Snapshot): Promise<void> {
    const table = buildTable(snapshot.routes, { pathMatch: this.config.http.pathMatch })
    const services = this.upstreams.apply(snapshot)
    this.tcpRoutes = snapshot.tcpRoutes
    if (this.#listening && this.config.tcpDynamic) {
      const keys = [...this.#dynamicListeners(this.config).keys()].sort().join('\n')
      if (keys !== this.#dynamicKeys) await this.syncListeners(this.config, this.config.shutdown.timeout)
    }
    if ((snapshot.noRoutePage ?? '') !== this.#noRoutePage) this.setNoRoutePage(snapshot.noRoutePage ?? '')
    this.#syncHealth()
    await this.#resolveAll()
    this.#version++
    this.ctx.state = { table, services, version: this.#version }
    this.metrics.sync(table, services, this.#version)
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
  #dynamicListeners(config: Config): Map<string, DeepReadonly<ListenerConfig>> {
    const out = new Map<string, DeepReadonly<ListenerConfig>>()
    if (!config.tcpDynamic) return out
    for (const r of this.tcpRoutes) {
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
  async syncListeners(config: Config, closeTimeout: number): Promise<void> {
    this.#listening = true
    const wanted = new Map<string, DeepReadonly<ListenerConfig>>()
    for (const l of config.listeners) wanted.set(listenerKey(l), l)
    const dynamic = this.#dynamicListeners(config)
    this.#dynamicKeys = [...dynamic.keys()].sort().join('\n')
    for (const [key, l] of dynamic) if (!wanted.has(key)) wanted.set(key, l)
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
    this.checker.stop()
    if (this.#rampTimer !== null) clearTimeout(this.#rampTimer)
    this.#rampTimer = null
    this.addresses.resolver.close()
    this.upstreams.destroy()
    this.deadlines.close()
    // Access lines wait in a batch (src/log.ts): write them out before the process goes.
    ;(this.ctx.accessLog as { flush?: () => void }).flush?.()
  }
}

/** `http.gzip_content_types` compiled (the loader checked it), or null when off. */
function gzipTypes(config: Config): RegExp | null {
  const types = config.http.gzipContentTypes
  return types === '' ? null : new RegExp(types, 'i')
}

function ignoreSignal(): void {
  // The primary decides: systemd (KillMode=control-group) and a terminal's Ctrl-C signal every process.
}

/** Services in a snapshot from which applying it counts as a burst for the memory release (as the primary's
 * Consul provider counts ≥ 500 service reads). */
export const LARGE_APPLY = 500

/**
 * Whether applying `snapshot` in a cluster worker is worth a memory release (src/memory.ts) once applies go
 * quiet: every apply carries the whole table, and at thousands of services decoding and building it grows the
 * worker's heap as the sync grows the primary's. Smaller tables never get near the release's growth threshold.
 */
export function isLargeApply(snapshot: Snapshot): boolean {
  return snapshot.services.length >= LARGE_APPLY
}

/**
 * A cluster worker process: say hello, then apply every `lb:apply` in order (each is the whole state), ack its
 * version, and drain + exit on `lb:stop`. Exits when the primary goes away.
 */
export function runWorkerProcess(): void {
  const id = cluster.worker?.id ?? 0
  let worker: Worker | null = null
  let log: Logger | null = null
  let chain: Promise<void> = Promise.resolve()
  let memory: MemoryRelease | null = null
  const send = (m: FromWorker): void => {
    if (process.connected) process.send?.(m)
  }
  // Passive health goes to the primary in batches: one message per `observeFlush` ms at most.
  let reporter: ReturnType<typeof setInterval> | null = null
  const report = (): void => {
    const reports = worker?.takeObservations() ?? null
    if (reports !== null) send({ type: 'lb:observe', reports })
  }
  const startReporting = (): void => {
    reporter = setInterval(report, observeFlush)
    reporter.unref()
  }
  const handle = async (msg: ToWorker): Promise<void> => {
    switch (msg.type) {
      case 'lb:apply': {
        let error: string | null = null
        try {
          if (worker === null || log === null) {
            log = createLogger(msg.config.log).child({ worker: id })
            worker = new Worker({
              config: msg.config,
              log,
              accessLog: createAccessLogger(msg.config.log),
              remoteHealth: true,
              metrics: new Metrics({ processMetrics: true, enabled: msg.config.metrics.enabled }),
            })
            await worker.apply(msg.snapshot)
            // Health and runtime state before the first listen: a new worker never serves a server the others
            // know is down.
            worker.applyServers(msg.servers, true)
            await worker.syncListeners(msg.config, 0)
            startReporting()
          } else {
            worker.config = msg.config
            await worker.apply(msg.snapshot)
            worker.applyServers(msg.servers, true)
            await worker.syncListeners(msg.config, msg.config.shutdown.timeout)
          }
          if (isLargeApply(msg.snapshot)) {
            memory ??= loggedMemoryRelease(log, 'applying a large table')
            memory.releaseSoon()
          }
        } catch (err) {
          error = err instanceof Error ? err.message : String(err)
          log?.error({ err, version: msg.version }, 'applying the state failed')
        }
        send({ type: 'lb:ack', version: msg.version, error })
        return
      }
      case 'lb:servers':
        worker?.applyServers(msg.state)
        send({ type: 'lb:servers-ack', seq: msg.state.seq })
        return
      case 'lb:stop':
        if (reporter !== null) clearInterval(reporter)
        memory?.close()
        report()
        await worker?.stop(msg.timeout)
        log?.flush()
        process.exit(0)
        return
      case 'lb:metrics':
        send({
          type: 'lb:metrics',
          id: msg.id,
          metrics: worker === null ? { process: [], families: [] } : await worker.metrics.reply(),
        })
        return
    }
  }
  process.on('SIGTERM', ignoreSignal)
  process.on('SIGINT', ignoreSignal)
  process.on('SIGHUP', ignoreSignal)
  process.on('disconnect', () => process.exit(0))
  process.on('message', (msg: unknown) => {
    if (!isToWorker(msg)) return
    chain = chain.then(() => handle(msg))
  })
  send({ type: 'lb:hello' })
}
