/**
 * The Consul provider: client.ts watches → build.ts → one whole Snapshot per change (providers emit whole
 * snapshots; fetching is split from the pure build).
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
 *
 * Why one file of ~850 lines: ConsulProvider is one state machine over its watches (catalog, KV, a watch per
 * service or the `state` watch). They share the read queue (`fanout`), the set of services still to read before
 * the first snapshot, the dirty set, the resync timer and the build cache, and every path ends in one build per
 * event-loop turn; split into classes, that state would be passed back and forth between them. What stands
 * alone is elsewhere: the HTTP client and watch loop (client.ts), the state-mode check table (checks.ts), the
 * answer diff (jsondiff.ts) and the build (build.ts).
 */
import { setMaxListeners } from 'node:events'
import type { ConsulConfig, DeepReadonly } from '../../config/types.js'
import type { ServiceDefaults } from '../../model/snapshot.js'
import type { Logger } from '../../log/log.js'
import type { Emit, Provider } from '../provider.js'
import { buildSnapshot, newBuildCache, type BuildCache, type KvPair } from './build.js'
import { healthEntries, instanceStatus, minimalEntries, type HealthEntry } from './entries.js'
import type { BuildProblem } from './targets.js'
import {
  backoffDelay,
  ConsulHttp,
  payloadDigest,
  sleep,
  Watch,
  type BytesReply,
  type ConsulReply,
  type WatchFetch,
  type WatchState,
} from './client.js'
import { ByteSink } from './sink.js'
import { diffArray, memberEntry, scanMembers, type ArrayText } from './jsondiff.js'
import type { StreamText } from './stream-diff.js'
import { StateTap, type NodeCheck, type StateAnswer } from './state-tap.js'
import { fingerprint, CheckTable, StatusSet, type EnteredCheck } from './checks.js'
import { qualifier } from '../merge.js'

export interface ConsulProviderOptions {
  readonly config: DeepReadonly<ConsulConfig>
  readonly defaults: DeepReadonly<ServiceDefaults>
  readonly log: Logger
  readonly rand?: () => number
  /**
   * A burst of work just ended: the initial sync, or a round of ≥ BURST_READS service reads (a `state` mode
   * resync, a catalog change adding many services). The primary releases memory then (memory.ts).
   */
  readonly onBurst?: () => void
  /**
   * The initial sync has just left much garbage: called when its reads by node have all answered (the parsed
   * answers and the `state` answer's parse are garbage; the services' entries are not made yet), and when its
   * answers are all folded into the entries, right before its first build. The primary collects it at each (memory.ts
   * `collect`), so that the heap does not grow past that garbage: at 10,000 services × 3 the reads by node took RSS
   * from about 95 to 139–153 MB before the build's collection, 131–138 MB with one after them too
   * (bench/RESULTS.md, consul-scale).
   */
  readonly onSyncGarbage?: () => void
  /** Read by node when at least this many services wait for a read (NODE_READS; tests lower it). */
  readonly nodeReadsFrom?: number
  /**
   * Name the services `<service>@consul` in the snapshots, as the merge would (provider.ts `Provider.qualified`):
   * the daemon does, so the merge does not copy 10,000 services and 20,000 routes to rename them. Default false.
   */
  readonly qualify?: boolean
}

/** A progress line at `info` every this many service reads of the initial sync. */
const SYNC_PROGRESS = 2_000

/** Service reads in one go that count as a burst (`onBurst`). */
export const BURST_READS = 500

/**
 * `state` mode: with at least this many services waiting for a read (the initial sync, a resync, a switch to
 * `state` mode), they are read by node instead (#readNodes): three requests per node instead of one per service.
 */
export const NODE_READS = 500

/** One watch's state as `watches()` reports it. */
export interface ConsulWatchState extends WatchState {
  /** ms since the last successful answer (Infinity before the first). */
  readonly dataAge: number
  /** Service watches: tag routes of this service dropped by the last build (bad tag or option). */
  readonly droppedTags: number
  /** The kv watch: route command lines dropped by the last build. */
  readonly droppedRouteCommands: number
}

/** A service read with non-blocking queries (`state` mode): its read state, flat (10,000 of them). */
class ServiceRead {
  readonly service: string
  lastIndex: number
  lastSuccess: number
  errors: number
  totalErrors: number
  lastError: string
  resets: number
  changes: number
  digest: string
  retry: NodeJS.Timeout | null
  constructor(service: string) {
    this.service = service
    this.lastIndex = 0
    this.lastSuccess = 0
    this.errors = 0
    this.totalErrors = 0
    this.lastError = ''
    this.resets = 0
    this.changes = 0
    this.digest = ''
    this.retry = null
  }

  /** The watch name (`service:<name>`), made when asked for. */
  get name(): string {
    return `service:${this.service}`
  }
}

interface ServiceWatch {
  readonly watch: Watch
  readonly controller: AbortController
}

