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

  private constructor(options: PrimaryOptions, config: Config, log: Logger, accessLog: Logger) {
    this.configPath = options.configPath
    this.env = options.env
    this.config = config
    this.log = log
    this.status = { serving: false }
    this.worker = new Worker({ config, log, accessLog })
    this.admin = null
    this.reloads = { ok: 0, failed: 0 }
  }

  static async start(options: PrimaryOptions): Promise<Primary> {
    const config = await loadConfig({ path: options.configPath, env: options.env, readFile: readText })
    const log = options.log ?? createLogger(config.log)
    const accessLog = options.accessLog ?? createAccessLogger(config.log)
    const primary = new Primary(options, config, log, accessLog)
    await primary.worker.apply(configToSnapshot(config))
    await primary.worker.syncListeners(config, 0)
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
    this.config = config
    this.worker.config = config
    await this.worker.apply(configToSnapshot(config))
    await this.worker.syncListeners(config, 5_000)
    this.reloads.ok++
    this.log.info('configuration reloaded')
    return { ok: true, problems: [] }
  }

  /** Fail /health, stop listening, let requests finish up to `timeout`, then close everything. */
  async stop(timeout: number): Promise<void> {
    this.status.serving = false
    await this.worker.stop(timeout)
    await this.admin?.close()
    this.log.info('stopped')
    this.log.flush()
  }
}

function readText(path: string): Promise<string> {
  return readFile(path, 'utf8')
}
