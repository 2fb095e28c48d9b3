/**
 * Consul HTTP API client: requests and the blocking-query loop, nothing else (I/O only; build.ts
 * decides what the data means).
 *
 * Why undici and not the `consul` npm package: lb already depends on undici, and `consul.watch` breaks several
 * of Consul's documented rules that lb must follow (docs/consul.md: no rate limiting, backoff without
 * jitter, no payload comparison, the watch ends for good on a 400 or a missing index, one connection setting for
 * all). Wrapping it would leave little of it in use, so the loop below is written over `undici.request`.
 *
 * `Watch` implements the blocking-query rules of https://developer.hashicorp.com/consul/api-docs/features/blocking
 * (docs/consul.md, blocking queries):
 * - the first request has no `index` (a plain read); each later one sends the last `X-Consul-Index` and `wait`;
 * - a response without a usable `X-Consul-Index` is an error (retried with backoff, never a busy loop);
 * - **index going backwards → reset**: the next request is a plain read (no index), then blocking resumes from
 *   the new index; otherwise lb would wait for an index that may never come again (raft snapshot restore);
 * - **never index < 1**: an index of 0 (or less) from the server is replaced by 1;
 * - **rate limit**: a token bucket per watch (`burst` tokens, one more per `interval`) so a watch that keeps
 *   returning at once (churn elsewhere bumps the index: hashicorp/consul#3890) cannot hammer the agent, while the
 *   happy path (a change after a long block) proceeds immediately. An answer whose payload changed gives its
 *   token back: only answers that bring nothing new (churn, wait expiry) drain the bucket, as Consul's guidance
 *   has it ("proceed immediately in the happy case, degrade under churn"). Charging real changes too made the
 *   one `state` watch, which sees every change of the datacenter, wait up to `interval` per change as soon as
 *   changes came faster than one per `interval` (bench: median 85 → 39 ms at 1,000 services);
 * - **payload comparison**: a return is no proof of change (hashicorp/consul#4988), so `onData` is called only
 *   when the body differs from the last one (compared by SHA-1 digest, so a watch keeps 28 bytes, not the body);
 * - **errors**: exponential backoff from `min` to `max` with jitter (each delay is uniform in [d/2, d]), the
 *   index kept (a later success resumes blocking where it left off);
 * - state for metrics and the admin API: last index, last success time, consecutive and total errors, last
 *   error, data age.
 */
import { createHash } from 'node:crypto'
import { StringDecoder } from 'node:string_decoder'
import type * as Undici from 'undici'
import type { Agent } from 'undici'
import { ConsulError } from '../../model/errors.js'
import { ByteSink } from './sink.js'

/**
 * undici, loaded on the first HTTPS request to Consul (plain HTTP goes through sinks, sink.ts): importing it costs
 * a process about 30 MB of RSS (measured on Node 24: 44 → 76 MB for a bare process) and, in a CPU profile of the
 * cluster primary at 10,000 services, 280 ms before the first Consul request could go out.
 */
let undici: Promise<typeof Undici> | null = null
function loadUndici(): Promise<typeof Undici> {
  undici ??= import('undici')
  return undici
}

export interface ConsulReply {
  readonly status: number
  /** `X-Consul-Index` as a number; NaN when missing or not a number. */
  readonly index: number
  readonly text: string
}

/** A `getBytes` answer: the body as bytes, `text` ''. */
export interface BytesReply extends ConsulReply {
  readonly bytes: Buffer
}

export interface HttpOptions {
  readonly addresses: readonly string[]
  readonly scheme: 'http' | 'https'
  readonly tls: {
    readonly ca: string
    readonly cert: string
    readonly key: string
    readonly skipVerify: boolean
  }
  readonly token: string
  readonly datacenter: string
  readonly consistency: 'default' | 'stale' | 'consistent'
  readonly wait: number
}

/** Idle sinks (each with its kept connection) a ConsulHttp keeps for its small plain-HTTP requests. */
const IDLE_SINKS = 16

/** The largest small answer (`get`, `put`): the address space each pooled sink reserves. */
const TEXT_MAX = 256 * 1024 * 1024