export class ConsulProvider implements Provider {
  readonly name = 'consul'
  readonly qualified: boolean
  /** Appended to every service name the build makes: merge.ts `qualifier` when `qualified`, else ''. */
  readonly #suffix: string
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
  /** `state` mode: the blocking query on `/v1/health/state/any`, or null in `service` mode. */
  #stateWatch: Watch | null
  /**
   * The first `state/any` read, sent with the first catalog read (unless `watch: service`): the state watch
   * starts from it if the catalog's answer means `state` mode, instead of asking only then (the answer takes the
   * longest to make and to send: 12 MB at 10,000 services × 3); dropped otherwise.
   */
  #firstState: {
    readonly sink: ByteSink
    readonly tap: StateTap
    readonly answer: Promise<BytesReply>
  } | null
  /** The state watch's sink (its connection is closed when the watch stops). */
  #stateSink: ByteSink | null
  /** `state` mode: per routed service, its read state and the fingerprint of its checks. */
  readonly #reads: Map<string, ServiceRead>
  /** `state` mode: services waiting for a read, and reads in flight. */
  readonly #dirty: Set<string>
  #inflight: number
  #resyncTimer: NodeJS.Timeout | null
  /** Routed service → a fingerprint of its catalog tags, to notice tag changes in `state` mode. */
  readonly #catalogTags: Map<string, number>
  /** The last catalog answer's member offsets (jsondiff.ts), null = parse the next whole. */
  #catalogText: ArrayText | null
  /** The service named by each member of the last catalog answer, in answer order. */
  #catalogNames: string[]
  /** `state` mode: every check of the last state answer, in answer order (null = none yet). */
  #checks: CheckTable | null
  /** `state` mode: the table before `#checks`, whose arrays the next change's table is written into. */
  #spareChecks: CheckTable | null
  /** `state` mode: what is remembered of the last state answer (stream-diff.ts), null = parse the next whole. */
  #stateText: StreamText | null
  #kv: readonly KvPair[]
  /** The no-route page from KV `no_route_key` ('' = none). */
  #noRoutePage: string
  #dc: string
  #emit: Emit | null
  #signal: AbortSignal | null
  #immediate: NodeJS.Immediate | null
  #synced: boolean
  /** Service reads finished before the first snapshot (for the sync's progress lines) and when it started. */
  #syncReads: number
  readonly #syncStart: number
  readonly #onBurst: (() => void) | undefined
  readonly #onSyncGarbage: (() => void) | undefined
  /** Service reads since the read queue was last empty (`state` mode). */
  #burstReads: number
  readonly #nodeReadsFrom: number
  /** Handlers running under #held: reads start when the outermost returns. */
  #holding: number
  /** A read by node is in flight. */
  #nodeReads: boolean
  /**
   * Each node's checks as the last `state/any` answer parsed whole has them (the first one, at the initial sync),
   * until a changed answer makes them stale or a read by node takes them: that read then needs no
   * `/v1/health/node/<node>` answers, which hold every check again (12 MB at 10,000 services × 3).
   */
  #stateChecks: Map<string, NodeCheck[]> | null
  /** No read by node before this time (ms; one failed). */
  #nodeReadsAfter: number
  #slots: number
  readonly #queue: (() => void)[]
  #lastProblems: Set<string>
  /** Parsed targets per service, reused while a service's payload is unchanged (build.ts BuildCache). */
  readonly #cache: BuildCache
  /** Services whose entries were set or dropped since the last build (null before the first: all of them). */
  #touched: Set<string> | null = null
  /** Service → how many of its tags (per instance) the last build dropped. */
  #droppedTags: Map<string, number>
  /** Route command lines (KV) the last build dropped. */
  #droppedCommands: number
  /**
   * Counters for metrics. `dropped`/`warnings`: problems logged (each once until it goes away and comes back);
   * `droppedTags`/`droppedRouteCommands`: how many of those were a dropped tag route / a dropped KV command line.
   */
  readonly stats: {
    builds: number
    emits: number
    dropped: number
    warnings: number
    agentErrors: number
    droppedTags: number
    droppedRouteCommands: number
  }

  constructor(o: ConsulProviderOptions) {
    this.qualified = o.qualify === true
    this.#suffix = this.qualified ? qualifier(this.name) : ''
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
    this.#stateWatch = null
    this.#firstState = null
    this.#stateSink = null
    this.#reads = new Map()
    this.#dirty = new Set()
    this.#inflight = 0
    this.#resyncTimer = null
    this.#catalogTags = new Map()
    this.#catalogText = null
    this.#catalogNames = []
    this.#checks = null
    this.#spareChecks = null
    this.#stateText = null
    this.#stateChecks = null
    this.#kv = []
    this.#noRoutePage = ''
    this.#dc = o.config.datacenter
    this.#emit = null
    this.#signal = null
    this.#immediate = null
    this.#synced = false
    this.#syncReads = 0
    this.#syncStart = Date.now()
    this.#onBurst = o.onBurst
    this.#onSyncGarbage = o.onSyncGarbage
    this.#burstReads = 0
    this.#nodeReadsFrom = o.nodeReadsFrom ?? NODE_READS
    this.#nodeReads = false
    this.#nodeReadsAfter = 0
    this.#holding = 0
    this.#slots = o.config.fanout
    this.#queue = []
    this.#lastProblems = new Set()
    this.#cache = newBuildCache()
    this.#droppedTags = new Map()
    this.#droppedCommands = 0
    this.stats = {
      builds: 0,
      emits: 0,
      dropped: 0,
      warnings: 0,
      agentErrors: 0,
      droppedTags: 0,
      droppedRouteCommands: 0,
    }
  }

  /**
   * Per-watch state (catalog, kv, one per routed service) for metrics and the admin API. `droppedTags` (service
   * watches): tag routes of that service's instances dropped by the last build (bad tag or option);
   * `droppedRouteCommands` (kv watch): route command lines dropped by the last build. Both are current
   * values (gauges); `stats` has the running totals.
   */
  watches(): ConsulWatchState[] {
    const out: ConsulWatchState[] = []
    const add = (w: Watch | null, droppedTags: number, droppedRouteCommands: number): void => {
      if (w !== null) out.push({ ...w.state, dataAge: w.dataAge(), droppedTags, droppedRouteCommands })
    }
    add(this.#catalog, 0, 0)
    add(this.#kvWatch, 0, this.#droppedCommands)
    add(this.#stateWatch, 0, 0)
    for (const [name, s] of this.#services) add(s.watch, this.#droppedTags.get(name) ?? 0, 0)
    const now = Date.now()
    for (const [name, r] of this.#reads) {
      const dataAge = r.lastSuccess === 0 ? Infinity : now - r.lastSuccess
      out.push({
        name: r.name,
        lastIndex: r.lastIndex,
        lastSuccess: r.lastSuccess,
        errors: r.errors,
        totalErrors: r.totalErrors,
        lastError: r.lastError,
        resets: r.resets,
        changes: r.changes,
        dataAge,
        droppedTags: this.#droppedTags.get(name) ?? 0,
        droppedRouteCommands: 0,
      })
    }
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
        this.#stopState()
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
    const sink = new ByteSink(signal)
    this.#catalog = this.#watch(
      'catalog',
      (i, s) => this.#http.getBytes('/v1/catalog/services', {}, i, s, sink),
      (r) => this.#held(() => this.#onCatalog(r.bytes)),
      false,
    )
    void this.#catalog.run(signal)
    // After the catalog read: a server that answers one request at a time (lb's test server) answers the small
    // catalog first.
    if (c.watch !== 'service') {
      const { sink, tap } = this.#stateReader(signal)
      const answer = this.#http.getBytes('/v1/health/state/any', {}, 0, signal, sink)
      // Taken by the state watch, which handles its failure; left alone when dropped.
      answer.catch(() => {})
      this.#firstState = { sink, tap, answer }
    }
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
    if (c.noRouteKey !== '') {
      this.#pending.add('noroute')
      const path = `/v1/kv/${c.noRouteKey.split('/').map(encodeURIComponent).join('/')}`
      void this.#watch(
        'noroute',
        (i, s) => this.#http.get(path, {}, i, s),
        (r) => this.#onNoRoutePage(r),
      ).run(signal)
    }
  }

  /** fabio's watched `noroute.html`: the KV value as the no-route page ('' when the key is absent). */
  #onNoRoutePage(r: ConsulReply): void {
    let page = ''
    if (r.status !== 404) {
      try {
        const list = JSON.parse(r.text) as { Value?: unknown }[]
        const v = Array.isArray(list) ? list[0]?.Value : undefined
        page = typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : ''
      } catch {
        this.#log.warn({ watch: 'noroute' }, 'consul: no-route page answer is not a JSON list')
        return
      }
    }
    if (page === this.#noRoutePage) return
    this.#noRoutePage = page
    this.#schedule()
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

  #watch<R extends ConsulReply>(
    name: string,
    fetch: WatchFetch<R>,
    onData: (r: R) => unknown,
    compare = true,
  ): Watch<R> {
    const c = this.#config
    return new Watch<R>({
      name,
      compare,
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

  /**
   * `/v1/catalog/services` (`{"name": [tags], …}`): which services carry a routing tag. Only the members that
   * differ from the last answer are parsed (jsondiff.ts, as for the state answer: 0.8 MB at 10,000 services, one
   * member changed per change); false when nothing changed.
   */
  #onCatalog(bytes: Buffer): boolean {
    const prev = this.#catalogText
    const diff = prev === null ? null : diffArray(prev, bytes, 512)
    let from = 0
    let to = this.#catalogNames.length
    let members: [string, unknown][]
    try {
      if (diff !== null) {
        if (diff.added.length === 0 && diff.to === diff.from) return false
        members = diff.added.map(memberEntry)
        from = diff.from
        to = diff.to
        this.#catalogText = diff.next
      } else {
        const scanned = scanMembers(bytes)
        if (scanned === null) throw new Error('not an object')
        members = []
        for (let i = 0; i < scanned.starts.length; i++)
          members.push(memberEntry(bytes.toString('utf8', scanned.starts[i], scanned.ends[i])))
        this.#catalogText = scanned
      }
    } catch {
      // Keep the services watched so far (an empty catalog is `{}`, never `null`, a list or a number).
      this.#log.warn({ watch: 'catalog' }, 'consul: catalog answer is not a JSON object, ignored')
      this.#catalogText = null
      return true
    }
    // Members from..to-1 of the last answer are replaced by `members`: their services changed, came or went.
    const names = this.#catalogNames
    const touched = new Map<string, number>() // service → fingerprint of its routing tags, -1 = not routed
    for (let i = from; i < to; i++) touched.set(names[i] as string, -1)
    const added = members.map(([name, tags]) => {
      touched.set(name, routedTags(tags, this.#config.tagPrefix))
      return name
    })
    if (diff === null) this.#catalogNames = added
    else names.splice(from, to - from, ...added)
    const routed = this.#catalogTags
    const gone: string[] = []
    const changedTags: string[] = []
    for (const [name, tags] of touched) {
      const was = routed.get(name)
      if (tags === was) continue
      if (tags < 0) {
        routed.delete(name)
        gone.push(name)
      } else {
        routed.set(name, tags)
        changedTags.push(name)
      }
    }
    const c = this.#config
    // auto: above the threshold → state; back to service only below 90 % of it, so a count hovering around
    // the threshold does not switch at every catalog change.
    const limit = this.#stateWatch === null ? c.stateThreshold : Math.floor(c.stateThreshold * 0.9)
    const state = c.watch === 'state' || (c.watch === 'auto' && routed.size > limit)
    const switched = state !== (this.#stateWatch !== null)
    if (state && this.#stateWatch === null) this.#enterState(routed.size)
    else if (!state && this.#stateWatch !== null) this.#leaveState(routed.size)
    if (this.#firstState !== null) {
      // Not taken by the state watch: `service` mode (the first state read is for the first catalog answer).
      this.#firstState.sink.close()
      this.#firstState = null
    }
    if (!state && routed.size > 190 && this.#services.size <= 190) {
      this.#log.warn(
        { services: routed.size },
        'consul: more than 190 routed services hold one long-poll each; raise limits.http_max_conns_per_client on the agent, or use watch: state',
      )
    }
    let changed = false
    for (const name of gone) {
      const s = this.#services.get(name)
      if (s !== undefined) {
        s.controller.abort()
        this.#services.delete(name)
        changed = true
      }
      const read = this.#reads.get(name)
      if (read !== undefined) {
        if (read.retry !== null) clearTimeout(read.retry)
        this.#reads.delete(name)
        this.#dirty.delete(name)
        changed = true
      }
      this.#setHealth(name, null)
      this.#pending.delete(`service:${name}`)
    }
    // After a switch every routed service is started in the new mode; else the new ones, and in `state` mode
    // a service whose tags changed is read again.
    for (const name of switched ? routed.keys() : changedTags) {
      if (state) {
        if (!this.#reads.has(name)) this.#startRead(name)
        else if (!switched) this.#markDirty(name)
      } else if (!this.#services.has(name)) this.#startService(name)
    }
    if (changed) this.#schedule()
    return true
  }

  /**
   * Switch to `state` mode: stop the per-service long-polls (their data stays), start the one blocking query
   * on `/v1/health/state/any`, and re-read every service once every `wait` (see #resync).
   */
  #enterState(routed: number): void {
    const signal = this.#signal
    if (signal === null) return
    this.#log.info(
      { services: routed, threshold: this.#config.stateThreshold },
      'consul: watching health state',
    )
    for (const [name, s] of this.#services) {
      s.controller.abort()
      this.#pending.delete(`service:${name}`)
      this.#reads.set(name, new ServiceRead(name))
    }
    this.#services.clear()
    this.#checks = null
    this.#spareChecks = null
    this.#stateText = null
    this.#stateChecks = null
    this.#pending.add('state')
    const stateSignal = this.#stateSignal(signal)
    const first = this.#firstState
    this.#firstState = null
    const { sink, tap } = first ?? this.#stateReader(signal)
    let prefetched = first?.answer ?? null
    this.#stateSink = sink
    this.#stateWatch = this.#watch(
      'state',
      (i, sig) => {
        // The first read's answer, once; then blocking reads (and plain ones after an index reset).
        const answer = i === 0 ? prefetched : null
        prefetched = null
        return answer ?? this.#http.getBytes('/v1/health/state/any', {}, i, sig, sink)
      },
      () => this.#held(() => this.#onState(tap.take())),
      false,
    )
    void this.#stateWatch.run(stateSignal)
    // The fast path for status changes: the non-passing checks only (see checks.ts StatusSet).
    for (const status of ['critical', 'warning'] as const) {
      const set = new StatusSet()
      void this.#watch(
        `state:${status}`,
        (i, sig) => this.#http.get(`/v1/health/state/${status}`, {}, i, sig),
        (r) => this.#held(() => this.#onStatus(set, r, status)),
      ).run(stateSignal)
    }
    this.#armResync()
  }

  #stateStop: AbortController | null = null

  /** A sink for `state/any` answers, whose bodies go to a tap that diffs them against the last one. */
  #stateReader(signal: AbortSignal): { sink: ByteSink; tap: StateTap } {
    const sink = new ByteSink(signal)
    const tap = new StateTap(() => this.#stateText)
    sink.stream(tap)
    return { sink, tap }
  }

  #stateSignal(signal: AbortSignal): AbortSignal {
    this.#stateStop = new AbortController()
    return AbortSignal.any([signal, this.#stateStop.signal])
  }

  /** Back to `service` mode: one long-poll per routed service again (the data read so far stays). */
  #leaveState(routed: number): void {
    this.#log.info(
      { services: routed, threshold: this.#config.stateThreshold },
      'consul: watching each service',
    )
    this.#stopState()
    this.#stateWatch = null
    this.#pending.delete('state')
  }

  #stopState(): void {
    this.#stateStop?.abort()
    this.#stateStop = null
    this.#stateSink?.close()
    this.#stateSink = null
    if (this.#resyncTimer !== null) clearTimeout(this.#resyncTimer)
    this.#resyncTimer = null
    for (const [name, r] of this.#reads) {
      if (r.retry !== null) clearTimeout(r.retry)
      this.#pending.delete(`service:${name}`)
    }
    this.#reads.clear()
    this.#dirty.clear()
    this.#checks = null
    this.#spareChecks = null
    this.#stateText = null
    this.#stateChecks = null
  }

  /**
   * In `state` mode a change of an instance's address or port that leaves its checks and tags alone is not
   * visible in the state answer; every `wait` each service is read again (bounded fan-out, payload compared).
   */
  #armResync(): void {
    this.#resyncTimer = setTimeout(() => {
      this.#resyncTimer = null
      if (this.#stateWatch === null || this.#signal?.aborted !== false) return
      for (const name of this.#reads.keys()) this.#markDirty(name)
      this.#armResync()
    }, this.#config.wait)
    this.#resyncTimer.unref()
  }

  /**
   * `/v1/health/state/any`: re-read the services whose checks changed (status, tags, a check added or removed),
   * and every service on a node whose node checks (serfHealth, maintenance) changed. The answer was diffed against
   * the last one as it streamed in (`StateTap`, stream-diff.ts: it ships every check of the datacenter on every
   * change), so only the checks in its changed regions were parsed; all of them for the first answer. False when
   * the answer is the last one again (the watch compares nothing itself: client.ts `compare`).
   */
  #onState(taken: StateAnswer | null): boolean {
    if (taken === null) return false
    const { result, nodes } = taken
    const old = this.#checks
    if (
      result instanceof Error ||
      (result.prev !== null && (result.prev !== this.#stateText || old === null))
    ) {
      if (result instanceof Error)
        this.#log.warn(
          { watch: 'state', err: result.message },
          'consul: health state answer is not a JSON list',
        )
      // Start over with a whole parse next time.
      this.#stateText = null
      this.#stateChecks = null
      this.#checks = null
      this.#spareChecks = null
      return true
    }
    const whole = result.prev === null
    // The old checks `from`..`to - 1` are replaced by `added` in each hunk (all of them for a whole answer).
    const hunks = whole
      ? [{ from: 0, to: old === null ? 0 : old.length, added: result.hunks[0]?.added ?? [] }]
      : result.hunks
    // A check that changed (status, tags, service, or added/removed) is one whose fingerprint is not matched by
    // one on the other side: compared as multisets, so unchanged checks inside the regions cancel out.
    const first = old === null
    const touched = new Set<string>()
    const unmatched = new Map<number, number>()
    if (old !== null) {
      for (const h of hunks) {
        for (let i = h.from; i < h.to; i++) {
          const k = old.hash[i] as number
          if (k >= 0) unmatched.set(k, (unmatched.get(k) ?? 0) + 1)
        }
      }
    }
    let changed = false
    for (const h of hunks) {
      if (h.added.length > 0 || h.to > h.from) changed = true
      for (const c of h.added) {
        if (c === null) continue
        const n = unmatched.get(c.hash) ?? 0
        if (n > 0) unmatched.set(c.hash, n - 1)
        else this.#checkChanged(c.svc, c.node, first, touched)
      }
    }
    if (old !== null && unmatched.size > 0) {
      for (const h of hunks) {
        for (let i = h.from; i < h.to; i++) {
          const k = old.hash[i] as number
          const n = unmatched.get(k) ?? 0
          if (n === 0) continue
          unmatched.set(k, n - 1)
          this.#checkChanged(old.name(old.svc[i] as number), old.name(old.node[i] as number), first, touched)
        }
      }
    }
    let checks: CheckTable
    if (whole || old === null) {
      checks = CheckTable.of(hunks[0]?.added ?? [])
      this.#spareChecks = null
    } else {
      const { table, spare } = CheckTable.spliceAll(old, hunks, this.#spareChecks)
      checks = table
      this.#spareChecks = spare
    }
    this.#checks = checks
    this.#stateText = result.next
    if (whole) this.#stateChecks = nodes
    else if (changed) this.#stateChecks = null
    // Names of services and nodes that are gone stay in the table until the next whole parse: bound them.
    if (checks.names.length > 2 * checks.length + 1024) this.#stateText = null
    if (touched.size > 0) this.#nodeDirty(touched)
    return whole || changed
  }

  /**
   * `/v1/health/state/critical|warning`: re-read the services whose checks entered or left that state. A check
   * that entered `critical` takes its instance (a node check: every instance on the node) out of routing at once,
   * before the read confirms it: the answer says that check is critical, so the instance is at least that bad,
   * whatever its other checks say, and stopping traffic to it should not wait for a round trip to the agent.
   */
  #onStatus(set: StatusSet, r: ConsulReply, status: 'critical' | 'warning'): void {
    let list: unknown
    try {
      list = JSON.parse(r.text)
    } catch {
      return
    }
    const changed = set.update(list)
    if (changed === null) return
    if (status === 'critical' && changed.entered.length > 0 && this.#markCritical(changed.entered))
      this.#schedule()
    for (const name of changed.services) this.#markDirty(name)
    if (changed.nodes.size > 0) this.#nodeDirty(changed.nodes)
  }

  /** The instances of `entered` checks become critical (maintenance for a maintenance check); true if any did. */
  #markCritical(entered: readonly EnteredCheck[]): boolean {
    let any = false
    // A node check concerns every service; service checks only their own.
    const names = entered.some((c) => c.serviceId === '')
      ? [...this.#health.keys()]
      : [...new Set(entered.map((c) => c.svc))]
    for (const name of names) {
      const entries = this.#health.get(name)
      if (entries === undefined) continue
      let next: HealthEntry[] | null = null
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as HealthEntry
        const status = enteredStatus(e, entered)
        if (status === '' || instanceStatus(e) === status || instanceStatus(e) === 'maintenance') continue
        next ??= entries.slice()
        next[i] = { ...e, status }
      }
      if (next !== null) {
        this.#setHealth(name, next)
        any = true
      }
    }
    return any
  }

  /** A check of `svc` ('' = a node check of `node`) changed. */
  #checkChanged(svc: string, node: string, first: boolean, nodes: Set<string>): void {
    if (svc !== '') this.#markDirty(svc)
    else if (!first) nodes.add(node)
  }

  /** Every routed service with a check or an instance on one of `nodes`. */
  #nodeDirty(nodes: ReadonlySet<string>): void {
    const checks = this.#checks
    if (checks !== null) {
      for (let i = 0; i < checks.length; i++) {
        const svc = checks.svc[i] as number
        if (svc > 0 && nodes.has(checks.name(checks.node[i] as number))) this.#markDirty(checks.name(svc))
      }
    }
    for (const [name, entries] of this.#health) {
      for (const e of entries) {
        if (nodes.has(e.Node.Node)) {
          this.#markDirty(name)
          break
        }
      }
    }
  }

  #startRead(name: string): void {
    this.#reads.set(name, new ServiceRead(name))
    this.#pending.add(`service:${name}`)
    this.#markDirty(name)
  }

  #markDirty(name: string): void {
    const read = this.#reads.get(name)
    if (read === undefined || read.retry !== null) return
    this.#dirty.add(name)
    if (this.#holding === 0) this.#pump()
  }

  /** Run a handler that may mark many services dirty, then start their reads together (maybe by node). */
  #held<T>(handle: () => T): T {
    this.#holding++
    try {
      return handle()
    } finally {
      if (--this.#holding === 0) this.#pump()
    }
  }

  /** Start reads of dirty services, at most `fanout` at a time; many at once are read by node. */
  #pump(): void {
    const signal = this.#signal
    if (signal === null || signal.aborted) return
    // Entering `state` mode, the reads wait for the first state answer: it marks every service with a check
    // dirty, so reads made before it would be made again.
    if (this.#stateWatch !== null && this.#checks === null && this.#pending.has('state')) return
    if (
      !this.#nodeReads &&
      this.#stateWatch !== null &&
      this.#dirty.size >= this.#nodeReadsFrom &&
      Date.now() >= this.#nodeReadsAfter
    ) {
      const names = [...this.#dirty]
      this.#dirty.clear()
      this.#nodeReads = true
      void this.#readNodes(names, signal).then((read) => {
        this.#nodeReads = false
        this.#readsDone(read ? names.length : 0)
      })
      return
    }
    for (const name of this.#dirty) {
      if (this.#inflight >= this.#config.fanout) return
      this.#dirty.delete(name)
      this.#inflight++
      void this.#read(name, signal).finally(() => {
        this.#inflight--
        this.#readsDone(1)
      })
    }
  }

  /** `n` service reads finished (one read, or a read by node). */
  #readsDone(n: number): void {
    this.#burstReads += n
    if (!this.#synced) {
      const before = this.#syncReads
      this.#syncReads += n
      if (Math.floor(this.#syncReads / SYNC_PROGRESS) > Math.floor(before / SYNC_PROGRESS)) {
        const total = this.#services.size + this.#reads.size
        this.#log.info({ read: this.#syncReads, total }, 'consul: initial sync: services read')
      }
    }
    this.#pump()
    if (this.#inflight === 0 && this.#dirty.size === 0 && !this.#nodeReads) {
      if (this.#burstReads >= BURST_READS && this.#synced) this.#onBurst?.()
      this.#burstReads = 0
    }
  }

  /**
   * Read `names` by node: `/v1/catalog/nodes`, then for each node (`fanout` at a time) its instances
   * (`/v1/catalog/node-services/<node>`) and checks (`/v1/health/node/<node>`), put together into the entries a
   * `/v1/health/service/<name>` answer has. At 10,000 services on 100 nodes that is 201 requests instead of
   * 10,000 (the initial sync: docs/consul.md). Any failure reads the services one by one instead.
   */
  async #readNodes(names: readonly string[], signal: AbortSignal): Promise<boolean> {
    let found: Map<string, unknown[]>
    let index = 0
    try {
      const reply = await this.#http.get('/v1/catalog/nodes', {}, 0, signal)
      index = reply.index
      const list: unknown = JSON.parse(reply.text)
      if (!Array.isArray(list)) throw new Error('catalog/nodes is not a list')
      const nodes: string[] = []
      for (const n of list as { Node?: unknown }[]) if (typeof n?.Node === 'string') nodes.push(n.Node)
      found = new Map()
      let next = 0
      // The checks of the state answer parsed whole, if no change came since (the initial sync's reads wait for
      // that answer): taken once, so a later read by node reads each node's checks.
      const stateChecks = this.#stateChecks
      this.#stateChecks = null
      const readNode = async (): Promise<void> => {
        while (next < nodes.length) {
          const name = nodes[next++] as string
          const node = encodeURIComponent(name)
          const [services, checks] = await Promise.all([
            this.#http.get(`/v1/catalog/node-services/${node}`, {}, 0, signal),
            stateChecks === null ? this.#http.get(`/v1/health/node/${node}`, {}, 0, signal) : null,
          ])
          nodeEntries(
            JSON.parse(services.text),
            checks === null ? (stateChecks?.get(name) ?? []) : JSON.parse(checks.text),
            found,
          )
        }
      }
      const n = Math.min(nodes.length, Math.max(1, this.#config.fanout >> 1))
      await Promise.all(Array.from({ length: n }, readNode))
      if (!this.#synced) this.#onSyncGarbage?.()
    } catch (err) {
      if (signal.aborted) return false
      // Not again before the longest backoff: meanwhile the services are read one by one.
      this.#nodeReadsAfter = Date.now() + this.#config.backoff.max
      this.#log.warn(
        { err: describe(err), services: names.length },
        'consul: read by node failed, reading each service',
      )
      for (const name of names) if (this.#reads.has(name)) this.#dirty.add(name)
      return false
    }
    const now = Date.now()
    for (const name of names) {
      const read = this.#reads.get(name)
      if (read === undefined) continue
      read.errors = 0
      read.lastSuccess = now
      if (Number.isFinite(index) && index > 0) read.lastIndex = index
      const entries = this.#entries(name, found.get(name) ?? [])
      // Compared with the next read by node (a service read's digest is of its answer text, so the service's
      // next read applies whatever it reads).
      if (entries !== null) {
        const digest = `node:${payloadDigest(JSON.stringify(entries))}`
        if (digest !== read.digest) {
          read.digest = digest
          read.changes++
          this.#setHealth(name, entries)
          this.#schedule()
        }
      }
      this.#settle(read.name)
    }
    return true
  }

  async #read(name: string, signal: AbortSignal): Promise<void> {
    const c = this.#config
    const query: Record<string, string> =
      c.status.length === 1 && !c.routeWithoutChecks ? { passing: '' } : {}
    const path = `/v1/health/service/${encodeURIComponent(name)}`
    let reply: ConsulReply
    try {
      reply = await this.#http.get(path, query, 0, signal)
    } catch (err) {
      const read = this.#reads.get(name)
      if (signal.aborted || read === undefined) return
      read.errors++
      read.totalErrors++
      read.lastError = describe(err)
      this.#log.warn(
        { watch: read.name, err: read.lastError, errors: read.errors },
        'consul: read failed, backing off',
      )
      this.#settle(read.name)
      read.retry = setTimeout(
        () => {
          read.retry = null
          if (this.#reads.get(name) === read) this.#markDirty(name)
        },
        backoffDelay(read.errors, c.backoff.min, c.backoff.max, this.#rand),
      )
      return
    }
    const read = this.#reads.get(name)
    if (signal.aborted || read === undefined) return
    read.errors = 0
    read.lastSuccess = Date.now()
    read.lastIndex = Number.isFinite(reply.index) ? reply.index : read.lastIndex
    const digest = payloadDigest(reply.text)
    if (digest !== read.digest) {
      read.digest = digest
      read.changes++
      this.#onHealth(name, reply)
    }
    this.#settle(read.name)
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
    if (!this.#services.has(name) && !this.#reads.has(name)) return
    let data: unknown
    try {
      data = JSON.parse(r.text)
    } catch {
      data = null
    }
    const entries = this.#entries(name, data)
    if (entries === null) return
    this.#setHealth(name, entries)
    this.#schedule()
  }

  /** Service `name`'s instances are `entries` now (null: none, it is gone), noted for the next build. */
  #setHealth(name: string, entries: readonly HealthEntry[] | null): void {
    if (entries === null) this.#health.delete(name)
    else this.#health.set(name, entries)
    this.#touched?.add(name)
  }

  /** A health answer's entries (minimalEntries), or null when it is not one (logged; the last good ones stay). */
  #entries(name: string, data: unknown): HealthEntry[] | null {
    const checked = data === null ? 'not JSON' : healthEntries(data)
    if (typeof checked !== 'string') return minimalEntries(checked)
    // Keep the last good instances (a body Consul never sends must not empty or crash the build).
    this.#log.warn(
      { watch: `service:${name}`, reason: checked },
      'consul: health answer is not valid, ignored',
    )
    return null
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
      // A watch settles when its fetch returns, before its answer is handled; handling a catalog answer can
      // start new watches (pending again): build once those have answered, not with the services missing.
      if (this.#pending.size === 0) this.#build()
    })
  }

  #build(): void {
    const emit = this.#emit
    if (emit === null) return
    const c = this.#config
    if (!this.#synced) this.#onSyncGarbage?.()
    this.stats.builds++
    const result = buildSnapshot(
      { health: this.#health, kv: this.#kv },
      {
        tagPrefix: c.tagPrefix,
        status: c.status,
        routeWithoutChecks: c.routeWithoutChecks,
        dc: this.#dc,
        defaults: this.#defaults,
        suffix: this.#suffix,
      },
      this.#cache,
      this.#touched,
    )
    this.#touched = new Set()
    this.#report(result.problems)
    if (!this.#synced) {
      this.#synced = true
      const services = this.#services.size + this.#reads.size
      const s = result.snapshot
      this.#log.info(
        {
          services,
          routes: s.routes.length,
          tcpRoutes: s.tcpRoutes.length,
          ms: Date.now() - this.#syncStart,
          dc: this.#dc,
        },
        'consul: initial sync complete',
      )
      this.#burstReads = 0 // reads of the sync still in flight (a first state answer re-reads some) belong to it
      this.#onBurst?.()
    }
    this.stats.emits++
    emit(this.#noRoutePage === '' ? result.snapshot : { ...result.snapshot, noRoutePage: this.#noRoutePage })
  }

  /** Log each problem once (until it goes away and comes back) and count them. */
  #report(problems: readonly BuildProblem[]): void {
    const now = new Set<string>()
    const tags = new Map<string, number>()
    let commands = 0
    for (const p of problems) {
      if (p.dropped) {
        if (p.kind === 'tag') tags.set(p.service, (tags.get(p.service) ?? 0) + 1)
        else commands++
      }
      const key = `${p.where}: ${p.reason}`
      now.add(key)
      if (this.#lastProblems.has(key)) continue
      if (p.dropped) {
        this.stats.dropped++
        if (p.kind === 'tag') this.stats.droppedTags++
        else this.stats.droppedRouteCommands++
        this.#log.warn({ where: p.where, reason: p.reason }, 'consul: route dropped')
      } else {
        this.stats.warnings++
        this.#log.warn({ where: p.where, reason: p.reason }, 'consul: ignored')
      }
    }
    this.#lastProblems = now
    this.#droppedTags = tags
    this.#droppedCommands = commands
  }
}

/** A fingerprint of a catalog member's tags when one starts with `prefix` (the service is routed), else -1. */
function routedTags(tags: unknown, prefix: string): number {
  if (!Array.isArray(tags) || !tags.some((t) => typeof t === 'string' && t.trim().startsWith(prefix)))
    return -1
  return fingerprint(tags.join('\n'))
}

/**
 * One node's `/v1/catalog/node-services/<node>` answer and its checks (`/v1/health/node/<node>`, or the state
 * answer's) as health entries
 * (`{ Node, Service, Checks }`: the node's checks and the instance's own), added to `into` by service name.
 * Only the fields build reads are kept (entries.ts minimalEntries): the parsed answers are garbage at once,
 * not held until every node has answered.
 */
function nodeEntries(services: unknown, checks: unknown, into: Map<string, unknown[]>): void {
  if (typeof services !== 'object' || services === null) throw new Error('node-services is not an object')
  const { Node: n, Services: list } = services as {
    Node?: Record<string, unknown> | null
    Services?: unknown
  }
  if (n === null || n === undefined) return // the node left between the two reads
  if (!Array.isArray(list) || !Array.isArray(checks)) throw new Error('node answers are not lists')
  const node = { Node: n.Node, Address: n.Address }
  const nodeChecks: unknown[] = []
  const own = new Map<string, unknown[]>()
  for (const c of checks as Record<string, unknown>[]) {
    if (typeof c !== 'object' || c === null) continue
    const id = typeof c.ServiceID === 'string' ? c.ServiceID : ''
    const check = { CheckID: c.CheckID, Status: c.Status, ServiceID: id }
    if (id === '') nodeChecks.push(check)
    else {
      const l = own.get(id)
      if (l === undefined) own.set(id, [check])
      else l.push(check)
    }
  }
  for (const svc of list as Record<string, unknown>[]) {
    if (typeof svc?.Service !== 'string') continue
    const { ID, Service, Tags, Address, Port, Weights } = svc
    const entry = {
      Node: node,
      Service: { ID, Service, Tags, Address, Port, Weights },
      Checks: [...nodeChecks, ...(own.get(typeof ID === 'string' ? ID : '') ?? [])],
    }
    const l = into.get(Service)
    if (l === undefined) into.set(Service, [entry])
    else l.push(entry)
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** What an entered critical check makes of entry `e`: 'critical', 'maintenance', or '' when none is its own. */
function enteredStatus(e: HealthEntry, entered: readonly EnteredCheck[]): '' | 'critical' | 'maintenance' {
  let status: '' | 'critical' | 'maintenance' = ''
  for (const c of entered) {
    if (c.node !== e.Node.Node) continue
    if (c.serviceId !== '' && c.serviceId !== e.Service.ID) continue
    if (c.checkId === '_node_maintenance' || c.checkId.startsWith('_service_maintenance:'))
      return 'maintenance'
    status = 'critical'
  }
  return status
}
