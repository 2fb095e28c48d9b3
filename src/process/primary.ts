/**
 * The daemon's control side: load config, run the providers, the admin server, reload on SIGHUP and drain on
 * SIGTERM. With `workers: 0|1` the serving Worker runs in this process; with N ≥ 2 this process forks N worker
 * processes (node:cluster), never handles traffic, and sends each one the whole state over IPC (src/ipc.ts).
 * In cluster mode the in-process Worker is only the admin server's view (/api/routes, /api/servers): it never
 * listens. Health checks run here in either mode, in the one health service (src/health/service.ts): its
 * statuses apply to the in-process Worker as they happen (local.ts) and go to the worker processes when a
 * server's verdict, state or weight changes.
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster'
import { availableParallelism, hostname, networkInterfaces } from 'node:os'
import { readFile, unlink, writeFile } from 'node:fs/promises'
import { loadConfig } from '../config/load.js'
import type { Config } from '../config/types.js'
import { configToSnapshot } from '../provider/file.js'
import { ConfigError } from '../model/errors.js'
import { createAccessLogger, createLogger, type Logger } from '../log/log.js'
import { Worker } from './worker.js'
import { AdminServer, type AdminStatus } from '../admin/server.js'
import { StaticProvider } from '../provider/provider.js'
import { Watcher } from '../provider/watcher.js'
import { ConsulProvider } from '../provider/consul/consul.js'
import { ConsulHttp } from '../provider/consul/client.js'
import { SelfRegistration, type RegisterOptions } from '../provider/consul/register.js'
import { loggedMemoryRelease, type MemoryRelease } from './memory.js'
import type { Snapshot } from '../model/snapshot.js'
import { contentType } from '../metrics/exposition.js'
import { Metrics } from '../metrics/metrics.js'
import { isMetricsReply, type MetricsReply } from '../metrics/cluster.js'
import { isFromWorker, respawnDelay, type FromWorker, type ObserveReport, type ToWorker } from './ipc.js'
import type { AdminState } from '../balance/backend.js'
import type { HealthService, ServersState, ServerStatus } from '../health/service.js'
import { applyLocal, localHealth } from './local.js'
import { SharedPorts } from '../net/listen.js'
import { logNodeInternals } from '../net/node-internals.js'

/** Worker processes to run for `workers:` (0 = serve in this process). */
export function workerCount(workers: Config['workers'], cores: number = availableParallelism()): number {
  const n = workers === 'auto' ? cores : workers
  return n <= 1 ? 0 : n
}

export interface ReloadResult {
  readonly ok: boolean
  readonly problems: string[]
}

interface Slot {
  readonly w: ClusterWorker
  /** When it applied its first state (so listens); 0 before. */
  readyAt: number
  hello: boolean
  acked: number
  /** The apply error of each version acked with one (cleared when a later version applies). */
  lastError: { version: number; error: string } | null
  /** Highest `lb:servers` seq acked. */
  serversAcked: number
  /** Asked to exit (stop or rolling restart): not a crash. */
  leaving: boolean
  /** The error of the first apply (e.g. a port in use), '' when it worked. */
  firstError: string
}

/**
 * A worker that served this long (from its first applied state) before dying was not crash-looping: it is
 * replaced at once and the crash counter starts over. Deaths before that (at boot, or just after it) back off
 * (respawnDelay in src/ipc.ts).
 */
const stableAfter = 1_000

/**
 * The forked worker processes: start, feed versioned states, replace on crash with backoff, rolling restart,
 * drain. Wiring lives in Primary; this class only speaks cluster IPC.
 */
export class WorkerPool {
  readonly log: Logger
  readonly size: number
  readonly #slots: Map<number, Slot>
  readonly #waiters: Set<() => void>
  #state: { version: number; config: Config; snapshot: Snapshot }
  /** Every server's status now (sent with each `lb:apply`). */
  readonly #servers: () => ServersState
  /** Passive health reported by a worker (`lb:observe`). */
  readonly #onObserve: (reports: ObserveReport) => void
  #stopping: boolean
  #recentCrashes: number
  crashes: number
  /** Metric scrapes in progress: id → replies so far. */
  readonly #scrapes: Map<number, MetricsReply[]>
  #scrapeId: number

