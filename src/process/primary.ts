/**
 * The daemon's control side: load config, run the providers, the admin server, reload on SIGHUP and drain on
 * SIGTERM. With `workers: 0|1` the serving Worker runs in this process; with N ≥ 2 this process forks N worker
 * processes (node:cluster), never handles traffic, and sends each one the state over IPC (ipc.ts: whole when
 * it starts or asks, else a delta against the version before).
 * In cluster mode the in-process Worker is only the admin server's view (/api/routes, /api/servers): it never
 * listens. Health checks run here in either mode, in the one health service (src/health/service.ts): its
 * statuses apply to the in-process Worker as they happen (local.ts) and go to the worker processes when a
 * server's verdict, state or weight changes.
 */
import { isDeepStrictEqual } from 'node:util'
import { newTicketSecret } from '../proxy/ticket-keys.js'
import { pathsSignature, watchedCertificates, withCertificates } from './cert-watch.js'
import { availableParallelism, hostname, networkInterfaces } from 'node:os'
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises'
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
import { KvCertificates, firstWait as kvFirstWait, withKvCertificates } from './cert-kv.js'
import { SelfRegistration, type RegisterOptions } from '../provider/consul/register.js'
import { loggedMemoryRelease, type MemoryRelease } from './memory.js'
import type { Snapshot } from '../model/snapshot.js'
import { contentType, type FamilyData } from '../metrics/exposition.js'
import { Metrics } from '../metrics/metrics.js'
import type { CertificateView } from '../metrics/stats.js'
import { certificateWarnings } from '../config/sections/tls.js'
import type { ObserveReport } from './ipc.js'
import type { AdminState } from '../balance/backend.js'
import type { HealthService, ServersState, ServerStatus } from '../health/service.js'
import { applyLocal, applyWorker, localHealth, syncHealth } from './local.js'
import { SharedPorts } from '../net/listen.js'
import { logNodeInternals } from '../net/node-internals.js'
import { WorkerPool } from './worker-pool.js'
import { DashboardFeed } from './dashboard.js'

/** Worker processes to run for `workers:` (0 = serve in this process). */
export function workerCount(workers: Config['workers'], cores: number = availableParallelism()): number {
  const n = workers === 'auto' ? cores : workers
  return n <= 1 ? 0 : n
}

