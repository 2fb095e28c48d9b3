/**
 * The JSON log lines of an lb under test (a child process, or an in-process Primary and its workers), with
 * waits on them: tests wait for a line, never sleep. Daemon and ClusterLb extend it.
 */
import { Writable, type Readable } from 'node:stream'
import { pino, type Logger } from 'pino'

export type LogLine = Record<string, unknown>

export class LogLines {
  readonly lines: LogLine[]
  readonly #waiters: Set<() => void>

  constructor() {
    this.lines = []
    this.#waiters = new Set()
  }

  /** Adds complete lines (JSON; anything else as `{ msg }`), then wakes the waiters. */
  protected push(text: string): void {
    for (const line of text.split('\n')) {
      if (line === '') continue
      try {
        this.lines.push(JSON.parse(line) as LogLine)
      } catch {
        this.lines.push({ msg: line })
      }
    }
    this.wake()
  }

  /** Adds the lines `stream` (a process's stderr) writes, each once it is complete. */
  protected follow(stream: Readable | null): void {
    let buf = ''
    stream?.on('data', (chunk: Buffer) => {
      buf += chunk.toString()
      const nl = buf.lastIndexOf('\n')
      if (nl < 0) return
      this.push(buf.slice(0, nl))
      buf = buf.slice(nl + 1)
    })
  }

  protected wake(): void {
    for (const f of [...this.#waiters]) f()
  }

  /** Why no more lines can come (e.g. the process exited), or null while they can. */
  protected gone(): string | null {
    return null
  }

  /** The n-th (from 1) log line matching `pred`, counting every line logged since the start. */
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
        const gone = this.gone()
        if (gone !== null) {
          done()
          reject(new Error(`${gone} while waiting for ${what}:\n${this.tail()}`))
        }
      }
      const done = (): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timed out waiting for ${what}:\n${this.tail()}`))
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

  /** Port of the first "listening" line of listener `name` (any worker's). */
  async port(name: string): Promise<number> {
    const l = await this.waitFor((x) => x.msg === 'listening' && x.listener === name, `listener ${name}`)
    return l.port as number
  }

  tail(n = 20): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n')
  }
}

/** A pino logger (for an in-process Primary) whose lines are kept, with the waits of LogLines. */
export class CapturedLog extends LogLines {
  readonly log: Logger

  constructor(level = 'info') {
    super()
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.push(chunk.toString())
        cb()
      },
    })
    this.log = pino({ level }, sink)
  }
}
