/**
 * ByteSink: the memory one watch's answers are read into, and the plain-HTTP GET that fills it straight from its
 * socket (docs/consul.md, "Large answers").
 *
 * The memory is a resizable ArrayBuffer that grows in place to the largest answer and is reused, so a 12 MB answer
 * per change allocates nothing; `SINK_IDLE` after the last answer it shrinks to nothing. V8 reserves its address
 * space and commits pages as it grows, and a shrink gives them back to the system: a Buffer per answer is malloc'd
 * memory glibc kept (RSS +110 MB over 100 changes), and a Buffer kept while idle is 12–16 MB of RSS.
 *
 * Why its own HTTP/1.1 reader (`get`) and not undici's: undici, like node:http, hands every socket read to
 * JavaScript as a Buffer of its own, up to 64 KB that Node mallocs and frees only when V8 collects the Buffer. The
 * `state` answer is 190 such reads per change at 10,000 services, and a change makes little other garbage, so V8
 * collects them late (when their total reaches its external-memory limit, with a full GC: 77 of them over 100
 * changes, 5 with this reader), and glibc's heap grows to hold them and keeps the holes (RSS 15 s after 100
 * changes: 198 MB, 159 MB with this reader; docs/consul.md). Here every connection's socket reads into one 64 KB
 * buffer (the `onread` option), and every read is copied into the sink's memory as it arrives: nothing allocated
 * per read. ConsulHttp (client.ts) sends all its plain-HTTP requests this way, the small ones through sinks of a
 * pool; over TLS (`scheme: https`) the answers still come through undici (`read`).
 */
import { connect, type Socket } from 'node:net'

/** A ByteSink gives its memory back this long after its last answer. */
export const SINK_IDLE = 5_000

/** The largest answer a ByteSink takes (address space reserved, not memory). */
export const SINK_MAX = 1024 * 1024 * 1024

/** The largest status line plus headers a `get` answer may have. */
export const HEAD_MAX = 64 * 1024

/** What one socket read may fill (Node's own read size). */
const READ_SIZE = 64 * 1024

/**
 * The buffer every sink connection's socket reads into. One per process is enough: Node calls the `onread`
 * callback with the bytes of one read before it reads again, and the callback copies them out (into the sink's
 * memory, or the head's text) before it returns.
 */
let readBuffer: Buffer | null = null

/** A `get` answer: `bytes` is a view of the sink's memory, valid until its next answer (or SINK_IDLE). */
export interface SinkAnswer {
  readonly status: number
  /** The `X-Consul-Index` header, '' when there is none. */
  readonly index: string
  readonly bytes: Buffer
}

export class ByteSink {
  readonly #memory: ArrayBuffer
  /** Tracks the memory's length. */
  readonly #all: Uint8Array
  #n = 0
  #timer: ReturnType<typeof setTimeout> | null = null
  #conn: SinkConnection | null = null

  /**
   * `signal`: closes the kept connection when it aborts (the watch's). `max`: the largest answer it takes (the
   * address space it reserves).
   */
  constructor(signal?: AbortSignal, max = SINK_MAX) {
    this.#memory = new ArrayBuffer(0, { maxByteLength: max })
    this.#all = new Uint8Array(this.#memory)
    signal?.addEventListener('abort', () => this.close(), { once: true })
  }

  /** The whole body, as a view of this sink's memory (valid until the next answer, or SINK_IDLE). */
  async read(body: AsyncIterable<Buffer>): Promise<Buffer> {
    this.begin()
    for await (const chunk of body) this.append(chunk, 0, chunk.length)
    return this.finish()
  }

  /**
   * GET over plain HTTP/1.1 on this sink's keep-alive connection to `address` (`host:port`, `[v6]:port`), with
   * `target` (path and query) and `headers` (lines, each ending in CRLF). Rejects on a network or protocol error,
   * after `timeout` ms without a byte, and when `signal` aborts. A kept connection the server closed before
   * answering is replaced once.
   */
  get(
    address: string,
    target: string,
    headers: string,
    timeout: number,
    signal: AbortSignal,
  ): Promise<SinkAnswer> {
    return this.request('GET', address, target, headers, null, timeout, signal)
  }

