/**
 * An in-process cluster Primary (workers forked from the built main.js, their stderr piped back) for tests that
 * call Primary methods directly (runtime controls) while reading every process's JSON log lines.
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { Primary } from '../../src/process/primary.js'
import { mainJs, writeConfig } from './process.js'
import { LogLines } from './log-lines.js'

export class ClusterLb extends LogLines {
  primary: Primary | null
  #onFork: ((w: ClusterWorker) => void) | null

  private constructor() {
    super()
    this.primary = null
    this.#onFork = null
  }

  /** Start a Primary on `yaml` (which should say `workers: 2`); resolves once every worker listens. */
  static async start(yaml: string): Promise<ClusterLb> {
    const lb = new ClusterLb()
    cluster.setupPrimary({ exec: mainJs, args: [], silent: true })
    const onFork = (w: ClusterWorker): void => {
      w.process.stdout?.resume()
      lb.follow(w.process.stderr)
    }
    cluster.on('fork', onFork)
    lb.#onFork = onFork
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lb.push(chunk.toString())
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

  async stop(): Promise<void> {
    await this.primary?.stop(1_000)
    if (this.#onFork !== null) cluster.off('fork', this.#onFork)
  }
}
