/**
 * Hostname resolution for server addresses (`kube.controller01:6443`), with a bounded cache, TTLs taken
 * from the DNS answer and background refresh for watched names.
 *
 * - `resolve(name)` answers from the cache while fresh; otherwise one lookup per name is in flight at a
 *   time and every concurrent caller shares it. Failures are cached for `retry` ms (negative caching), so a
 *   dead name is not looked up once per caller.
 * - `peek(name)` is the synchronous hot-path read. It never does I/O: names used per request must be
 *   watched (or resolved) to stay fresh.
 * - `watch(name, onChange)` refreshes shortly before expiry (and every `retry` after a failure) and reports
 *   only when the address set changes or the name flips between resolvable and not.
 *
 * **Hold valid.** When a refresh fails, the failure is reported at once (`{ ok: false, reason }`; the
 * caller owns up/down policy and marks the server down). The last good addresses stay in the cache, and
 * `peek` keeps returning the last good address until `maxTtl` after that answer expired. This is haproxy's
 * `resolvers … hold valid`, with the hold equal to `maxTtl`: a consumer that deliberately ignores a short
 * DNS outage (a health check still probing the old address) keeps working, and a name that stays broken
 * stops being served within 2 × maxTtl.
 *
 * **Sticky address.** `peek` keeps returning the same address while it is still in the answer (haproxy
 * keeps a server's current IP if the new response still contains it), so round-robin DNS answers do not
 * churn upstream connection pools. A server is one address; spreading load over several A records is the
 * job of the service definition, not of this cache.
 *
 * Clocks, timers and the lookup itself are options, so tests run on `mock.timers` without sleeping.
 */

import { promises as dnsPromises } from 'node:dns'
import { LRUCache } from 'lru-cache'
import { ipFamily } from './cidr.js'

/** One address from a lookup. `ttl` is in seconds as DNS reports it; `Infinity` when unknown (→ maxTtl). */
export interface LookupAnswer {
  readonly address: string
  readonly ttl: number
}

/** Resolves one hostname. Rejects with a Node DNS error (with `code`) when the name does not resolve. */
export type LookupFn = (hostname: string) => Promise<readonly LookupAnswer[]>

export type ResolveResult =
  | {
      readonly ok: true
      /** Unique addresses in answer order (IPv4 before IPv6 with the default lookup). */
      readonly addresses: readonly string[]
      /** Epoch ms (the `now` clock) when the answer's TTL runs out; `Infinity` for IP literals. */
      readonly expiresAt: number
    }
  | {
      readonly ok: false
      /** `<code> <hostname>`, e.g. `ENOTFOUND kube.controller01`. */
      readonly reason: string
    }

export type ResolveOk = Extract<ResolveResult, { ok: true }>

export type OnResolveChange = (result: ResolveResult) => void

export interface ResolverOptions {
  /** Upper bound (ms) on how long an answer is used before re-resolving; also the hold-valid period. */
  readonly maxTtl: number
  /** Lower bound (ms), so a 0-TTL record does not cause a lookup storm. Must be > 0. */
  readonly minTtl: number
  /** Retry interval (ms) after a failed resolution; failures are cached this long. Must be > 0. */
  readonly retry: number
  /** Number of unwatched hostnames kept (watched names are never evicted). */
  readonly cacheSize: number
  /** Defaults to `createDnsLookup()`. */
  readonly lookup?: LookupFn
  /** Defaults to `Date.now()`, read at call time (so `mock.timers` with 'Date' applies). */
  readonly now?: () => number
  /** Defaults to an unref'd global `setTimeout`, read at call time. */
  readonly setTimer?: (fn: () => void, ms: number) => unknown
  /** Defaults to global `clearTimeout`. */
  readonly clearTimer?: (handle: unknown) => void
}

export interface DnsLookupOptions {
  /** Per-query timeout in ms for the DNS record queries (c-ares). Default 2000. */
  readonly timeout?: number
  /** Attempts per DNS server. Default 2. */
  readonly tries?: number
}