/**
 * Memory a pooled sink keeps for the next request. A larger answer's is given back as soon as it is decoded: a read
 * by node is that node's share of the catalog, 4 MB when 10,000 services sit on 3 nodes, and the idle sinks kept
 * about 11 MB of the sync's reads for SINK_IDLE (sink.ts), a minute.
 */
export const POOL_KEEP = 256 * 1024

/** Plain requests to the first working address; a network error moves on to the next address. */
export class ConsulHttp {
  readonly #options: HttpOptions
  /** HTTPS only: made on the first request (see `loadUndici`). */
  #agent: Agent | null
  #current: number
  /** Plain HTTP: sinks not in use, most recently used last. */
  readonly #idle: ByteSink[]
  #closed: boolean

  constructor(options: HttpOptions) {
    this.#options = options
    this.#agent = null
    this.#current = 0
    this.#idle = []
    this.#closed = false
  }

  /** undici's `request` and this client's keep-alive Agent. */
  async #http(): Promise<{ request: (typeof Undici)['request']; agent: Agent }> {
    const u = await loadUndici()
    if (this.#agent === null) {
      const tls = this.#options.tls
      this.#agent = new u.Agent({
        keepAliveTimeout: 30_000,
        connect:
          this.#options.scheme === 'https'
            ? {
                rejectUnauthorized: !tls.skipVerify,
                ...(tls.ca === '' ? {} : { ca: tls.ca }),
                ...(tls.cert === '' ? {} : { cert: tls.cert, key: tls.key }),
              }
            : {},
      })
    }
    return { request: u.request, agent: this.#agent }
  }

  /** The address requests currently go to. */
  get address(): string {
    return this.#options.addresses[this.#current] ?? ''
  }

  /**
   * GET `path` with the common query (dc, consistency) plus `query`. `index > 0` makes it a blocking query
   * with the configured `wait`. Non-2xx answers other than 404 are thrown as ConsulError; so are network errors.
   */
  async get(
    path: string,
    query: Readonly<Record<string, string>>,
    index: number,
    signal: AbortSignal,
  ): Promise<ConsulReply> {
    if (this.#options.scheme === 'http') {
      const { target, timeout } = this.#target(path, query, index)
      return this.#plain(path, 'GET', target, '', null, timeout, signal)
    }
    const res = await this.#send(path, query, index, signal)
    const text = await bodyText(res.body)
    refuseStatus(path, res.statusCode, text)
    return { status: res.statusCode, index: consulIndex(res.headers['x-consul-index']), text }
  }

  /** A small plain-HTTP request through a pooled sink, its answer decoded. */
  async #plain(
    path: string,
    method: 'GET' | 'PUT',
    target: string,
    headers: string,
    body: string | null,
    timeout: number,
    signal: AbortSignal,
  ): Promise<ConsulReply> {
    const sink = this.#idle.pop() ?? new ByteSink(undefined, TEXT_MAX)
    const address = this.address
    let answer
    try {
      answer = await sink.request(
        method,
        address,
        target,
        this.#tokenHeader() + headers,
        body,
        timeout,
        signal,
      )
    } catch (err) {
      this.#release(sink)
      throw this.#failed(path, address, err, signal)
    }
    const text = answer.bytes.toString('utf8')
    this.#release(sink)
    refuseStatus(path, answer.status, text)
    return { status: answer.status, index: consulIndex(answer.index), text }
  }

  /** A sink's request is over: keep it (and its connection) for the next, unless enough are idle. */
  #release(sink: ByteSink): void {
    sink.trim(POOL_KEEP)
    if (this.#closed || this.#idle.length >= IDLE_SINKS) sink.close()
    else this.#idle.push(sink)
  }

  /** Bytes of memory the idle sinks hold. */
  get pooled(): number {
    let n = 0
    for (const sink of this.#idle) n += sink.held
    return n
  }

  /** The token as a header line ('' without one). */
  #tokenHeader(): string {
    const token = this.#options.token
    // A token is one header value: a line break in it would end the header (undici refuses such values too).
    if (/[\r\n\0]/.test(token)) throw new Error('the token holds a line break or NUL')
    return token === '' ? '' : `X-Consul-Token: ${token}\r\n`
  }

  /**
   * `get` for a large answer, read as bytes into `sink` (the `state` watch's 12 MB at 10,000 services, diffed as
   * bytes: jsondiff.ts): `bytes` is a view of the sink's memory, valid until the sink's next answer; `text` is ''.
   * Over plain HTTP the sink reads the answer from its own connection (sink.ts: no allocation per socket read);
   * over HTTPS through undici.
   */
  async getBytes(
    path: string,
    query: Readonly<Record<string, string>>,
    index: number,
    signal: AbortSignal,
    sink: ByteSink,
  ): Promise<BytesReply> {
    if (this.#options.scheme === 'https') {
      const res = await this.#send(path, query, index, signal)
      const bytes = await sink.read(res.body, res.statusCode)
      refuseStatus(path, res.statusCode, bytes.toString('utf8', 0, 200))
      return { status: res.statusCode, index: consulIndex(res.headers['x-consul-index']), text: '', bytes }
    }
    const { target, timeout } = this.#target(path, query, index)
    const address = this.address
    let answer
    try {
      answer = await sink.get(address, target, this.#tokenHeader(), timeout, signal)
    } catch (err) {
      throw this.#failed(path, address, err, signal)
    }
    refuseStatus(path, answer.status, answer.bytes.toString('utf8', 0, 200))
    return { status: answer.status, index: consulIndex(answer.index), text: '', bytes: answer.bytes }
  }

  /** The path and query of a GET (common query, blocking `index` and `wait`), and how long its answer may take. */
  #target(
    path: string,
    query: Readonly<Record<string, string>>,
    index: number,
  ): { target: string; timeout: number } {
    const o = this.#options
    const params = new URLSearchParams(query)
    if (o.datacenter !== '') params.set('dc', o.datacenter)
    if (o.consistency !== 'default') params.set(o.consistency, '')
    let timeout = 30_000
    if (index > 0) {
      params.set('index', String(index))
      params.set('wait', `${o.wait}ms`)
      // Consul adds up to wait/16 of jitter; allow that plus a margin before giving up on the answer.
      timeout = o.wait + Math.ceil(o.wait / 16) + 10_000
    }
    const qs = params.toString().replace(/=(?=&|$)/g, '')
    return { target: qs === '' ? path : `${path}?${qs}`, timeout }
  }

  /** A request to `address` failed: the error to throw, and the next address to try (a network error). */
  #failed(path: string, address: string, err: unknown, signal: AbortSignal): ConsulError {
    const o = this.#options
    if (!signal.aborted && o.addresses.length > 1) this.#current = (this.#current + 1) % o.addresses.length
    return new ConsulError(path, 0, `${address}: ${describe(err)}`, { cause: err })
  }

  async #send(
    path: string,
    query: Readonly<Record<string, string>>,
    index: number,
    signal: AbortSignal,
  ): Promise<Undici.Dispatcher.ResponseData> {
    const o = this.#options
    const { target, timeout } = this.#target(path, query, index)
    const address = this.address
    const headers: Record<string, string> = {}
    if (o.token !== '') headers['x-consul-token'] = o.token
    const { request, agent } = await this.#http()
    try {
      return await request(`${o.scheme}://${address}${target}`, {
        method: 'GET',
        headers,
        signal,
        dispatcher: agent,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      })
    } catch (err) {
      throw this.#failed(path, address, err, signal)
    }
  }

  /**
   * PUT `path` (agent endpoints: service register/deregister) with a JSON `body` (null = none). Non-2xx answers
   * and network errors are thrown as ConsulError; the token is sent, never logged.
   */
  async put(path: string, body: unknown, signal: AbortSignal): Promise<ConsulReply> {
    const o = this.#options
    const json = body === null ? '' : JSON.stringify(body)
    if (o.scheme === 'http')
      return this.#plain(path, 'PUT', path, 'Content-Type: application/json\r\n', json, 30_000, signal)
    const address = this.address
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (o.token !== '') headers['x-consul-token'] = o.token
    const { request, agent } = await this.#http()
    let res
    try {
      res = await request(`${o.scheme}://${address}${path}`, {
        method: 'PUT',
        headers,
        body: json,
        signal,
        dispatcher: agent,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      })
    } catch (err) {
      throw this.#failed(path, address, err, signal)
    }
    const text = await res.body.text()
    refuseStatus(path, res.statusCode, text)
    return { status: res.statusCode, index: NaN, text }
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const sink of this.#idle.splice(0)) sink.close()
    const agent = this.#agent
    this.#agent = null
    if (agent !== null) await agent.close()
  }
}

