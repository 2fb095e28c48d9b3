/**
 * ByteSink: the memory one watch's answers are read into, and the plain-HTTP GET that fills it straight from its
 * socket (docs/consul.md, "Large answers").
 *
 * The memory is a resizable ArrayBuffer that grows in place to the largest answer and is reused, so a large answer
 * per change allocates nothing; `SINK_IDLE` after the last answer it shrinks to nothing. V8 reserves its address
 * space and commits pages as it grows, and a shrink gives them back to the system: a Buffer per answer is malloc'd
 * memory glibc kept (RSS +110 MB over 100 changes of the 12 MB `state` answer at 10,000 services). That answer now
 * does not come into memory at all: a sink with a tap (`stream`) hands a 200 answer's body over as it arrives, and
 * the `state` watch's tap diffs it as it streams (stream-diff.ts).
 *
 * Why its own HTTP/1.1 reader (`get`) and not undici's: undici, like node:http, hands every socket read to
 * JavaScript as a Buffer of its own, up to 64 KB that Node mallocs and frees only when V8 collects the Buffer. The
 * `state` answer is 190 such reads per change at 10,000 services, and a change makes little other garbage, so V8
 * collects them late (when their total reaches its external-memory limit, with a full GC: 77 of them over 100
 * changes, 5 with this reader), and glibc's heap grows to hold them and keeps the holes (RSS 15 s after 100
 * changes: 198 MB, 159 MB with this reader; docs/consul.md). Here every connection's socket reads into one 64 KB
 * buffer (the `onread` option), and every read is copied into the sink's memory as it arrives: nothing allocated
 * per read. ConsulHttp (client.ts) sends all its plain-HTTP requests this way, the small ones through sinks of a
 * pool; over TLS (`scheme: https`) the answers still come through undici (`read`). The answers are parsed as
 * strictly as the proxy parses its servers' responses, with the same parsers (src/net/h1/).
 */
import { connect, type Socket } from 'node:net'
import { headEnd, parseResponseHead, ResponseHead, transferCodings } from '../../net/h1/parse.js'
import { ChunkedDecoder, type ChunkSink } from '../../net/h1/chunked.js'

/**
 * A ByteSink gives its memory back this long after its last answer, so changes less than a minute apart reuse it.
 * Given back after 5 s, the 12 MB `state` answer at 10,000 services (when it still came into a sink) was new external
 * memory on every change 10 s apart, for which V8 started a full GC each time, plus fresh pages to fill: such a
 * change took twice as long to reach traffic and over twice the CPU (bench/RESULTS.md, "isolated changes").
 */
export const SINK_IDLE = 60_000

/** The largest answer a ByteSink takes (address space reserved, not memory). */
export const SINK_MAX = 1024 * 1024 * 1024

/** The largest status line plus headers a `get` answer may have. */
export const HEAD_MAX = 64 * 1024

/** What one socket read may fill (Node's own read size). */
const READ_SIZE = 64 * 1024

/**
 * The buffer every sink connection's socket reads into. One per process is enough: Node calls the `onread`
 * callback with the bytes of one read before it reads again, and the callback copies them out (into the sink's
 * memory, or the head's copy and strings) before it returns.
 */
let readBuffer: Buffer | null = null

/** A `get` answer: `bytes` is a view of the sink's memory, valid until its next answer (or SINK_IDLE). */
export interface SinkAnswer {
  readonly status: number
  /** The `X-Consul-Index` header, '' when there is none. */
  readonly index: string
  readonly bytes: Buffer
}

/**
 * Where a sink sends a 200 answer's body instead of its memory (`ByteSink.stream`): the `state` answer goes to an
 * ArrayStream (stream-diff.ts) as it arrives, and is never held whole.
 */
export interface BodyTap {
  begin(): void
  write(chunk: Uint8Array, from: number, to: number): void
  finish(): void
}

const NOTHING = Buffer.alloc(0)

export class ByteSink {
  readonly #memory: ArrayBuffer
  /** Tracks the memory's length. */
  readonly #all: Uint8Array
  #n = 0
  #timer: ReturnType<typeof setTimeout> | null = null
  #conn: SinkConnection | null = null
  #tap: BodyTap | null = null
  /** The answer in progress goes to `#tap`. */
  #tapping = false