/**
 * The production lookup: A and AAAA records with their TTLs (`resolve4`/`resolve6` with `{ ttl: true }`)
 * on a private `dns.promises.Resolver`. When neither yields an address (the name lives in /etc/hosts, like
 * `localhost`; it needs the resolv.conf search list, which c-ares queries do not apply; or DNS is
 * unreachable) it falls back to `dns.promises.lookup(host, { all: true })` (getaddrinfo), whose answers
 * carry no TTL and are cached for maxTtl.
 */
export function createDnsLookup(opts: DnsLookupOptions = {}): LookupFn {
  const resolver = new dnsPromises.Resolver({ timeout: opts.timeout ?? 2000, tries: opts.tries ?? 2 })
  return async function dnsLookup(hostname: string): Promise<readonly LookupAnswer[]> {
    const [v4, v6] = await Promise.allSettled([
      resolver.resolve4(hostname, { ttl: true }),
      resolver.resolve6(hostname, { ttl: true }),
    ])
    const answers: LookupAnswer[] = []
    if (v4.status === 'fulfilled') for (const r of v4.value) answers.push({ address: r.address, ttl: r.ttl })
    if (v6.status === 'fulfilled') for (const r of v6.value) answers.push({ address: r.address, ttl: r.ttl })
    if (answers.length > 0) return answers
    const all = await dnsPromises.lookup(hostname, { all: true, verbatim: true })
    for (const r of all) answers.push({ address: r.address, ttl: Infinity })
    return answers
  }
}

/** `<code> <hostname>` for Node errors that carry a code, the message otherwise. */
function describeFailure(err: unknown, hostname: string): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return typeof code === 'string' && code !== '' ? `${code} ${hostname}` : err.message
  }
  return String(err)
}

function sameAddressSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (!b.includes(a[i] ?? '')) return false
  return true
}

/** Same outcome for watchers: both failed (the reason may differ), or both ok with the same addresses. */
function sameOutcome(a: ResolveResult, b: ResolveResult): boolean {
  if (a.ok !== b.ok) return false
  if (!a.ok || !b.ok) return true
  return sameAddressSet(a.addresses, b.addresses)
}

/** What is known about one hostname. Every field is set in the constructor. */
class Entry {
  /** Outcome of the latest lookup. */
  last: ResolveResult
  /** Sticky address served by `peek` ('' = none yet). */
  current: string
  /** `peek` serves `current` until this time (last good expiry + maxTtl; 0 = never resolved). */
  holdUntil: number
  /** Next refresh for a watched name; for a failure also the end of the negative-cache window. */
  refreshAt: number

  constructor(last: ResolveResult) {
    this.last = last
    this.current = ''
    this.holdUntil = 0
    this.refreshAt = 0
  }
}

/** One watched hostname. */
class Watch {
  readonly hostname: string
  listeners: OnResolveChange[]
  /** The result the listeners last saw (null before the first report). */
  reported: ResolveResult | null
  entry: Entry | null
  timer: unknown

  constructor(hostname: string, entry: Entry | null) {
    this.hostname = hostname
    this.listeners = []
    this.reported = null
    this.entry = entry
    this.timer = null
  }
}

function defaultSetTimer(fn: () => void, ms: number): unknown {
  const t = setTimeout(fn, ms)
  t.unref()
  return t
}

function defaultClearTimer(handle: unknown): void {
  clearTimeout(handle as ReturnType<typeof setTimeout>)
}

function defaultNow(): number {
  return Date.now()
}

export class Resolver {
  readonly #maxTtl: number
  readonly #minTtl: number
  readonly #retry: number
  readonly #lookup: LookupFn
  readonly #now: () => number
  readonly #setTimer: (fn: () => void, ms: number) => unknown
  readonly #clearTimer: (handle: unknown) => void
  /** Unwatched names, bounded. */
  readonly #cache: LRUCache<string, Entry>
  /** Watched names; their entries live in the Watch so they are never evicted. */
  readonly #watches: Map<string, Watch>
  readonly #inflight: Map<string, Promise<ResolveResult>>
  #closed: boolean