/** An answer of 300 or more other than 404 is an error, with the start of its body. */
function refuseStatus(path: string, status: number, body: string): void {
  if (status >= 300 && status !== 404)
    throw new ConsulError(path, status, `HTTP ${status}: ${body.slice(0, 200).trim()}`)
}

/** `X-Consul-Index` as a number; NaN when missing or not a number. */
function consulIndex(raw: unknown): number {
  return typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN
}

/**
 * A response body as text, decoded chunk by chunk. undici's `body.text()` first joins the chunks into one Buffer,
 * memory outside V8's heap that glibc kept after it was freed (the `state` answer, 12 MB at 10,000 services, grew
 * RSS by 110 MB over 100 changes; it is now read by `getBytes`). The text is a rope of the chunks: fine for
 * JSON.parse, slow to slice (jsondiff.ts works on bytes).
 */
async function bodyText(body: AsyncIterable<Buffer>): Promise<string> {
  const decoder = new StringDecoder('utf8')
  let text = ''
  for await (const chunk of body) text += decoder.write(chunk)
  return text + decoder.end()
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return typeof code === 'string' ? `${code} ${err.message}` : err.message
  }
  return String(err)
}

export interface WatchState {
  readonly name: string
  /** Index the next blocking request sends (0 = the next request is a plain read). */
  readonly lastIndex: number
  /** Date.now() of the last successful answer; 0 = never. */
  readonly lastSuccess: number
  /** Consecutive errors (0 after a success). */
  readonly errors: number
  readonly totalErrors: number
  readonly lastError: string
  /** Times the index went backwards and was reset. */
  readonly resets: number
  /** Answers whose payload differed from the previous one. */
  readonly changes: number
}

