/**
 * The Consul provider: client.ts watches → build.ts → one whole Snapshot per change (STYLE §5, §6).
 *
 * Watches, each a blocking query with its own index and state (client.ts `Watch`):
 * - `/v1/catalog/services`: which services carry a routing tag (any tag starting with `tag_prefix`);
 * - `/v1/health/service/<name>` for each such service (`?passing` when only passing instances are routed and
 *   instances without checks are not), started when the service appears, aborted when it disappears;
 * - `/v1/kv/<kv_path>?recurse`: route commands (404 = no keys).
 *
 * Bounded fan-out: the first read of each service watch (the burst when lb starts against 1,000 services, or a
 * catalog change adds many) goes through a semaphore of `fanout` concurrent requests; after that every service
 * watch holds one long-poll. Consul's agent limits concurrent connections per client address
 * (`limits.http_max_conns_per_client`, default 200), so with more routed services than that the agent's limit
 * must be raised; lb logs a warning when the routed service count passes 190.
 *
 * The first snapshot is emitted once the catalog, the KV prefix and every routed service have each been read
 * (or failed) once, so lb never publishes a half-read Consul. After that, changes are coalesced into one build
 * per event-loop turn (`setImmediate`), and the watcher throttles further.
 *
 * Resilience: nothing here blocks lb's start (static routes are served by the file provider meanwhile).
 * `/v1/agent/self` (for ${DC} when `datacenter` is not set) is retried with backoff. A failing watch keeps its last
 * good data, so the last good routes keep serving while Consul is away; it retries with backoff and converges
 * when Consul returns.
 */
import { setMaxListeners } from 'node:events'
import type { ConsulConfig, DeepReadonly, ServiceDefaults } from '../../config/schema.js'
import type { Logger } from '../../log.js'
import type { Emit, Provider } from '../provider.js'
import {
  buildSnapshot,
  healthEntries,
  type BuildCache,
  type BuildProblem,
  type HealthEntry,
  type KvPair,
} from './build.js'
import {
  backoffDelay,
  ConsulHttp,
  sleep,
  Watch,
  type ConsulReply,
  type WatchFetch,
  type WatchState,
} from './client.js'

export interface ConsulProviderOptions {
  readonly config: DeepReadonly<ConsulConfig>
  readonly defaults: DeepReadonly<ServiceDefaults>
  readonly log: Logger
  readonly rand?: () => number
}

interface ServiceWatch {
  readonly watch: Watch
  readonly controller: AbortController
}

export class ConsulProvider implements Provider {
  readonly name = 'consul'
  readonly #config: DeepReadonly<ConsulConfig>
  readonly #defaults: DeepReadonly<ServiceDefaults>
  readonly #log: Logger
  readonly #rand: () => number
  readonly #http: ConsulHttp
  readonly #services: Map<string, ServiceWatch>
  readonly #health: Map<string, readonly HealthEntry[]>
  /** Watches that have not answered (or failed) once yet. */
  readonly #pending: Set<string>
  #catalog: Watch | null
  #kvWatch: Watch | null
  #kv: readonly KvPair[]
  #dc: string
  #emit: Emit | null
  #signal: AbortSignal | null
  #immediate: NodeJS.Immediate | null
  #synced: boolean
  #slots: number
  readonly #queue: (() => void)[]
  #lastProblems: Set<string>
  /** Parsed targets per service, reused while a service's payload is unchanged (build.ts BuildCache). */
  readonly #cache: BuildCache
  /** Problems seen (for metrics): routes dropped and warnings. */
  readonly stats: { builds: number; emits: number; dropped: number; warnings: number; agentErrors: number }

  constructor(o: ConsulProviderOptions) {
    this.#config = o.config
    this.#defaults = o.defaults
    this.#log = o.log
    this.#rand = o.rand ?? Math.random
    this.#http = new ConsulHttp(o.config)
    this.#services = new Map()
    this.#health = new Map()
    this.#pending = new Set()
    this.#catalog = null
    this.#kvWatch = null
    this.#kv = []
    this.#dc = o.config.datacenter
    this.#emit = null
    this.#signal = null
    this.#immediate = null
    this.#synced = false
    this.#slots = o.config.fanout
    this.#queue = []
    this.#lastProblems = new Set()
    this.#cache = new Map()
    this.stats = { builds: 0, emits: 0, dropped: 0, warnings: 0, agentErrors: 0 }
  }