  /**
   * `get` with another `method` and a `body` (sent with its Content-Length; null = none). Only for idempotent
   * requests: a kept connection the server closed before answering sends it again on a new one.
   */
  async request(
    method: 'GET' | 'PUT',
    address: string,
    target: string,
    headers: string,
    body: string | null,
    timeout: number,
    signal: AbortSignal,
  ): Promise<SinkAnswer> {
    signal.throwIfAborted()
    const head =
      body === null
        ? `${method} ${target} HTTP/1.1\r\nHost: ${address}\r\n${headers}\r\n`
        : `${method} ${target} HTTP/1.1\r\nHost: ${address}\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    for (let attempt = 0; ; attempt++) {
      let conn = this.#conn
      if (conn === null || conn.address !== address || !conn.usable) {
        conn?.destroy(null)
        conn = new SinkConnection(address, this)
        this.#conn = conn
      }
      try {
        return await conn.exchange(head, timeout, signal)
      } catch (err) {
        if (this.#conn === conn) this.#conn = null
        if (!(err instanceof StaleConnection) || attempt > 0) throw err
      }
    }
  }

  /** Close the kept connection, if any. */
  close(): void {
    this.#conn?.destroy(null)
    this.#conn = null
  }

  /** An answer starts: its bytes go to the start of the memory. */
  begin(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#n = 0
  }

  /** Bytes `from`..`to` of `chunk` come next in the answer. */
  append(chunk: Uint8Array, from: number, to: number): void {
    const n = this.#n
    const end = n + to - from
    if (end > SINK_MAX) throw new Error(`answer larger than ${SINK_MAX} bytes`)
    if (end > this.#memory.byteLength) this.#memory.resize(Math.min(SINK_MAX, Math.max(end, 2 * n)))
    this.#all.set(chunk.subarray(from, to), n)
    this.#n = end
  }

  /** The answer is complete: its bytes, and the memory given back SINK_IDLE from now unless another comes. */
  finish(): Buffer {
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#memory.resize(0)
    }, SINK_IDLE)
    this.#timer.unref()
    return Buffer.from(this.#memory, 0, this.#n)
  }
}

/** The kept connection closed before the answer's first byte: the request may be sent again on a new one. */
class StaleConnection extends Error {}

/** Where an answer's parse is. */
type Phase = 'head' | 'length' | 'size' | 'data' | 'data-end' | 'trailer' | 'until-close' | 'done'

interface Pending {
  readonly resolve: (a: SinkAnswer) => void
  readonly reject: (err: Error) => void
  readonly signal: AbortSignal
  readonly onAbort: () => void
}

/** One keep-alive connection of a sink, and the parse of the answer in progress on it. */
class SinkConnection {
  readonly address: string
  readonly #sink: ByteSink
  readonly #socket: Socket
  #pending: Pending | null = null
  #closed = false
  #error: Error | null = null
  /** Destroyed by this side (a timeout, an abort, a bad answer), not by the server. */
  #ours = false
  #exchanges = 0
  /** Bytes of the current answer received so far. */
  #received = 0
  #phase: Phase = 'done'
  /** The head, or the current chunk-size or trailer line, as far as it has come. */
  #text = ''
  /** Bytes left of the body (Content-Length) or of the current chunk. */
  #left = 0
  #status = 0
  #index = ''
  #keepAlive = true

  constructor(address: string, sink: ByteSink) {
    this.address = address
    this.#sink = sink
    const { host, port } = hostPort(address)
    this.#socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: (readBuffer ??= Buffer.allocUnsafeSlow(READ_SIZE)),
        callback: (n, buf) => this.#onRead(n, buf as Buffer),
      },
    })
    this.#socket.on('error', (err) => (this.#error ??= err))
    this.#socket.on('timeout', () => this.destroy(new Error('no answer in time')))
    this.#socket.on('close', () => this.#onClose())
    this.#socket.unref()
  }

  /** Can take another request. */
  get usable(): boolean {
    return !this.#closed && this.#keepAlive && this.#pending === null
  }

  exchange(head: string, timeout: number, signal: AbortSignal): Promise<SinkAnswer> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void =>
        this.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      this.#pending = { resolve, reject, signal, onAbort }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#exchanges++
      this.#received = 0
      this.#phase = 'head'
      this.#text = ''
      this.#status = 0
      this.#index = ''
      this.#socket.ref()
      this.#socket.setTimeout(timeout)
      this.#socket.write(head)
    })
  }

  destroy(err: Error | null): void {
    if (err !== null && this.#pending !== null) this.#error ??= err
    this.#ours = true
    this.#closed = true
    this.#socket.destroy()
  }

  #settle(err: Error | null): void {
    const p = this.#pending
    if (p === null) return
    this.#pending = null
    p.signal.removeEventListener('abort', p.onAbort)
    this.#socket.setTimeout(0)
    this.#socket.unref()
    if (err !== null) {
      this.#phase = 'done'
      p.reject(err)
      return
    }
    p.resolve({ status: this.#status, index: this.#index, bytes: this.#sink.finish() })
  }

  #onClose(): void {
    this.#closed = true
    if (this.#pending === null) return
    if (this.#phase === 'until-close') {
      this.#phase = 'done'
      this.#settle(null)
      return
    }
    const err = this.#error
    // A kept connection the server closed or reset while idle fails the next request before any answer byte.
    if (!this.#ours && this.#received === 0 && this.#exchanges > 1) {
      this.#settle(new StaleConnection('kept connection closed'))
      return
    }
    this.#settle(err ?? new Error('connection closed before the answer was complete'))
  }

  #onRead(n: number, buf: Buffer): boolean {
    if (this.#pending === null) {
      // Bytes nobody asked for: the connection cannot be trusted with the next request.
      this.destroy(null)
      return false
    }
    this.#received += n
    try {
      this.#feed(buf, n)
    } catch (err) {
      this.destroy(err as Error)
      return false
    }
    return true
  }

  /** Parse `n` bytes of `buf`: head, then the body into the sink. */
  #feed(buf: Buffer, n: number): void {
    let i = 0
    while (i < n) {
      switch (this.#phase) {
        case 'head': {
          const end = indexOfHeadEnd(buf, i, n, this.#text)
          const to = end < 0 ? n : end
          this.#text += buf.toString('latin1', i, to)
          if (this.#text.length > HEAD_MAX) throw new Error(`answer head larger than ${HEAD_MAX} bytes`)
          i = to
          if (end >= 0) this.#parseHead()
          break
        }
        case 'length':
        case 'data': {
          const k = Math.min(this.#left, n - i)
          this.#sink.append(buf, i, i + k)
          i += k
          this.#left -= k
          if (this.#left === 0) this.#phase = this.#phase === 'length' ? 'done' : 'data-end'
          break
        }
        case 'until-close':
          this.#sink.append(buf, i, n)
          i = n
          break
        case 'size':
        case 'data-end':
        case 'trailer': {
          const lf = buf.indexOf(10, i)
          const to = lf < 0 || lf >= n ? n : lf
          this.#text += buf.toString('latin1', i, to)
          if (this.#text.length > 1024) throw new Error('chunked answer: line too long')
          i = to
          if (to < n) {
            i++
            this.#line()
          }
          break
        }
        case 'done':
          throw new Error('bytes after the answer')
      }
      if (this.#phase === 'done') {
        if (i < n) throw new Error('bytes after the answer')
        if (!this.#keepAlive) this.destroy(null)
        this.#settle(null)
        return
      }
    }
  }

  /** A whole chunk-size, chunk-end or trailer line is in `#text` (without its LF). */
  #line(): void {
    const line = this.#text.endsWith('\r') ? this.#text.slice(0, -1) : this.#text
    this.#text = ''
    if (this.#phase === 'data-end') {
      if (line !== '') throw new Error('chunked answer: chunk not followed by CRLF')
      this.#phase = 'size'
      return
    }
    if (this.#phase === 'trailer') {
      if (line === '') this.#phase = 'done'
      return
    }
    const semi = line.indexOf(';')
    const hex = (semi < 0 ? line : line.slice(0, semi)).trim()
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex))
      throw new Error(`chunked answer: bad chunk size ${JSON.stringify(hex)}`)
    this.#left = parseInt(hex, 16)
    this.#phase = this.#left === 0 ? 'trailer' : 'data'
  }

  #parseHead(): void {
    const lines = this.#text.split('\r\n')
    this.#text = ''
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '')
    if (m === null)
      throw new Error(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`)
    const status = Number(m[2])
    if (status < 200) throw new Error(`unexpected status ${status}`)
    let length = -1
    let chunked = false
    let connection = ''
    for (let k = 1; k < lines.length; k++) {
      const line = lines[k] as string
      if (line === '') continue
      const colon = line.indexOf(':')
      if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line.slice(0, 40))}`)
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (length >= 0 && Number(value) !== length))
          throw new Error(`bad Content-Length ${JSON.stringify(value)}`)
        length = Number(value)
      } else if (name === 'transfer-encoding') {
        if (value.toLowerCase() !== 'chunked')
          throw new Error(`unsupported Transfer-Encoding ${JSON.stringify(value)}`)
        chunked = true
      } else if (name === 'connection') {
        connection = value.toLowerCase()
      } else if (name === 'x-consul-index') {
        this.#index = value
      }
    }
    this.#status = status
    // The body starts (not the request: a blocking one waits minutes, and the idle sink gives its memory back).
    this.#sink.begin()
    this.#keepAlive = m[1] === '1' ? connection !== 'close' : connection === 'keep-alive'
    if (status === 204 || status === 304) {
      this.#phase = 'done'
    } else if (chunked) {
      this.#phase = 'size'
    } else if (length >= 0) {
      this.#left = length
      this.#phase = length === 0 ? 'done' : 'length'
    } else {
      this.#keepAlive = false
      this.#phase = 'until-close'
    }
  }
}

/** Where the blank line ending a head is in `buf[from..to)`: the index just past it, or -1. `seen`: the head so far. */
function indexOfHeadEnd(buf: Buffer, from: number, to: number, seen: string): number {
  // The CRLFCRLF may straddle two reads: look back into the head so far.
  for (let back = Math.min(3, seen.length); back > 0; back--) {
    const tail = seen.slice(-back)
    const need = '\r\n\r\n'.slice(back)
    if (
      '\r\n\r\n'.startsWith(tail) &&
      to - from >= need.length &&
      buf.toString('latin1', from, from + need.length) === need
    )
      return from + need.length
  }
  const at = buf.indexOf('\r\n\r\n', from, 'latin1')
  return at < 0 || at + 4 > to ? -1 : at + 4
}

/** `host:port` or `[v6]:port` (port 80 when absent). */
function hostPort(address: string): { host: string; port: number } {
  const u = new URL(`http://${address}`)
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  return { host, port: u.port === '' ? 80 : Number(u.port) }
}