/** One request of a watch: `index` 0 = plain read. */
export type WatchFetch<R extends ConsulReply = ConsulReply> = (
  index: number,
  signal: AbortSignal,
) => Promise<R>

export interface WatchOptions<R extends ConsulReply = ConsulReply> {
  readonly name: string
  readonly fetch: WatchFetch<R>
  /** Called with each new payload (body text differs from the previous one). */
  onData(reply: R): unknown
  /**
   * false: call `onData` with every answer, which compares it itself and returns false when nothing changed
   * (the `state` watch: its 12 MB answer at 10,000 services is diffed against the last one anyway,
   * provider/consul/jsondiff.ts, and a SHA-1 of it cost 40–60 ms per change on the bench VM). Default true.
   */
  readonly compare?: boolean
  /** Called after each failed request (for logging). */
  readonly onError?: (err: unknown, state: WatchState) => void
  readonly rateLimit: { readonly interval: number; readonly burst: number }
  readonly backoff: { readonly min: number; readonly max: number }
  readonly rand?: () => number
  readonly now?: () => number
}

/** A short digest of a payload, to tell whether it changed without keeping it. */
export function payloadDigest(text: string): string {
  return createHash('sha1').update(text).digest('base64')
}

/** Sleep `ms` unless `signal` aborts first; never leaves a timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Delay before retry number `attempt` (1-based): exponential, capped, uniform in [d/2, d]. */
export function backoffDelay(attempt: number, min: number, max: number, rand: () => number): number {
  const d = Math.min(max, min * 2 ** Math.min(attempt - 1, 30))
  return d / 2 + rand() * (d / 2)
}