  /** Per-watch state (catalog, kv, one per routed service) for metrics and the admin API. */
  watches(): (WatchState & { readonly dataAge: number })[] {
    const out: (WatchState & { readonly dataAge: number })[] = []
    const add = (w: Watch | null): void => {
      if (w !== null) out.push({ ...w.state, dataAge: w.dataAge() })
    }
    add(this.#catalog)
    add(this.#kvWatch)
    for (const s of this.#services.values()) add(s.watch)
    return out
  }

  start(emit: Emit, signal: AbortSignal): void {
    if (signal.aborted) return
    this.#emit = emit
    this.#signal = signal
    // One abort listener per service watch (removed when the service goes away): not a leak.
    setMaxListeners(0, signal)
    signal.addEventListener(
      'abort',
      () => {
        if (this.#immediate !== null) clearImmediate(this.#immediate)
        this.#immediate = null
        this.#emit = null
        for (const s of this.#services.values()) s.controller.abort()
        void this.#http.close()
      },
      { once: true },
    )
    void this.#run(signal)
  }

  async #run(signal: AbortSignal): Promise<void> {
    if (this.#dc === '') this.#dc = await this.#agentDatacenter(signal)
    if (signal.aborted) return
    const c = this.#config
    this.#pending.add('catalog')
    this.#catalog = this.#watch(
      'catalog',
      (i, s) => this.#http.get('/v1/catalog/services', {}, i, s),
      (r) => this.#onCatalog(r),
    )
    void this.#catalog.run(signal)
    if (c.kvPath !== '') {
      this.#pending.add('kv')
      const path = `/v1/kv/${c.kvPath.split('/').map(encodeURIComponent).join('/')}`
      this.#kvWatch = this.#watch(
        'kv',
        (i, s) => this.#http.get(path, { recurse: '' }, i, s),
        (r) => this.#onKv(r),
      )
      void this.#kvWatch.run(signal)
    }
  }

  /** `/v1/agent/self` → Config.Datacenter, retried with backoff until it works or lb stops. */
  async #agentDatacenter(signal: AbortSignal): Promise<string> {
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const r = await this.#http.get('/v1/agent/self', {}, 0, signal)
        const body = JSON.parse(r.text) as { Config?: { Datacenter?: unknown } }
        const dc = body.Config?.Datacenter
        if (typeof dc === 'string') return dc
        throw new Error('agent/self has no Config.Datacenter')
      } catch (err) {
        if (signal.aborted) break
        this.stats.agentErrors++
        this.#log.warn(
          { err: describe(err), attempt, address: this.#http.address },
          'consul: agent unreachable, retrying',
        )
        const c = this.#config
        await sleep(backoffDelay(attempt, c.backoff.min, c.backoff.max, this.#rand), signal)
      }
    }
    return ''
  }

  #watch(name: string, fetch: WatchFetch, onData: (r: ConsulReply) => void): Watch {
    const c = this.#config
    return new Watch({
      name,
      fetch: async (index, signal) => {
        try {
          return await fetch(index, signal)
        } finally {
          this.#settle(name)
        }
      },
      onData,
      onError: (err, state) =>
        this.#log.warn(
          { watch: name, err: describe(err), errors: state.errors },
          'consul: watch failed, backing off',
        ),
      rateLimit: c.rateLimit,
      backoff: c.backoff,
      rand: this.#rand,
    })
  }

  /** A watch answered or failed: the initial sync may be complete. */
  #settle(name: string): void {
    if (this.#pending.delete(name) && this.#pending.size === 0) this.#schedule()
  }

