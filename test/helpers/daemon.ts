/**
 * The built `lb` binary as a child process with its JSON log lines, for cluster and lifecycle tests: wait on log
 * lines (never sleep), signal it, rewrite its config, and drive a bounded load with a plain Node client loop.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request, type Agent, type IncomingHttpHeaders } from 'node:http'
import { writeFile } from 'node:fs/promises'
import { LogLines, type LogLine } from './log-lines.js'
import { mainJs, writeConfig } from './process.js'

export type { LogLine }

export class Daemon extends LogLines {
  readonly child: ChildProcess
  readonly file: string
  readonly exited: Promise<number | null>

  private constructor(file: string) {
    super()
    this.file = file
    this.child = spawn(process.execPath, [mainJs, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] })
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
    this.follow(this.child.stderr)
    this.child.once('exit', () => this.wake())
  }

  /** Start lb on `yaml` and wait for `ready` (default: the primary's "started" line, after admin and workers). */
  static async start(yaml: string, ready = 'started'): Promise<Daemon> {
    const d = new Daemon(await writeConfig(yaml))
    await d.waitFor((l) => l.msg === ready, ready)
    return d
  }

  protected override gone(): string | null {
    return this.child.exitCode !== null || this.child.signalCode !== null ? 'lb exited' : null
  }

  rewrite(yaml: string): Promise<void> {
    return writeFile(this.file, yaml)
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig)
  }

  /** SIGTERM and wait for the exit code; SIGKILL (and throw) if it takes longer than `timeout`. */
  async stop(timeout = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode
    this.child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeout)))
    const r = await Promise.race([this.exited, late])
    clearTimeout(timer)
    if (r === 'late') {
      this.child.kill('SIGKILL')
      throw new Error(`lb did not exit within ${timeout} ms:\n${this.tail()}`)
    }
    return r
  }
}

export interface Reply {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** One GET; `agent: false` opens a connection per request (so a failure is always that request's own). */
export function fetchOnce(
  port: number,
  path: string,
  agent: Agent | false = false,
  timeout = 10_000,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.setTimeout(timeout, () =>
      req.destroy(Object.assign(new Error('no answer in time'), { code: 'TIMEOUT' })),
    )
    req.on('error', reject)
    req.end()
  })
}

export interface Load {
  readonly result: LoadResult
  /** Resolves once `n` more requests have succeeded (the load is really flowing). */
  succeeded(n: number): Promise<void>
  stop(): Promise<LoadResult>
  sent(): number
}

export interface LoadResult {
  ok: number
  /** Non-200 answers and request errors, as `status` or the error code. */
  failed: string[]
  /** The `stopOn` errors that ended a loop (one per loop at most). */
  stopped: string[]
}

/**
 * `concurrency` client loops sending GET `path` back to back until `stop()`. Bounded: each loop has at most one
 * request in flight. With `stopOn`, a loop ends at the first error with one of those codes (e.g. ECONNREFUSED
 * after the listeners closed) without counting it as a failure.
 */
export function startLoad(
  port: number,
  path: string,
  options: { concurrency?: number; agent?: Agent | false; stopOn?: readonly string[]; timeout?: number } = {},
): Load {
  const result: LoadResult = { ok: 0, failed: [], stopped: [] }
  const waiters: { at: number; resolve: () => void }[] = []
  let running = true
  let sent = 0
  const loop = async (): Promise<void> => {
    while (running) {
      sent++
      try {
        const r = await fetchOnce(port, path, options.agent ?? false, options.timeout)
        if (r.status === 200) {
          result.ok++
          for (let i = waiters.length - 1; i >= 0; i--) {
            const w = waiters[i]
            if (w !== undefined && result.ok >= w.at) {
              waiters.splice(i, 1)
              w.resolve()
            }
          }
        } else result.failed.push(String(r.status))
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err)
        if (options.stopOn?.includes(code) === true) {
          result.stopped.push(code)
          return
        }
        result.failed.push(code)
      }
    }
  }
  const loops: Promise<void>[] = []
  for (let i = 0; i < (options.concurrency ?? 8); i++) loops.push(loop())
  return {
    result,
    sent: () => sent,
    succeeded(n: number) {
      return new Promise<void>((resolve) => waiters.push({ at: result.ok + n, resolve }))
    },
    async stop() {
      running = false
      await Promise.all(loops)
      return result
    },
  }
}

export interface ConfigHead {
  readonly workers?: number
  /** `admin.address` (default 'off'); `token` is added when given. */
  readonly admin?: string
  readonly token?: string
}

/**
 * The top most daemon test configs share: `workers` (default 2), admin, no access log, and listener `web` on
 * port 0 as the last lines, so more listeners may follow before `services:`.
 */
export function configHead(c: ConfigHead = {}): string {
  return `workers: ${c.workers ?? 2}
admin:
  address: ${c.admin ?? "'off'"}
${c.token === undefined ? '' : `  token: ${c.token}\n`}log:
  access:
    enabled: false
listeners:
  - name: web
    address: 127.0.0.1:0
`
}

export interface ClusterConfig extends ConfigHead {
  /** Port of the single server of service `a`. */
  readonly upstream: number
  /** Path of the one route to `a` (default `/`). */
  readonly path?: string
  /** Extra top-level YAML (e.g. a `shutdown:` block), placed first. */
  readonly extra?: string
  /** More keys of listener `web`, indented as its keys (e.g. certs.ts `tlsListenerLines`). */
  readonly listener?: string
}

/** The config most cluster tests use: listener `web` on port 0, service `a` with one server, one route. */
export function clusterConfig(c: ClusterConfig): string {
  return `
${c.extra ?? ''}
${configHead(c)}${c.listener ?? ''}services:
  - name: a
    servers:
      - address: 127.0.0.1:${c.upstream}
routes:
  - path: ${c.path ?? '/'}
    service: a
`
}