  /**
   * `signal`: closes the kept connection when it aborts (the watch's). `max`: the largest answer it takes (the
   * address space it reserves).
   */
  constructor(signal?: AbortSignal, max = SINK_MAX) {
    this.#memory = new ArrayBuffer(0, { maxByteLength: max })
    this.#all = new Uint8Array(this.#memory)
    signal?.addEventListener('abort', () => this.close(), { once: true })
  }

  /**
   * From now on the body of an answer with status 200 goes to `tap` as it arrives; the answer's `bytes` are
   * empty. Other answers (an error's text) still come into this sink's memory.
   */
  stream(tap: BodyTap): void {
    this.#tap = tap
  }

  /** The whole body of an answer with `status`, as a view of this sink's memory (valid until the next answer, or SINK_IDLE). */
  async read(body: AsyncIterable<Buffer>, status: number): Promise<Buffer> {
    this.begin(status)
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

  /** Bytes of memory this sink holds now (its largest answer's, until given back). */
  get held(): number {
    return this.#memory.byteLength
  }

  /**
   * Give the memory back now if it holds more than `keep` bytes: a pooled sink (client.ts) whose answer has been
   * decoded, so one large answer is not kept for SINK_IDLE by a sink that mostly reads small ones.
   */
  trim(keep: number): void {
    if (this.#memory.byteLength > keep) this.#memory.resize(0)
  }

  /** An answer with `status` starts: its bytes go to the start of the memory, or to the tap. */
  begin(status: number): void {
    this.#tapping = status === 200 && this.#tap !== null
    if (this.#tapping) {
      this.#tap?.begin()
      return
    }
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#n = 0
  }

  /** Bytes `from`..`to` of `chunk` come next in the answer. */
  append(chunk: Uint8Array, from: number, to: number): void {
    if (this.#tapping) {
      this.#tap?.write(chunk, from, to)
      return
    }
    const n = this.#n
    const end = n + to - from
    if (end > SINK_MAX) throw new Error(`answer larger than ${SINK_MAX} bytes`)
    if (end > this.#memory.byteLength) this.#memory.resize(Math.min(SINK_MAX, Math.max(end, 2 * n)))
    this.#all.set(chunk.subarray(from, to), n)
    this.#n = end
  }

  /** The answer is complete: its bytes, and the memory given back SINK_IDLE from now unless another comes. */
  finish(): Buffer {
    if (this.#tapping) {
      this.#tapping = false
      this.#tap?.finish()
      return NOTHING
    }
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
type Phase = 'head' | 'length' | 'chunked' | 'until-close' | 'done'

interface Pending {
  readonly resolve: (a: SinkAnswer) => void
  readonly reject: (err: Error) => void
  readonly signal: AbortSignal
  readonly onAbort: () => void
}

/**
 * One keep-alive connection of a sink, and the parse of the answer in progress on it, with the proxy's strict
 * HTTP/1.1 parsers (src/net/h1/parse.ts, src/net/h1/chunked.ts).
 */
class SinkConnection implements ChunkSink {
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
  /**
   * A head that spans socket reads, copied as it comes (the read buffer is reused); `#headLength` bytes of it are
   * the head so far. null between such heads, so an idle connection holds none.
   */
  #head: Buffer | null = null
  #headLength = 0
  readonly #resp = new ResponseHead()
  readonly #decoder = new ChunkedDecoder(this)
  /** Bytes left of a Content-Length body. */
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
      this.#head = null
      this.#headLength = 0
      this.#decoder.reset()
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

  /** ChunkSink: decoded chunk data goes to the sink. */
  chunkData(buf: Buffer, start: number, end: number): void {
    this.#sink.append(buf, start, end)
  }

  /** ChunkSink: the last chunk and the trailers (checked by the decoder, not kept) were read. */
  chunkedEnd(): void {
    this.#phase = 'done'
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

  /**
   * Parse `n` bytes of `buf`: head, then the body into the sink. An answer's head starts at a read's first byte:
   * bytes after the previous answer are refused, and so is a 1xx head.
   */
  #feed(buf: Buffer, n: number): void {
    let i = 0
    if (this.#phase === 'head') {
      i = this.#readHead(buf, n)
      if (i < 0) return
    }
    switch (this.#phase) {
      case 'length': {
        const k = Math.min(this.#left, n - i)
        this.#sink.append(buf, i, i + k)
        i += k
        this.#left -= k
        if (this.#left === 0) this.#phase = 'done'
        break
      }
      case 'chunked': {
        // Sets 'done' (chunkedEnd) at the body's end, and reads no further.
        const k = this.#decoder.feed(buf, i, n)
        if (k < 0) throw new Error(`chunked answer: ${this.#decoder.error}`)
        i += k
        break
      }
      case 'until-close':
        this.#sink.append(buf, i, n)
        i = n
        break
    }
    if (this.#phase === 'done') {
      if (i < n) throw new Error('bytes after the answer')
      if (!this.#keepAlive) this.destroy(null)
      this.#settle(null)
    }
  }

  /**
   * The head's bytes from `buf[0, n)`: where the body starts in `buf` once the head is complete and parsed, -1
   * while it is not. A head within one read is parsed in place; one that spans reads is copied until its end
   * (at most HEAD_MAX + 1 bytes: past that it is refused anyway), so each read's search starts where the last
   * one left off.
   */
  #readHead(buf: Buffer, n: number): number {
    // `headEnd` searches to the end of the buffer it is given: only `n` bytes of the shared one are this read's.
    const bytes = n === buf.length ? buf : buf.subarray(0, n)
    const had = this.#headLength
    if (had === 0) {
      const end = headEnd(bytes, 0)
      if (end >= 0) {
        this.#parseHead(bytes, end)
        return end
      }
    }
    const head = this.#keepHead(bytes, Math.min(n, HEAD_MAX + 1 - had))
    // The CRLFCRLF may straddle two reads: look back 3 bytes into the head so far.
    const end = had === 0 ? -1 : headEnd(head, Math.max(0, had - 3))
    if (end < 0) {
      if (head.length > HEAD_MAX) throw new Error(`answer head larger than ${HEAD_MAX} bytes`)
      return -1
    }
    this.#parseHead(head, end)
    this.#head = null
    this.#headLength = 0
    return end - had
  }

  /** Appends `bytes[0, take)` to the head so far: the head so far, as a view of `#head`. */
  #keepHead(bytes: Buffer, take: number): Buffer {
    const had = this.#headLength
    const length = had + take
    let head = this.#head
    if (head === null || head.length < length) {
      const grown = Buffer.allocUnsafe(Math.min(HEAD_MAX + 1, Math.max(length, 2 * had, 1024)))
      head?.copy(grown, 0, 0, had)
      head = this.#head = grown
    }
    bytes.copy(head, had, 0, take)
    this.#headLength = length
    return head.subarray(0, length)
  }

  /** The complete head `bytes[0, end)`: the status, the index, keep-alive and the body's framing. */
  #parseHead(bytes: Buffer, end: number): void {
    if (end > HEAD_MAX) throw new Error(`answer head larger than ${HEAD_MAX} bytes`)
    const resp = this.#resp
    if (!parseResponseHead(bytes, 0, end, resp)) {
      if (resp.status !== 0) throw new Error(`bad answer head: ${resp.error}`)
      const line = bytes.toString('latin1', 0, Math.min(end, 40)).split('\r\n', 1)[0] as string
      throw new Error(`bad answer head: ${resp.error} ${JSON.stringify(line)}`)
    }
    const status = resp.status
    if (status < 200) throw new Error(`unexpected status ${status}`)
    if (resp.transferEncoding !== '' && transferCodings(resp.transferEncoding) !== 0)
      throw new Error(`unsupported Transfer-Encoding ${JSON.stringify(resp.transferEncoding)}`)
    const headers = resp.headers
    for (let k = 0; k < headers.length; k += 2) {
      const name = headers[k] as string
      if (name.length === 14 && name.toLowerCase() === 'x-consul-index')
        this.#index = headers[k + 1] as string
    }
    this.#status = status
    // The body starts (not the request: a blocking one waits minutes, and the idle sink gives its memory back).
    this.#sink.begin(status)
    this.#keepAlive = resp.keepAlive
    if (status === 204 || status === 304) {
      this.#phase = 'done'
    } else if (resp.chunked) {
      this.#phase = 'chunked'
    } else if (resp.contentLength >= 0) {
      this.#left = resp.contentLength
      this.#phase = resp.contentLength === 0 ? 'done' : 'length'
    } else {
      this.#keepAlive = false
      this.#phase = 'until-close'
    }
  }
}

/** `host:port` or `[v6]:port` (port 80 when absent). */
function hostPort(address: string): { host: string; port: number } {
  const u = new URL(`http://${address}`)
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  return { host, port: u.port === '' ? 80 : Number(u.port) }
}