  #onCatalog(r: ConsulReply): void {
    let data: unknown
    try {
      data = JSON.parse(r.text)
    } catch {
      data = null
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      // Keep the services watched so far (an empty catalog is `{}`, never `null`, a list or a number).
      this.#log.warn({ watch: 'catalog' }, 'consul: catalog answer is not a JSON object, ignored')
      return
    }
    const prefix = this.#config.tagPrefix
    const routed = new Set<string>()
    for (const [name, tags] of Object.entries(data)) {
      if (Array.isArray(tags) && tags.some((t) => typeof t === 'string' && t.trim().startsWith(prefix)))
        routed.add(name)
    }
    if (routed.size > 190 && this.#services.size <= 190) {
      this.#log.warn(
        { services: routed.size },
        'consul: more than 190 routed services hold one long-poll each; raise limits.http_max_conns_per_client on the agent',
      )
    }
    let changed = false
    for (const [name, s] of this.#services) {
      if (routed.has(name)) continue
      s.controller.abort()
      this.#services.delete(name)
      this.#health.delete(name)
      this.#pending.delete(`service:${name}`)
      changed = true
    }
    for (const name of routed) if (!this.#services.has(name)) this.#startService(name)
    if (changed) this.#schedule()
  }

  #startService(name: string): void {
    const signal = this.#signal
    if (signal === null) return
    const controller = new AbortController()
    const onAbort = (): void => controller.abort()
    signal.addEventListener('abort', onAbort, { once: true })
    controller.signal.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), {
      once: true,
    })
    const c = this.#config
    const query: Record<string, string> =
      c.status.length === 1 && !c.routeWithoutChecks ? { passing: '' } : {}
    const path = `/v1/health/service/${encodeURIComponent(name)}`
    const key = `service:${name}`
    let first = true
    const watch = this.#watch(
      key,
      async (index, s) => {
        if (!first) return this.#http.get(path, query, index, s)
        first = false
        await this.#acquire()
        try {
          return await this.#http.get(path, query, index, s)
        } finally {
          this.#release()
        }
      },
      (r) => this.#onHealth(name, r),
    )
    this.#pending.add(key)
    this.#services.set(name, { watch, controller })
    void watch.run(controller.signal)
  }

  #acquire(): Promise<void> {
    if (this.#slots > 0) {
      this.#slots--
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#queue.push(resolve))
  }

  #release(): void {
    const next = this.#queue.shift()
    if (next !== undefined) next()
    else this.#slots++
  }

  #onHealth(name: string, r: ConsulReply): void {
    if (!this.#services.has(name)) return
    let entries: readonly HealthEntry[] | string
    try {
      entries = healthEntries(JSON.parse(r.text))
    } catch {
      entries = 'not JSON'
    }
    if (typeof entries === 'string') {
      // Keep the last good instances (a body Consul never sends must not empty or crash the build).
      this.#log.warn(
        { watch: `service:${name}`, reason: entries },
        'consul: health answer is not valid, ignored',
      )
      return
    }
    this.#health.set(name, entries)
    this.#schedule()
  }

  #onKv(r: ConsulReply): void {
    if (r.status === 404) {
      this.#kv = []
    } else {
      let list: { Key?: unknown; Value?: unknown }[]
      try {
        list = JSON.parse(r.text) as { Key?: unknown; Value?: unknown }[]
        if (!Array.isArray(list)) throw new Error('not a list')
      } catch {
        this.#log.warn({ watch: 'kv' }, 'consul: kv answer is not a JSON list')
        return
      }
      const pairs: KvPair[] = []
      for (const item of list) {
        if (typeof item !== 'object' || item === null || typeof item.Key !== 'string') continue
        const value = typeof item.Value === 'string' ? Buffer.from(item.Value, 'base64').toString('utf8') : ''
        pairs.push({ key: item.Key, value })
      }
      pairs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      this.#kv = pairs
    }
    this.#schedule()
  }

  #schedule(): void {
    if (this.#pending.size > 0 || this.#immediate !== null || this.#signal?.aborted !== false) return
    this.#immediate = setImmediate(() => {
      this.#immediate = null
      this.#build()
    })
  }

  #build(): void {
    const emit = this.#emit
    if (emit === null) return
    const c = this.#config
    this.stats.builds++
    const result = buildSnapshot(
      { health: this.#health, kv: this.#kv },
      {
        tagPrefix: c.tagPrefix,
        status: c.status,
        routeWithoutChecks: c.routeWithoutChecks,
        dc: this.#dc,
        defaults: this.#defaults,
      },
      this.#cache,
    )
    this.#report(result.problems)
    if (!this.#synced) {
      this.#synced = true
      this.#log.info({ services: this.#services.size, dc: this.#dc }, 'consul: initial sync complete')
    }
    this.stats.emits++
    emit(result.snapshot)
  }

  /** Log each problem once (until it goes away and comes back) and count them. */
  #report(problems: readonly BuildProblem[]): void {
    const now = new Set<string>()
    for (const p of problems) {
      const key = `${p.where}: ${p.reason}`
      now.add(key)
      if (this.#lastProblems.has(key)) continue
      if (p.dropped) {
        this.stats.dropped++
        this.#log.warn({ where: p.where, reason: p.reason }, 'consul: route dropped')
      } else {
        this.stats.warnings++
        this.#log.warn({ where: p.where, reason: p.reason }, 'consul: ignored')
      }
    }
    this.#lastProblems = now
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