  constructor(opts: ResolverOptions) {
    if (!(opts.minTtl > 0) || !(opts.maxTtl >= opts.minTtl) || !(opts.retry > 0) || !(opts.cacheSize >= 1)) {
      throw new RangeError('resolver: need 0 < minTtl <= maxTtl, retry > 0 and cacheSize >= 1')
    }
    this.#maxTtl = opts.maxTtl
    this.#minTtl = opts.minTtl
    this.#retry = opts.retry
    this.#lookup = opts.lookup ?? createDnsLookup()
    this.#now = opts.now ?? defaultNow
    this.#setTimer = opts.setTimer ?? defaultSetTimer
    this.#clearTimer = opts.clearTimer ?? defaultClearTimer
    this.#cache = new LRUCache<string, Entry>({ max: Math.floor(opts.cacheSize) })
    this.#watches = new Map()
    this.#inflight = new Map()
    this.#closed = false
  }

  /**
   * Addresses for `hostname` (no brackets, no port; used as the cache key as given, so callers pass the
   * normalised config value). IP literals resolve to themselves without a lookup.
   * Never rejects: failures are `{ ok: false, reason }`.
   */
  resolve(hostname: string): Promise<ResolveResult> {
    if (ipFamily(hostname) !== 0) {
      return Promise.resolve({ ok: true, addresses: [hostname], expiresAt: Infinity })
    }
    const e = this.#entry(hostname)
    if (e !== undefined) {
      const last = e.last
      const now = this.#now()
      if (last.ok ? now < last.expiresAt : now < e.refreshAt) return Promise.resolve(last)
    }
    return this.#fetch(hostname)
  }

