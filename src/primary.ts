/**
 * The daemon's control side: load config, build the snapshot, run the serving Worker (in-process today),
 * the admin server, reload on SIGHUP and drain on SIGTERM.
 */
import { readFile } from 'node:fs/promises'
import { loadConfig } from './config/load.js'
import type { Config } from './config/schema.js'
import { configToSnapshot } from './provider/file.js'
import { ConfigError } from './errors.js'
import { createAccessLogger, createLogger, type Logger } from './log.js'
import { Worker } from './worker.js'
import { AdminServer, type AdminStatus } from './admin.js'
import { StaticProvider } from './provider/provider.js'
import { Watcher } from './provider/watcher.js'
import { ConsulProvider } from './provider/consul/consul.js'

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
  worker: Worker
  admin: AdminServer | null
  reloads: { ok: number; failed: number }
  /** Providers → watcher → worker.apply (STYLE §5). */
  readonly watcher: Watcher
  readonly fileProvider: StaticProvider
  consul: ConsulProvider | null
  #consulStop: AbortController | null
  readonly #stop: AbortController

  private constructor(options: PrimaryOptions, config: Config, log: Logger, accessLog: Logger) {
    this.configPath = options.configPath
    this.env = options.env
    this.config = config
    this.log = log
    this.status = { serving: false }
    this.worker = new Worker({ config, log, accessLog })
    this.admin = null
    this.reloads = { ok: 0, failed: 0 }
    this.fileProvider = new StaticProvider('file', configToSnapshot(config))
    this.consul = null
    this.#consulStop = null
    this.#stop = new AbortController()
    this.watcher = new Watcher({
      providers: [this.fileProvider],
      consumer: (snapshot) => this.worker.apply(snapshot),
      window: config.consul.throttle,
      onError: (err) => this.log.error({ err }, 'applying a snapshot failed'),
    })
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
    })
    this.watcher.add(this.consul, stop.signal)
    this.log.info(
      { addresses: c.addresses, datacenter: c.datacenter || '(agent)' },
      'consul discovery started',
    )
  }

  static async start(options: PrimaryOptions): Promise<Primary> {
    const config = await loadConfig({ path: options.configPath, env: options.env, readFile: readText })
    const log = options.log ?? createLogger(config.log)
    const accessLog = options.accessLog ?? createAccessLogger(config.log)
    const primary = new Primary(options, config, log, accessLog)
    await primary.worker.apply(configToSnapshot(config))
    await primary.worker.syncListeners(config, 0)
    primary.watcher.start(primary.#stop.signal)
    primary.#syncConsul(null)
    if (config.admin.port > 0) {
      primary.admin = new AdminServer(primary.worker, primary.status)
      const port = await primary.admin.listen(config.admin.host, config.admin.port)
      log.info({ address: config.admin.host, port }, 'admin listening')
    }
    primary.status.serving = true
    return primary
  }

  /** Re-read the config; on any problem keep serving the old one and report every problem. */
  async reload(): Promise<{ ok: boolean; problems: string[] }> {
    let config: Config
    try {
      config = await loadConfig({ path: this.configPath, env: this.env, readFile: readText })
    } catch (err) {
      this.reloads.failed++
      const problems =
        err instanceof ConfigError
          ? err.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`)
          : [String(err)]
      this.log.error({ problems }, 'reload failed: keeping the running configuration')
      return { ok: false, problems }
    }
    const previous = this.config
    this.config = config
    this.worker.config = config
    this.fileProvider.set(configToSnapshot(config))
    this.#syncConsul(previous)
    await this.watcher.flush()
    await this.worker.syncListeners(config, 5_000)
    this.reloads.ok++
    this.log.info('configuration reloaded')
    return { ok: true, problems: [] }
  }

  /** Fail /health, stop listening, let requests finish up to `timeout`, then close everything. */
  async stop(timeout: number): Promise<void> {
    this.status.serving = false
    this.#stop.abort()
    await this.worker.stop(timeout)
    await this.admin?.close()
    this.log.info('stopped')
    this.log.flush()
  }
}

function readText(path: string): Promise<string> {
  return readFile(path, 'utf8')
}