export interface ReloadResult {
  readonly ok: boolean
  readonly problems: string[]
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
  /** The session ticket secret of this lb, for its Worker and every worker process (src/proxy/ticket-keys.ts). */
  readonly ticketSecret: Buffer
  worker: Worker
  /** Every server's health and runtime state (the only checks lb runs). */
  readonly health: HealthService
  /** The forked workers in cluster mode, else null. */
  pool: WorkerPool | null
  admin: AdminServer | null
  reloads: { ok: number; failed: number }
  /** Providers → watcher → worker.apply: providers emit whole snapshots, the watcher drops unchanged ones. */
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
  /** The workers' start while it runs (start): publishing to them waits for it. */
  #poolReady: Promise<void> | null = null
  /** Ports of port-0 listeners shared by the workers (cluster mode). */
  readonly #ports: SharedPorts
  /** Snapshots applied so far (reload publishes to workers itself when the snapshot did not change). */
  #applied: number
  #snapshot: Snapshot
  #pidFile: string
  #reloading: Promise<void>
  /** The certificates of `consul_kv` prefixes (cert-kv.ts). */
  readonly #kvCertificates: KvCertificates
  /** The certificate files as last looked at (cert-watch.ts), and the timer that looks again. */
  #certSignature: string
  #certTimer: ReturnType<typeof setInterval> | null
  /** Problems of the last publish to the workers ([] = every worker applied it). */
  #publishProblems: string[]
  /** Statuses to send to the worker processes (latest per server id) and the seq of the newest. */
  readonly #changed: Map<number, ServerStatus>
  #changedSeq: number
  /** A coalesced `lb:servers` broadcast is pending. */
  #serversPending: ReturnType<typeof setImmediate> | null
  /** The admin dashboard's traffic samples and health events (src/process/dashboard.ts). */
  readonly dashboard: DashboardFeed

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
    this.ticketSecret = newTicketSecret()
    this.worker = new Worker({
      config,
      log,
      accessLog,
      ticketSecret: this.ticketSecret,
      metrics: new Metrics({ processMetrics: true, enabled: config.metrics.enabled }),
    })
    this.health = localHealth(this.worker, log)
    this.dashboard = new DashboardFeed(this.health)
    this.health.subscribe((state, routing) => {
      if (routing) this.#serversChanged(state)
    })
    this.worker.metrics.control = {
      reloads: () => this.reloads,
      consul: () => this.consul,
      certificates: () => certificateViews(this.config),
    }
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
    this.#certSignature = ''
    this.#certTimer = null
    this.#kvCertificates = new KvCertificates({
      log: this.log,
      changed: () => this.#kvChanged(),
      signal: this.#stop.signal,
    })
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
    if (this.pool !== null && this.#poolReady === null) {
      await this.#publishFirst(this.pool, snapshot)
    } else {
      await applyLocal(this.worker, this.health, snapshot)
      if (this.pool !== null) {
        await this.#poolReady
        void this.#broadcastServers()
        this.#publishProblems = await this.pool.publish(this.config, snapshot).problems
      }
    }
    // Each change leaves garbage (the Consul state answer alone is 12 MB of text at 10,000 services), which V8
    // keeps committed: 1,000 changes grew RSS by 100 MB. Once changes go quiet, the release runs if RSS grew.
    this.#memory.releaseSoon()
    if (this.registration !== null) void this.registration.sync(registerAliases(snapshot))
  }

  /**
   * Cluster mode, workers up: they serve the traffic, so they get the snapshot first, and this process applies
   * its own copy (the admin API's view) after them. The health service takes the servers before anything is
   * sent (a delta carries the changed services' statuses), and status changes not sent yet go before the
   * snapshot (a worker ignores statuses older than the newest it has). A delta is small: the local apply starts
   * once it is written. A whole state (the initial sync: half a second of apply per process at 10,000 services)
   * is applied here only after the workers acked it, so that this copy does not take a core from theirs.
   */
  async #publishFirst(pool: WorkerPool, snapshot: Snapshot): Promise<void> {
    syncHealth(this.worker, this.health, snapshot)
    void this.#broadcastServers()
    const published = pool.publish(this.config, snapshot)
    if (published.whole) await published.problems
    else await pool.flushed()
    await applyWorker(this.worker, this.health, snapshot)
    this.#publishProblems = await published.problems
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
    if (this.pool === null || this.#poolReady !== null || this.#changed.size === 0) return true
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
   * a warning logged: a worker that is replaced gets every status with its first whole state).
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
      qualify: true,
      onBurst: () => this.#memory.releaseSoon(),
      onSyncGarbage: () => this.#memory.collect(),
    })
    this.watcher.add(this.consul, stop.signal)
    this.log.info(
      { addresses: c.addresses, datacenter: c.datacenter || '(agent)' },
      'consul discovery started',
    )
  }

  static async start(options: PrimaryOptions): Promise<Primary> {
    const loaded = await loadConfig({
      path: options.configPath,
      env: options.env,
      readFile: readText,
      readDir: readdir,
    })
    const workers = workerCount(loaded.workers)
    const ports = new SharedPorts(workers > 0)
    let config = await ports.assign(loaded)
    const log = options.log ?? createLogger(config.log)
    logNodeInternals(log)
    const accessLog = options.accessLog ?? createAccessLogger(config.log)
    const primary = new Primary(options, config, log, accessLog, ports)
    config = await primary.#withKvCertificates(config)
    primary.config = config
    primary.worker.config = config
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
        (only) => (only === null ? primary.health.state() : primary.health.stateOf(only)),
        (r) => primary.#observe(r),
        primary.ticketSecret,
      )
      // The workers start while discovery begins: Consul's initial sync (a second or two at 10,000 services)
      // need not wait for the forks; what it publishes waits for the pool (#apply).
      primary.#poolReady = primary.pool.start().finally(() => ports.release())
    }
    primary.watcher.start(primary.#stop.signal)
    primary.#syncConsul(null)
    if (primary.#poolReady !== null) {
      try {
        await primary.#poolReady
      } catch (err) {
        primary.#stop.abort()
        throw err
      }
      primary.#poolReady = null
      void primary.#broadcastServers()
    }
    await primary.#syncRegistration(null)
    if (config.admin.port > 0) {
      primary.dashboard.start(config.admin.sampleInterval, () => primary.trafficCopies(), log)
      const sources = primary.dashboard.sources(() => primary.consul?.watches() ?? null)
      primary.admin = new AdminServer(
        primary.worker,
        primary.status,
        {
          token: () => primary.config.admin.token,
          reload: () => primary.reload(),
          restartWorkers: () => primary.restartWorkers(),
          metrics: () => primary.metrics(),
          config: () => primary.config,
          setServerState: (service, server, state) => primary.setServerState(service, server, state),
          setServerWeight: (service, server, weight) => primary.setServerWeight(service, server, weight),
        },
        sources,
      )
      const port = await primary.admin.listen(config.admin.host, config.admin.port)
      log.info({ address: config.admin.host, port }, 'admin listening')
    }
    if (config.pidFile !== '') {
      await writeFile(config.pidFile, `${process.pid}\n`)
      primary.#pidFile = config.pidFile
    }
    primary.status.serving = true
    primary.#kvChanged() // a Consul KV answer between the first one and now
    for (const w of certificateWarnings(config, Date.now())) log.warn({ problem: w }, 'TLS certificate')
    await primary.#watchCertificates()
    log.info({ workers, pid: process.pid }, 'started')
    return primary
  }

  /** Note how the certificate files are now and (re)arm the timer that looks at them (cert-watch.ts). */
  async #watchCertificates(): Promise<void> {
    const { paths, interval } = watchedCertificates(this.config)
    this.#certSignature = await pathsSignature(paths)
    if (this.#certTimer !== null) clearInterval(this.#certTimer)
    this.#certTimer = null
    if (interval <= 0) return
    this.#certTimer = setInterval(() => {
      this.refreshCertificates().catch((err: unknown) =>
        this.log.error({ err }, 'TLS certificates: refresh failed'),
      )
    }, interval)
    this.#certTimer.unref()
  }

  /** `config` with the certificates of its `consul_kv` prefixes, new prefixes read first (cert-kv.ts). */
  async #withKvCertificates(config: Config): Promise<Config> {
    await this.#kvCertificates.sync(config, kvFirstWait)
    return withKvCertificates(config, this.#kvCertificates.sets)
  }

  /** A `consul_kv` prefix's certificates changed: apply them like a certificate refresh. Serialised. */
  #kvChanged(): void {
    if (!this.status.serving) return
    this.#serialised(async () => {
      const config = withKvCertificates(this.config, this.#kvCertificates.sets)
      if (isDeepStrictEqual(config.listeners, this.config.listeners)) return
      this.config = config
      this.worker.config = config
      await this.#switchTo(config, this.#applied, 'TLS certificates reloaded from Consul KV')
    }).catch((err: unknown) => this.log.error({ err }, 'TLS certificates from Consul KV: apply failed'))
  }

  /** Run `fn` after the reloads and refreshes before it (one at a time). */
  #serialised<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#reloading.then(fn)
    this.#reloading = next.then(
      () => {},
      () => {},
    )
    return next
  }

  /**
   * Look at the certificate files; when they changed, load the config file (every pair checked) and apply only
   * its certificates: 'applied'; 'kept' when the new files do not load (logged, naming them) or a worker failed.
   * Serialised with reloads.
   */
  refreshCertificates(): Promise<'unchanged' | 'applied' | 'kept'> {
    return this.#serialised(() => this.#refreshCertificates())
  }

  async #refreshCertificates(): Promise<'unchanged' | 'applied' | 'kept'> {
    const signature = await pathsSignature(watchedCertificates(this.config).paths)
    if (signature === this.#certSignature) return 'unchanged'
    this.#certSignature = signature
    let loaded: Config
    try {
      loaded = await this.#loadFile()
    } catch (err) {
      this.log.error(
        { problems: loadProblems(err) },
        'TLS certificates changed but do not load: the ones serving stay',
      )
      return 'kept'
    }
    const config = withKvCertificates(withCertificates(this.config, loaded), this.#kvCertificates.sets)
    if (isDeepStrictEqual(config.listeners, this.config.listeners)) return 'unchanged'
    this.config = config
    this.worker.config = config
    const r = await this.#switchTo(config, this.#applied, 'TLS certificates reloaded')
    return r.ok ? 'applied' : 'kept'
  }

  /** The config file, read and checked again (reload, certificate refresh); throws as loadConfig does. */
  #loadFile(): Promise<Config> {
    return loadConfig({
      path: this.configPath,
      env: this.env,
      readFile: readText,
      readDir: readdir,
      refuseEmpty: true,
    })
  }

  /** Re-read the config; on any problem keep serving the old one and report every problem. Serialised. */
  reload(): Promise<ReloadResult> {
    return this.#serialised(() => this.#reload())
  }

  async #reload(): Promise<ReloadResult> {
    let config: Config
    try {
      config = await this.#withKvCertificates(await this.#ports.assign(await this.#loadFile()))
    } catch (err) {
      this.reloads.failed++
      const problems = loadProblems(err)
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
    for (const w of certificateWarnings(config, Date.now())) this.log.warn({ problem: w }, 'TLS certificate')
    this.fileProvider.set(configToSnapshot(config))
    this.#syncConsul(previous)
    await this.#syncRegistration(previous)
    const applied = this.#applied
    this.#publishProblems = []
    try {
      const r = await this.#switchTo(config, applied)
      await this.#watchCertificates()
      return r
    } finally {
      // The workers applied (or failed to apply) the config with any new port: the primary lets go of it.
      this.#ports.release()
    }
  }

  /** The second half of a reload: `config` is valid and set; bring the workers (or this process) onto it. */
  async #switchTo(config: Config, applied: number, done = 'configuration reloaded'): Promise<ReloadResult> {
    await this.watcher.flush()
    if (this.pool !== null) {
      // Listener or http changes with the same routes: the watcher dropped the equal snapshot.
      if (this.#applied === applied)
        this.#publishProblems = await this.pool.publish(config, this.#snapshot).problems
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
    this.log.info({ version: this.pool?.version ?? this.#applied }, done)
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

  /** The per-service counters the dashboard samples: this process's Worker's, or each worker process's. */
  async trafficCopies(): Promise<FamilyData[][]> {
    if (this.pool === null) return [this.worker.metrics.trafficData()]
    return (await this.pool.collectMetrics(2_000, true)).replies.map((r) => [...r.families])
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
    this.#kvCertificates.close()
    if (this.#certTimer !== null) clearInterval(this.#certTimer)
    this.#certTimer = null
    this.dashboard.stop()
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

/** Why a config file did not load, one line per problem (`file: path: message`). */
function loadProblems(err: unknown): string[] {
  return err instanceof ConfigError
    ? err.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`)
    : [String(err)]
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

/** The certificates of the TLS listeners of `config`, for `lb_tls_certificate_expiry_timestamp_seconds`. */
function certificateViews(config: Config): CertificateView[] {
  const out: CertificateView[] = []
  for (const l of config.listeners) {
    if (l.tls === undefined) continue
    for (const c of l.tls.certificates)
      out.push({ listener: l.name, name: c.names[0] ?? '', file: c.certFile, notAfter: c.notAfter })
  }
  return out
}