  /** The current address for `hostname` without I/O, or undefined (never resolved, or past the hold). */
  peek(hostname: string): string | undefined {
    const w = this.#watches.get(hostname)
    const e = w !== undefined ? w.entry : this.#cache.get(hostname)
    if (e != null && e.current !== '' && this.#now() < e.holdUntil) return e.current
    return ipFamily(hostname) !== 0 ? hostname : undefined
  }

  /**
   * Keeps `hostname` fresh and calls `onChange` with the first result and then on every change of the
   * address set or of ok/failure. A listener added to an already watched name gets the current result.
   * Callbacks run from timers/promises, never synchronously inside `watch`, and must not throw.
   */
  watch(hostname: string, onChange: OnResolveChange): void {
    if (this.#closed) return
    let w = this.#watches.get(hostname)
    if (w === undefined) {
      const cached = this.#cache.get(hostname) ?? null
      if (cached !== null) this.#cache.delete(hostname)
      w = new Watch(hostname, cached)
      w.listeners.push(onChange)
      this.#watches.set(hostname, w)
      void this.#poll(w, false)
      return
    }
    w.listeners.push(onChange)
    const reported = w.reported
    if (reported !== null) {
      const watch = w
      queueMicrotask(() => {
        if (!this.#closed && watch.listeners.includes(onChange)) onChange(reported)
      })
    }
  }

  /** Removes one listener; the last one stops the refresh timer (the entry moves back to the LRU cache). */
  unwatch(hostname: string, onChange: OnResolveChange): void {
    const w = this.#watches.get(hostname)
    if (w === undefined) return
    const i = w.listeners.indexOf(onChange)
    if (i >= 0) w.listeners.splice(i, 1)
    if (w.listeners.length > 0) return
    this.#stopTimer(w)
    this.#watches.delete(hostname)
    if (w.entry !== null) this.#cache.set(hostname, w.entry)
  }

  /** Number of watched hostnames (for tests and the admin view). */
  get watching(): number {
    return this.#watches.size
  }

  /** Stops every refresh timer and drops all state. In-flight lookups settle but report to no one. */
  close(): void {
    this.#closed = true
    for (const w of this.#watches.values()) this.#stopTimer(w)
    this.#watches.clear()
    this.#cache.clear()
  }

  #entry(hostname: string): Entry | undefined {
    const w = this.#watches.get(hostname)
    if (w !== undefined) return w.entry ?? undefined
    return this.#cache.get(hostname)
  }

  #fetch(hostname: string): Promise<ResolveResult> {
    const pending = this.#inflight.get(hostname)
    if (pending !== undefined) return pending
    const p = this.#run(hostname)
    this.#inflight.set(hostname, p)
    // Cleared by identity (a lookup that throws synchronously settles before it is registered).
    void p.then(() => {
      if (this.#inflight.get(hostname) === p) this.#inflight.delete(hostname)
    })
    return p
  }

  async #run(hostname: string): Promise<ResolveResult> {
    let answers: readonly LookupAnswer[] = []
    let reason = ''
    try {
      answers = await this.#lookup(hostname)
    } catch (err) {
      reason = describeFailure(err, hostname)
    }
    const addresses: string[] = []
    let ttlSeconds = Infinity
    for (let i = 0; i < answers.length; i++) {
      const a = answers[i]
      if (a === undefined || ipFamily(a.address) === 0 || addresses.includes(a.address)) continue
      addresses.push(a.address)
      if (a.ttl < ttlSeconds) ttlSeconds = a.ttl
    }
    if (reason === '' && addresses.length === 0) reason = `ENODATA ${hostname}`
    return this.#store(hostname, reason, addresses, ttlSeconds)
  }

  #store(hostname: string, reason: string, addresses: string[], ttlSeconds: number): ResolveResult {
    const now = this.#now()
    let e = this.#entry(hostname)
    let result: ResolveResult
    if (reason !== '') {
      result = { ok: false, reason }
      if (e === undefined) e = this.#newEntry(hostname, result)
      e.last = result
      e.refreshAt = now + this.#retry
      return result
    }
    const ms = ttlSeconds * 1000
    const ttl = ms >= 0 ? Math.min(this.#maxTtl, Math.max(this.#minTtl, ms)) : this.#maxTtl
    result = { ok: true, addresses, expiresAt: now + ttl }
    if (e === undefined) e = this.#newEntry(hostname, result)
    e.last = result
    if (!addresses.includes(e.current)) e.current = addresses[0] ?? ''
    e.holdUntil = now + ttl + this.#maxTtl
    // Refresh ahead of expiry: 10% of the TTL, at most one second.
    e.refreshAt = now + ttl - Math.min(1000, Math.floor(ttl / 10))
    return result
  }

  #newEntry(hostname: string, result: ResolveResult): Entry {
    const e = new Entry(result)
    const w = this.#watches.get(hostname)
    if (w !== undefined) w.entry = e
    else if (!this.#closed) this.#cache.set(hostname, e)
    return e
  }

  /** One watch cycle: resolve (forced for timer refreshes), schedule the next one, then report a change. */
  async #poll(w: Watch, force: boolean): Promise<void> {
    w.timer = null
    const result = force ? await this.#fetch(w.hostname) : await this.resolve(w.hostname)
    if (this.#closed || this.#watches.get(w.hostname) !== w) return
    const e = w.entry
    this.#stopTimer(w)
    // IP literals never change: report once, no timer.
    if (ipFamily(w.hostname) === 0) {
      const delay = e === null ? this.#retry : Math.max(0, e.refreshAt - this.#now())
      w.timer = this.#setTimer(() => void this.#poll(w, true), delay)
    }
    const prev = w.reported
    if (prev !== null && sameOutcome(prev, result)) return
    w.reported = result
    const listeners = w.listeners.slice()
    for (let i = 0; i < listeners.length; i++) listeners[i]?.(result)
  }

  #stopTimer(w: Watch): void {
    if (w.timer !== null) {
      this.#clearTimer(w.timer)
      w.timer = null
    }
  }
}
