/**
 * An in-process cluster Primary (workers forked from the built main.js, their stderr piped back) for tests that
 * call Primary methods directly (runtime controls) while reading every process's JSON log lines.
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Primary } from '../../src/primary.js'
import { mainJs, writeConfig } from './process.js'
import type { LogLine } from './daemon.js'

export class ClusterLb {
  readonly lines: LogLine[]
  readonly #waiters: Set<() => void>
  primary: Primary | null
  #onFork: ((w: ClusterWorker) => void) | null

  private constructor() {
    this.lines = []
    this.#waiters = new Set()
    this.primary = null
    this.#onFork = null
  }

  #push(text: string): void {
    for (const line of text.split('\n')) {
      if (line === '') continue
      try {
        this.lines.push(JSON.parse(line) as LogLine)
      } catch {
        this.lines.push({ msg: line })
      }
    }
    for (const f of [...this.#waiters]) f()
  }

  /** Start a Primary on `yaml` (which should say `workers: 2`); resolves once every worker listens. */
  static async start(yaml: string): Promise<ClusterLb> {
    const lb = new ClusterLb()
    cluster.setupPrimary({ exec: mainJs, args: [], silent: true })
    const onFork = (w: ClusterWorker): void => {
      let buf = ''
      w.process.stdout?.resume()
      w.process.stderr?.on('data', (chunk: Buffer) => {
        buf += chunk.toString()
        const nl = buf.lastIndexOf('\n')
        if (nl < 0) return
        lb.#push(buf.slice(0, nl))
        buf = buf.slice(nl + 1)
      })
    }
    cluster.on('fork', onFork)
    lb.#onFork = onFork
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lb.#push(chunk.toString())
        done()
      },
    })
    const log = pino({ level: 'info' }, sink)
    const silent = pino({ level: 'silent' })
    lb.primary = await Primary.start({ configPath: await writeConfig(yaml), env: {}, log, accessLog: silent })
    return lb
  }

  get p(): Primary {
    if (this.primary === null) throw new Error('not started')
    return this.primary
  }

  /** The n-th (from 1) log line of any process matching `pred`. */
  waitFor(pred: (l: LogLine) => boolean, what: string, n = 1, timeout = 30_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        let seen = 0
        for (const l of this.lines) {
          if (pred(l) && ++seen === n) {
            done()
            resolve(l)
            return
          }
        }
      }
      const done = (): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      const timer = setTimeout(() => {
        done()
        const tail = this.lines.slice(-20).map((l) => JSON.stringify(l))
        reject(new Error(`timed out waiting for ${what}:\n${tail.join('\n')}`))
      }, timeout)
      this.#waiters.add(check)
      check()
    })
  }

  count(pred: (l: LogLine) => boolean): number {
    let n = 0
    for (const l of this.lines) if (pred(l)) n++
    return n
  }

  /** Port of listener `name` as a worker logged it. */
  async port(name: string): Promise<number> {
    const l = await this.waitFor((x) => x.msg === 'listening' && x.listener === name, `listener ${name}`)
    return l.port as number
  }

  async stop(): Promise<void> {
    await this.primary?.stop(1_000)
    if (this.#onFork !== null) cluster.off('fork', this.#onFork)
  }
}