  constructor(
    log: Logger,
    size: number,
    config: Config,
    snapshot: Snapshot,
    servers: () => ServersState,
    onObserve: (reports: ObserveReport) => void = () => {},
  ) {
    this.log = log
    this.size = size
    this.#slots = new Map()
    this.#waiters = new Set()
    this.#state = { version: 1, config, snapshot }
    this.#servers = servers
    this.#onObserve = onObserve
    this.#stopping = false
    this.#recentCrashes = 0
    this.crashes = 0
    this.#scrapes = new Map()
    this.#scrapeId = 0
    // V8 serialization: plain data either way, but faster for large snapshots (node.md §5).
    cluster.setupPrimary({ serialization: 'advanced' })
    cluster.on('exit', (w, code, signal) => this.#onExit(w, code, signal))
  }

  get version(): number {
    return this.#state.version
  }

  /** Live worker pids (for tests and the admin view). */
  pids(): number[] {
    const out: number[] = []
    for (const s of this.#slots.values()) if (s.w.process.pid !== undefined) out.push(s.w.process.pid)
    return out
  }

  /** Fork `size` workers and wait until every one has applied the first state (is listening). */
  async start(): Promise<void> {
    const slots: Slot[] = []
    for (let i = 0; i < this.size; i++) slots.push(this.#fork())
    const ready = await Promise.all(slots.map((s) => this.#ready(s)))
    const failed = slots.find((s, i) => !ready[i] || s.firstError !== '')
    if (failed !== undefined) {
      await this.stop(0)
      throw new Error(`worker ${failed.w.id} did not start: ${failed.firstError || 'it exited'}`)
    }
    this.log.info({ workers: this.size, pids: this.pids() }, 'workers ready')
  }

  #fork(): Slot {
    const w = cluster.fork()
    const slot: Slot = {
      w,
      readyAt: 0,
      hello: false,
      acked: 0,
      lastError: null,
      serversAcked: 0,
      leaving: false,
      firstError: '',
    }
    this.#slots.set(w.id, slot)
    w.on('message', (msg: unknown) => {
      if (isFromWorker(msg)) this.#onMessage(slot, msg)
    })
    // An IPC write to a dying worker: its exit is handled in #onExit.
    w.on('error', (err) => this.log.warn({ err, worker: w.id }, 'worker channel error'))
    return slot
  }

  #send(slot: Slot, msg: ToWorker): void {
    if (slot.w.isConnected()) slot.w.send(msg)
  }

  #onMessage(slot: Slot, msg: FromWorker): void {
    switch (msg.type) {
      case 'lb:hello':
        slot.hello = true
        this.#send(slot, { type: 'lb:apply', ...this.#state, servers: this.#servers() })
        return
      case 'lb:ack':
        if (msg.error !== null)
          this.log.error({ worker: slot.w.id, version: msg.version, error: msg.error }, 'worker apply failed')
        if (slot.acked === 0 && msg.error !== null) slot.firstError = msg.error
        if (slot.acked === 0) slot.readyAt = Date.now()
        if (msg.version > slot.acked) {
          slot.acked = msg.version
          slot.lastError = msg.error === null ? null : { version: msg.version, error: msg.error }
        }
        this.#notify()
        return
      case 'lb:servers-ack':
        if (msg.seq > slot.serversAcked) slot.serversAcked = msg.seq
        this.#notify()
        return
      case 'lb:observe':
        if (Array.isArray(msg.reports)) this.#onObserve(msg.reports)
        return
      case 'lb:metrics': {
        const replies = this.#scrapes.get(msg.id)
        if (replies !== undefined && isMetricsReply(msg.metrics)) {
          replies.push(msg.metrics)
          this.#notify()
        }
        return
      }
    }
  }

  #notify(): void {
    for (const f of [...this.#waiters]) f()
  }

  /** Resolve when `done()` holds, re-checked on every ack and exit; false after `timeout` ms. */
  #until(done: () => boolean, timeout: number): Promise<boolean> {
    if (done()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return
        finish(true)
      }
      const finish = (ok: boolean): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve(ok)
      }
      const timer = setTimeout(() => finish(false), timeout)
      this.#waiters.add(check)
    })
  }

  /** The slot applied a state (so it listens), or it is gone. */
  #ready(slot: Slot): Promise<boolean> {
    return this.#until(() => slot.acked > 0 || !this.#slots.has(slot.w.id), 60_000).then(
      (ok) => ok && this.#slots.has(slot.w.id),
    )
  }

  /**
   * Send the whole state (with every server's status now) as a new version to every worker and wait until all
   * live workers acked it. Resolves with the problems: a worker that did not ack within `timeout` ms, or that
   * failed to apply it ([] = ok).
   */
  async publish(config: Config, snapshot: Snapshot, timeout = 30_000): Promise<string[]> {
    const version = this.#state.version + 1
    this.#state = { version, config, snapshot }
    const servers = this.#servers()
    for (const slot of this.#slots.values()) {
      if (slot.hello) this.#send(slot, { type: 'lb:apply', ...this.#state, servers })
    }
    const ok = await this.#until(() => {
      for (const s of this.#slots.values()) if (!s.leaving && s.acked < version) return false
      return true
    }, timeout)
    const problems: string[] = []
    for (const s of this.#slots.values()) {
      if (s.leaving) continue
      if (s.acked < version)
        problems.push(`worker ${s.w.id} did not acknowledge version ${version} within ${timeout / 1000}s`)
      else if (s.lastError !== null && s.lastError.version === version)
        problems.push(`worker ${s.w.id} failed to apply version ${version}: ${s.lastError.error}`)
    }
    if (!ok) this.log.warn({ version, problems }, 'not every worker acknowledged the new state in time')
    return problems
  }

  /**
   * Some servers' status changed: send the changes to every live worker (a worker that starts later gets every
   * status with its first `lb:apply`); resolve true once all that serve acked them, false after `timeout` ms.
   */
  async setServers(servers: ServersState, timeout = 5_000): Promise<boolean> {
    for (const slot of this.#slots.values()) {
      if (slot.hello) this.#send(slot, { type: 'lb:servers', state: servers })
    }
    const ok = await this.#until(() => {
      for (const s of this.#slots.values())
        if (!s.leaving && s.acked > 0 && s.serversAcked < servers.seq) return false
      return true
    }, timeout)
    if (!ok) this.log.warn({ seq: servers.seq }, 'not every worker acknowledged the servers state in time')
    return ok
  }

  #onExit(w: ClusterWorker, code: number | null, signal: string | null): void {
    const slot = this.#slots.get(w.id)
    if (slot === undefined) return
    this.#slots.delete(w.id)
    this.#notify()
    if (slot.leaving || this.#stopping) return
    this.crashes++
    const served = slot.readyAt === 0 ? 0 : Date.now() - slot.readyAt
    this.#recentCrashes = served >= stableAfter ? 1 : this.#recentCrashes + 1
    const delay = respawnDelay(this.#recentCrashes)
    this.log.error(
      { worker: w.id, workerPid: w.process.pid, code, signal, served, respawnIn: delay },
      'worker died; replacing it',
    )
    const timer = setTimeout(() => {
      if (!this.#stopping) this.#fork()
    }, delay)
    timer.unref()
  }

  /**
   * Every worker's metrics (`Metrics.reply()`), waiting at most `timeout` ms: workers that have not
   * answered by then are left out and counted in `missing`, so one slow worker never fails the scrape.
   */
  async collectMetrics(timeout: number): Promise<{ replies: MetricsReply[]; missing: number }> {
    const id = ++this.#scrapeId
    const replies: MetricsReply[] = []
    this.#scrapes.set(id, replies)
    let asked = 0
    for (const slot of this.#slots.values()) {
      if (!slot.hello || slot.leaving) continue
      asked++
      this.#send(slot, { type: 'lb:metrics', id })
    }
    await this.#until(() => replies.length >= asked, timeout)
    this.#scrapes.delete(id)
    return { replies: [...replies], missing: asked - replies.length }
  }

  /** Replace every worker, one at a time: start the new one, wait until it listens, then drain the old one. */
  async restart(timeout: number): Promise<boolean> {
    const old = [...this.#slots.values()]
    for (const slot of old) {
      if (this.#stopping) return false
      if (!this.#slots.has(slot.w.id)) continue
      const fresh = this.#fork()
      if (!(await this.#ready(fresh))) {
        this.log.error({ worker: fresh.w.id }, 'rolling restart: the new worker did not start; stopping here')
        return false
      }
      await this.#retire(slot, timeout)
    }
    this.log.info({ pids: this.pids() }, 'workers restarted')
    return true
  }

  async #retire(slot: Slot, timeout: number): Promise<void> {
    slot.leaving = true
    this.#send(slot, { type: 'lb:stop', timeout })
    const gone = await this.#until(() => !this.#slots.has(slot.w.id), timeout + 5_000)
    if (!gone) slot.w.process.kill('SIGKILL')
  }

  /** Drain every worker (in parallel) and wait for them to exit; SIGKILL stragglers after `timeout` + 5 s. */
  async stop(timeout: number): Promise<void> {
    this.#stopping = true
    await Promise.all([...this.#slots.values()].map((s) => this.#retire(s, timeout)))
  }
}

export interface PrimaryOptions {
  readonly configPath: string
  readonly env: NodeJS.ProcessEnv
  /** Loggers for tests; production builds them from the config. */
  readonly log?: Logger
  readonly accessLog?: Logger
}

export class Primary {
  readonly configPath: string
  readonly env: NodeJS.ProcessEnv
  readonly status: AdminStatus
  config: Config
  log: Logger
  /** The serving Worker with `workers: 0|1`; in cluster mode the admin's view only (it never listens). */
  worker: Worker
  /** Every server's health and runtime state (the only checks lb runs). */
  readonly health: HealthService
  /** The forked workers in cluster mode, else null. */
  pool: WorkerPool | null
  admin: AdminServer | null
  reloads: { ok: number; failed: number }
  /** Providers → watcher → worker.apply (STYLE §5). */
  readonly watcher: Watcher
  readonly fileProvider: StaticProvider
  consul: ConsulProvider | null
  #consulStop: AbortController | null
  /** lb's own Consul registration (`consul.register`), or null. */
  registration: SelfRegistration | null
  #registrationHttp: ConsulHttp | null
  /** A full GC once a burst of discovery work has settled (memory.ts). */
  readonly #memory: MemoryRelease
  readonly #stop: AbortController
  /** Ports of port-0 listeners shared by the workers (cluster mode). */
  readonly #ports: SharedPorts
  /** Snapshots applied so far (reload publishes to workers itself when the snapshot did not change). */
  #applied: number
  #snapshot: Snapshot
  #pidFile: string
  #reloading: Promise<void>
  /** Problems of the last publish to the workers ([] = every worker applied it). */
  #publishProblems: string[]
  /** Statuses to send to the worker processes (latest per server id) and the seq of the newest. */
  readonly #changed: Map<number, ServerStatus>
  #changedSeq: number
  /** A coalesced `lb:servers` broadcast is pending. */
  #serversPending: ReturnType<typeof setImmediate> | null

  private constructor(
    options: PrimaryOptions,
    config: Config,
    log: Logger,
    accessLog: Logger,
    ports: SharedPorts,
  ) {
    this.configPath = options.configPath
    this.env = options.env
    this.config = config
    this.log = log
    this.status = { serving: false }
    this.worker = new Worker({
      config,
      log,
      accessLog,
      metrics: new Metrics({ processMetrics: true, enabled: config.metrics.enabled }),
    })
    this.health = localHealth(this.worker, log)
    this.health.subscribe((state, routing) => {
      if (routing) this.#serversChanged(state)
    })
    this.worker.metrics.control = { reloads: () => this.reloads, consul: () => this.consul }
    this.pool = null
    this.admin = null
    this.reloads = { ok: 0, failed: 0 }
    this.fileProvider = new StaticProvider('file', configToSnapshot(config))
    this.consul = null
    this.#consulStop = null
    this.registration = null
    this.#registrationHttp = null
    this.#memory = loggedMemoryRelease(this.log, 'a discovery burst')
    this.#stop = new AbortController()
    this.#ports = ports
    this.#applied = 0
    this.#snapshot = configToSnapshot(config)
    this.#pidFile = ''
    this.#reloading = Promise.resolve()
    this.#publishProblems = []
    this.#changed = new Map()
    this.#changedSeq = 0
    this.#serversPending = null
    this.watcher = new Watcher({
      providers: [this.fileProvider],
      consumer: (snapshot) => this.#apply(snapshot),
      window: config.consul.throttle,
      onError: (err) => this.log.error({ err }, 'applying a snapshot failed'),
    })
  }

  async #apply(snapshot: Snapshot): Promise<void> {
    this.#snapshot = snapshot
    this.#applied++
    await applyLocal(this.worker, this.health, snapshot)
    if (this.pool !== null) {
      // The statuses go with the snapshot: changes not sent yet are in them.
      this.#changed.clear()
      this.#publishProblems = await this.pool.publish(this.config, snapshot)
    }
    if (this.registration !== null) void this.registration.sync(registerAliases(snapshot))
  }

  /**
   * Start, replace or stop lb's own Consul registration to match `consul.register` (fabio
   * `registry.consul.register.*`). The address is `consul.register.address`, else the admin address (a wildcard
   * or empty host becomes this machine's first non-internal IPv4 address, as fabio detects it).
   */
  async #syncRegistration(previous: Config | null): Promise<void> {
    const c = this.config.consul
    if (previous !== null && JSON.stringify(previous.consul) === JSON.stringify(c)) return
    await this.registration?.deregisterAll(2_000)
    await this.#registrationHttp?.close()
    this.registration = null
    this.#registrationHttp = null
    if (!c.enabled || !c.register.enabled) return
    const r = c.register
    let host = this.config.admin.host
    let port = this.config.admin.port
    if (r.address !== '') {
      const at = r.address.lastIndexOf(':')
      host = r.address.slice(0, at).replace(/^\[|\]$/g, '')
      port = Number(r.address.slice(at + 1))
    }
    if (host === '' || host === '0.0.0.0' || host === '::') host = localAddress()
    const options: RegisterOptions = {
      name: r.name,
      host,
      port,
      tags: r.tags,
      checkInterval: r.checkInterval,
      checkTimeout: r.checkTimeout,
      deregisterCriticalAfter: r.deregisterCriticalAfter,
    }
    this.#registrationHttp = new ConsulHttp(c)
    this.registration = new SelfRegistration({
      http: this.#registrationHttp,
      options,
      hostname: hostname(),
      log: this.log.child({ consul: 'register' }),
    })
    await this.registration.start()
    await this.registration.sync(registerAliases(this.#snapshot))
  }

  /** A server's verdict, state or weight changed: send the changes once per event-loop turn (latest wins). */
  #serversChanged(state: ServersState): void {
    if (this.pool === null) return
    for (const s of state.servers) {
      const before = this.#changed.get(s.id)
      // The first status of an id names its server: a later one in the same batch keeps the names.
      this.#changed.set(
        s.id,
        before?.service !== undefined && s.service === undefined
          ? { ...s, service: before.service, server: before.server as string }
          : s,
      )
    }
    this.#changedSeq = state.seq
    if (this.#serversPending !== null) return
    this.#serversPending = setImmediate(() => {
      this.#serversPending = null
      void this.#broadcastServers()
    })
  }

  async #broadcastServers(): Promise<boolean> {
    if (this.#serversPending !== null) clearImmediate(this.#serversPending)
    this.#serversPending = null
    if (this.pool === null || this.#changed.size === 0) return true
    const state: ServersState = { seq: this.#changedSeq, servers: [...this.#changed.values()] }
    this.#changed.clear()
    return this.pool.setServers(state)
  }

  /** Passive observations from a worker process, fed to the health service by server id. */
  #observe(reports: ObserveReport): void {
    for (let i = 0; i < reports.length; i++) {
      const r = reports[i]
      if (r === undefined || typeof r[0] !== 'number' || !Array.isArray(r[1])) continue
      this.health.observeRuns(r[0], r[1])
    }
  }

  /**
   * Runtime control `set server <service>/<server> state ready|drain|maint`: applied to the primary's view
   * (checks pause in maint) and sent to every worker. Rejects with RuntimeError (EDGE_RUNTIME_NOT_FOUND,
   * EDGE_RUNTIME_INVALID) before changing anything; resolves once every worker applied it (or after 5 s with
   * a warning logged: a worker that missed it gets the whole state again with the next change or apply).
   */
  async setServerState(service: string, server: string, state: AdminState): Promise<void> {
    this.health.setServerState(service, server, state)
    this.log.info({ server: `${service}/${server}`, state }, 'server state set')
    await this.#broadcastServers()
  }

  /**
   * Runtime control `set weight <service>/<server> <w>|<N>%`: like setServerState; resolves with the new
   * absolute weight once every worker applied it.
   */
  async setServerWeight(service: string, server: string, weight: number | string): Promise<number> {
    const w = this.health.setServerWeight(service, server, weight)
    this.log.info({ server: `${service}/${server}`, weight: w }, 'server weight set')
    await this.#broadcastServers()
    return w
  }

  /** Start, replace or stop the Consul provider to match `config.consul` (no-op when unchanged). */
  #syncConsul(previous: Config | null): void {
    const c = this.config.consul
    if (previous !== null && JSON.stringify(previous.consul) === JSON.stringify(c)) return
    this.#consulStop?.abort()
    this.#consulStop = null
    if (!c.enabled) {
      if (this.consul !== null) this.watcher.remove('consul')
      this.consul = null
      return
    }
    const stop = new AbortController()
    this.#stop.signal.addEventListener('abort', () => stop.abort(), { once: true })
    this.#consulStop = stop
    this.consul = new ConsulProvider({
      config: c,
      defaults: this.config.defaults,
      log: this.log.child({ provider: 'consul' }),
      onBurst: () => this.#memory.releaseSoon(),
    })
    this.watcher.add(this.consul, stop.signal)
    this.log.info(
      { addresses: c.addresses, datacenter: c.datacenter || '(agent)' },
      'consul discovery started',
    )
  }

  static async start(options: PrimaryOptions): Promise<Primary> {
    const loaded = await loadConfig({ path: options.configPath, env: options.env, readFile: readText })
    const workers = workerCount(loaded.workers)
    const ports = new SharedPorts(workers > 0)
    const config = await ports.assign(loaded)
    const log = options.log ?? createLogger(config.log)
    logNodeInternals(log)
    const accessLog = options.accessLog ?? createAccessLogger(config.log)
    const primary = new Primary(options, config, log, accessLog, ports)
    const snapshot = configToSnapshot(config)
    await applyLocal(primary.worker, primary.health, snapshot)
    if (workers === 0) {
      await primary.worker.syncListeners(config, 0)
    } else {
      primary.pool = new WorkerPool(
        log,
        workers,
        config,
        snapshot,
        () => primary.health.state(),
        (r) => primary.#observe(r),
      )
      try {
        await primary.pool.start()
      } finally {
        ports.release()
      }
    }
    primary.watcher.start(primary.#stop.signal)
    primary.#syncConsul(null)
    await primary.#syncRegistration(null)
    if (config.admin.port > 0) {
      primary.admin = new AdminServer(primary.worker, primary.status, {
        token: () => primary.config.admin.token,
        reload: () => primary.reload(),
        restartWorkers: () => primary.restartWorkers(),
        metrics: () => primary.metrics(),
        config: () => primary.config,
        setServerState: (service, server, state) => primary.setServerState(service, server, state),
        setServerWeight: (service, server, weight) => primary.setServerWeight(service, server, weight),
      })
      const port = await primary.admin.listen(config.admin.host, config.admin.port)
      log.info({ address: config.admin.host, port }, 'admin listening')
    }
    if (config.pidFile !== '') {
      await writeFile(config.pidFile, `${process.pid}\n`)
      primary.#pidFile = config.pidFile
    }
    primary.status.serving = true
    log.info({ workers, pid: process.pid }, 'started')
    return primary
  }

  /** Re-read the config; on any problem keep serving the old one and report every problem. Serialised. */
  reload(): Promise<ReloadResult> {
    const next = this.#reloading.then(() => this.#reload())
    this.#reloading = next.then(
      () => {},
      () => {},
    )
    return next
  }

  async #reload(): Promise<ReloadResult> {
    let config: Config
    try {
      config = await this.#ports.assign(
        await loadConfig({
          path: this.configPath,
          env: this.env,
          readFile: readText,
          refuseEmpty: true,
        }),
      )
    } catch (err) {
      this.reloads.failed++
      const problems =
        err instanceof ConfigError
          ? err.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`)
          : [String(err)]
      this.log.error(
        { problems, failedReloads: this.reloads.failed },
        'reload failed: keeping the running configuration',
      )
      return { ok: false, problems }
    }
    const previous = this.config
    if (workerCount(config.workers) !== workerCount(previous.workers)) {
      this.log.warn({ workers: config.workers }, 'a change of `workers` takes effect at the next restart')
    }
    this.config = config
    this.worker.config = config
    this.fileProvider.set(configToSnapshot(config))
    this.#syncConsul(previous)
    await this.#syncRegistration(previous)
    const applied = this.#applied
    this.#publishProblems = []
    try {
      return await this.#switchTo(config, applied)
    } finally {
      // The workers applied (or failed to apply) the config with any new port: the primary lets go of it.
      this.#ports.release()
    }
  }

  /** The second half of a reload: `config` is valid and set; bring the workers (or this process) onto it. */
  async #switchTo(config: Config, applied: number): Promise<ReloadResult> {
    await this.watcher.flush()
    if (this.pool !== null) {
      // Listener or http changes with the same routes: the watcher dropped the equal snapshot.
      if (this.#applied === applied) this.#publishProblems = await this.pool.publish(config, this.#snapshot)
      if (this.#publishProblems.length > 0) {
        this.reloads.failed++
        const problems = this.#publishProblems
        this.log.error(
          { problems, failedReloads: this.reloads.failed },
          'reload failed: not every worker applied the new configuration',
        )
        return { ok: false, problems }
      }
    } else {
      await this.worker.syncListeners(config, config.shutdown.timeout)
    }
    this.reloads.ok++
    this.log.info({ version: this.pool?.version ?? this.#applied }, 'configuration reloaded')
    return { ok: true, problems: [] }
  }

  /** The Prometheus text for admin /metrics: this process's Worker, or the workers' aggregate in cluster mode. */
  async metrics(): Promise<{ contentType: string; body: readonly Uint8Array[]; release: () => void }> {
    const m = this.worker.metrics
    let body: Buffer[]
    if (this.pool === null) body = await m.exposition()
    else {
      const { replies, missing } = await this.pool.collectMetrics(2_000)
      if (missing > 0) this.log.warn({ missing }, 'metrics: some workers did not answer in time')
      body = await m.aggregate(replies, missing)
    }
    return { contentType, body, release: () => m.release(body) }
  }

  /** Rolling restart of the worker processes (cluster mode); false in single-process mode. */
  async restartWorkers(): Promise<boolean> {
    if (this.pool === null) return false
    return this.pool.restart(this.config.shutdown.timeout)
  }

  /**
   * Fail /health, keep serving for `shutdown.grace`, then stop listening and let requests finish up to
   * `timeout` (default `shutdown.timeout`); tunnels close at the deadline.
   */
  async stop(timeout: number = this.config.shutdown.timeout): Promise<void> {
    // Consul first (fabio's order): deregister while lb still listens, so clients move away before it goes.
    if (this.registration !== null) {
      await this.registration.deregisterAll(2_000)
      await this.#registrationHttp?.close()
      this.registration = null
    }
    this.status.serving = false
    const grace = this.config.shutdown.grace
    if (grace > 0) {
      this.log.info({ grace }, 'health failing; still accepting during the grace period')
      await new Promise((resolve) => setTimeout(resolve, grace))
    }
    this.#stop.abort()
    this.#memory.close()
    if (this.#serversPending !== null) clearImmediate(this.#serversPending)
    this.#serversPending = null
    this.health.stop()
    if (this.pool !== null) await this.pool.stop(timeout)
    await this.worker.stop(timeout)
    await this.admin?.close()
    if (this.#pidFile !== '') await unlink(this.#pidFile).catch(() => {})
    this.log.info('stopped')
    this.log.flush()
  }
}

/** The `register=` aliases of a snapshot's routes, in order of first use. */
export function registerAliases(snapshot: Snapshot): string[] {
  const out: string[] = []
  for (const r of snapshot.routes)
    if (r.register !== undefined && r.register !== '' && !out.includes(r.register)) out.push(r.register)
  return out
}

/** This machine's first non-internal IPv4 address (127.0.0.1 when it has none). */
function localAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return '127.0.0.1'
}

function readText(path: string): Promise<string> {
  return readFile(path, 'utf8')
}