/** Token bucket: `burst` tokens, refilled one per `interval` ms. */
export class TokenBucket {
  readonly #interval: number
  readonly #burst: number
  readonly #now: () => number
  #tokens: number
  #last: number
  constructor(interval: number, burst: number, now: () => number) {
    this.#interval = interval
    this.#burst = burst
    this.#now = now
    this.#tokens = burst
    this.#last = now()
  }
  /** 0 when a token was taken now, else the ms to wait before trying again. */
  take(): number {
    if (this.#interval <= 0) return 0
    const now = this.#now()
    const refill = Math.floor((now - this.#last) / this.#interval)
    if (refill > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + refill)
      this.#last = this.#tokens === this.#burst ? now : this.#last + refill * this.#interval
    }
    if (this.#tokens >= 1) {
      this.#tokens--
      return 0
    }
    return this.#last + this.#interval - now
  }
  /** Give back a token taken by `take` (up to `burst`). */
  refund(): void {
    if (this.#tokens < this.#burst) this.#tokens++
  }
}

export class Watch<R extends ConsulReply = ConsulReply> {
  readonly name: string
  readonly #o: WatchOptions<R>
  readonly #rand: () => number
  readonly #now: () => number
  readonly #bucket: TokenBucket
  #index: number
  /** Digest of the last payload (not the text: 10,000 service watches would keep every body alive). */
  #lastDigest: string
  #lastSuccess: number
  #errors: number
  #totalErrors: number
  #lastError: string
  #resets: number
  #changes: number

  constructor(o: WatchOptions<R>) {
    this.name = o.name
    this.#o = o
    this.#rand = o.rand ?? Math.random
    this.#now = o.now ?? Date.now
    this.#bucket = new TokenBucket(o.rateLimit.interval, o.rateLimit.burst, this.#now)
    this.#index = 0
    this.#lastDigest = ''
    this.#lastSuccess = 0
    this.#errors = 0
    this.#totalErrors = 0
    this.#lastError = ''
    this.#resets = 0
    this.#changes = 0
  }

  get state(): WatchState {
    return {
      name: this.name,
      lastIndex: this.#index,
      lastSuccess: this.#lastSuccess,
      errors: this.#errors,
      totalErrors: this.#totalErrors,
      lastError: this.#lastError,
      resets: this.#resets,
      changes: this.#changes,
    }
  }

  /** Age of the data in ms (Infinity before the first success). */
  dataAge(): number {
    return this.#lastSuccess === 0 ? Infinity : this.#now() - this.#lastSuccess
  }

  /** Run until `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const wait = this.#bucket.take()
      if (wait > 0) {
        await sleep(wait, signal)
        continue
      }
      let reply: R
      try {
        reply = await this.#o.fetch(this.#index, signal)
        if (!Number.isFinite(reply.index)) {
          throw new ConsulError(
            this.name,
            reply.status,
            'response has no X-Consul-Index (not a blocking endpoint?)',
          )
        }
      } catch (err) {
        if (signal.aborted) return
        this.#errors++
        this.#totalErrors++
        this.#lastError = err instanceof Error ? err.message : String(err)
        this.#o.onError?.(err, this.state)
        await sleep(backoffDelay(this.#errors, this.#o.backoff.min, this.#o.backoff.max, this.#rand), signal)
        continue
      }
      if (signal.aborted) return
      this.#errors = 0
      this.#lastSuccess = this.#now()
      let next = reply.index < 1 ? 1 : reply.index
      if (this.#index > 0 && next < this.#index) {
        // Went backwards: start over with a plain read (Consul docs: reset the index).
        this.#resets++
        next = 0
      }
      this.#index = next
      if (this.#o.compare === false) {
        if (this.#o.onData(reply) !== false) {
          this.#changes++
          this.#bucket.refund()
        }
        continue
      }
      const digest = payloadDigest(reply.text)
      if (digest !== this.#lastDigest) {
        this.#lastDigest = digest
        this.#changes++
        this.#bucket.refund()
        this.#o.onData(reply)
      }
    }
  }
}
