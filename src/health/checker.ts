/**
 * The check scheduler: every active check and every passive (observe) report goes through here, feeds the
 * pure counter in state.ts, and reports UP/DOWN changes through `onChange`. Scheduling lives in this one place.
 *
 * haproxy semantics (docs/haproxy.md, health checks):
 * - interval = `inter` when fully UP, `downinter` when fully DOWN, `fastinter` otherwise and before the first
 *   check (state.ts `checkDelay`);
 * - cadence is fixed: the next check is due one interval after the previous one was *due*, not after it
 *   finished (haproxy `process_chk` adds the interval to `t->expire`), so probe latency does not drift it;
 * - start offsets: the servers added in one `sync` start at i × firstInterval / n (haproxy spreads the first
 *   checks by server position the same way), so 1,000 servers do not fire together;
 * - `spread` adds ±spread % random noise to every interval (haproxy `spread-checks`);
 * - a passing active check resets the passive error count; `on_error` forces the next check to fastinter;
 * - maint pauses checks; leaving maint restarts them from `init_state` (haproxy applies init-state there).
 *
 * One schedule for every server: a binary min-heap of servers ordered by when their next check is due, and a
 * single timer armed for the earliest one (not a timer per server). When it fires, every server due by now is
 * started, then the timer is re-armed for the new earliest. Probes report through a callback (no promise and
 * no closure per check); the probe target and the probe's view of the spec are computed once per spec change.
 * Probe timeouts use the same schedule (no timer per check): a running server stays in the heap with its
 * probe's deadline as `due`, and when that comes first the probe is expired (L4TOUT/L6TOUT/L7TOUT) right after
 * the event loop has read the sockets once more (`#expireDue`).
 *
 * The timer fires on a tick (see `tickFor`): 1/20 of the shortest interval or timeout configured, between 10
 * and 50 ms. Checks and timeouts due within one tick run together at its end, so a check or a timeout lands
 * up to 5 % (at most 49 ms) after it is due; the cadence still follows the due times, so no interval drifts.
 * Measured with bench/checks.ts (1,000 servers every second): see bench/RESULTS.md.
 *
 * Timers are the global `setTimeout`/`clearTimeout` looked up at call time and the clock is injected, so
 * node:test mock timers drive everything.
 */
import type { HealthCheckSpec, ObserveSpec } from '../model/snapshot.js'
import { checkDelay, initialHealth, isUp, maxHealth, nextHealth, passiveHealth } from './state.js'
import { startProbe as realStartProbe } from './run-probe.js'
import {
  formatReason,
  type ProbeDone,
  type ProbeHandle,
  type ProbeResult,
  type ProxyVersion,
  type ProbeSpec,
  type ProbeTarget,
} from './probes.js'
import { type HealthTarget, ServerHealth, probeTarget, probeSpec } from './server-health.js'
import { heapPush, heapUpdate, heapRemove } from './heap.js'

/** A probe as a promise (tests wrap the real `probe` to record what ran). */
export type ProbeFn = (spec: ProbeSpec, target: ProbeTarget, now: () => number) => Promise<ProbeResult>

/**
 * A probe in callback form (the default, `startProbe` of probes.ts): calls `done(owner, result)` exactly once,
 * never synchronously from the start, and at once from `expire()` (which the checker calls at `timeout`). Costs
 * no promise, closure or timer per check.
 */
export type StartProbeFn = <T>(
  spec: ProbeSpec,
  target: ProbeTarget,
  now: () => number,
  owner: T,
  done: ProbeDone<T>,
) => ProbeHandle

export interface CheckerOptions {
  /** ms clock; `Date.now` in production so mock timers can fake it. */
  readonly now: () => number
  readonly rand: () => number
  /** UP/DOWN changed (`up` is the new health verdict; `why` is the result text). */
  readonly onChange: (h: ServerHealth, up: boolean, why: string) => void
  /** Every finished active check (for logs/metrics); optional. Called per check: keep it cheap, no logging. */
  readonly onResult?: (h: ServerHealth, r: ProbeResult) => void
  /** Replace the probe with a promise-returning one (tests); costs a promise and a closure per check. */
  readonly probe?: ProbeFn
  /** Replace the probe with a callback-style one (benchmarks); ignored when `probe` is set. */
  readonly startProbe?: StartProbeFn
  /**
   * Timer granularity, ms (1 = exact); default: `tickFor` the configured checks, recomputed on every sync. Checks
   * due within one tick run together at the tick's end, so the process wakes at most once per tick instead of
   * once per check. Cadence still follows the due times.
   */
  readonly tick?: number
}

export class HealthChecker {
  readonly #now: () => number
  readonly #rand: () => number
  readonly #onChange: CheckerOptions['onChange']
  readonly #onResult: CheckerOptions['onResult']
  readonly #probe: ProbeFn | null
  readonly #startProbe: StartProbeFn
  readonly #servers: Map<HealthTarget, ServerHealth>
  /** Min-heap on (due, seq) of every server with a check pending. */
  readonly #heap: ServerHealth[]
  #seq: number
  /** The one timer, armed for `#timerDue` (the heap's earliest when armed). */
  #timer: ReturnType<typeof setTimeout> | null
  #timerDue: number
  #tick: number
  /** `options.tick` was given: keep it, do not adapt it to the checks. */
  readonly #fixedTick: boolean
  readonly #onTimer: () => void
  readonly #onProbeDone: ProbeDone<ServerHealth>
  /** Probes started and not yet finished. */
  #running: number
  /** Probes whose deadline passed (and their servers), expired by `#expireDue` once pending I/O was read. */
  readonly #expired: ServerHealth[]
  readonly #expiredProbes: ProbeHandle[]
  readonly #onExpire: () => void
  #idle: (() => void)[]
  #stopped: boolean

  constructor(options: CheckerOptions) {
    this.#now = options.now
    this.#rand = options.rand
    this.#onChange = options.onChange
    this.#onResult = options.onResult
    this.#probe = options.probe ?? null
    this.#startProbe = options.startProbe ?? realStartProbe
    this.#servers = new Map()
    this.#heap = []
    this.#seq = 0
    this.#timer = null
    this.#timerDue = Infinity
    this.#tick = Math.max(1, options.tick ?? MIN_TICK)
    this.#fixedTick = options.tick !== undefined
    this.#onTimer = () => this.#fire()
    this.#onProbeDone = (h, r) => this.#done(h, r)
    this.#running = 0
    this.#expired = []
    this.#expiredProbes = []
    this.#onExpire = () => this.#expireDue()
    this.#idle = []
    this.#stopped = false
  }

  /** The timer's current tick, ms. */
  get tick(): number {
    return this.#tick
  }

  get size(): number {
    return this.#servers.size
  }

  get(target: HealthTarget): ServerHealth | undefined {
    return this.#servers.get(target)
  }

  /**
   * The full set of checked servers (a whole-state sync, like snapshots): new targets get a ServerHealth and
   * staggered first checks, known ones keep their counter (clamped to new rise/fall), missing ones stop.
   */
  sync(
    wanted: ReadonlyMap<
      HealthTarget,
      {
        spec: HealthCheckSpec
        observe: ObserveSpec | null
        slowstart: number
        /** The service's `send_proxy` (checks follow it per `checkProxy`); absent = none. */
        sendProxy?: ProxyVersion
      }
    >,
  ): void {
    for (const [target, h] of this.#servers) {
      if (!wanted.has(target)) {
        // Out of the map first: cancelling expires a running probe, whose result must find no server.
        this.#servers.delete(target)
        this.#cancel(h)
      }
    }
    const added: ServerHealth[] = []
    let shortest = Infinity
    for (const [target, w] of wanted) {
      let h = this.#servers.get(target)
      const sendProxy = w.sendProxy ?? 'none'
      if (w.spec.source !== 'consul') shortest = Math.min(shortest, shortestTime(w.spec))
      if (h === undefined) {
        h = new ServerHealth(this, target, w.spec, w.observe, w.slowstart, sendProxy)
        this.#servers.set(target, h)
        added.push(h)
        continue
      }
      const specChanged = h.spec !== w.spec || h.sendProxy !== sendProxy
      h.spec = w.spec
      h.sendProxy = sendProxy
      if (specChanged) {
        h.probeSpec = probeSpec(w.spec, sendProxy)
        h.probeTarget = probeTarget(w.spec, target)
      }
      h.observe = w.observe
      h.slowstart = w.slowstart
      h.active = w.spec.source !== 'consul'
      if (h.health > maxHealth(w.spec)) h.health = maxHealth(w.spec)
      if (isUp(h.health, w.spec) !== h.up) this.#set(h, isUp(h.health, w.spec), 'check settings changed')
      if (!h.active || h.paused) this.#cancel(h)
      else if (specChanged && !h.running) this.#schedule(h, this.#now(), false)
    }
    if (!this.#fixedTick) this.#tick = tickFor(shortest)
    const now = this.#now()
    for (let i = 0; i < added.length; i++) {
      const h = added[i] as ServerHealth
      if (!h.active) continue
      const first = checkDelay(h.health, h.spec, h.spec)
      this.#arm(h, now + Math.floor((i * first) / added.length))
    }
    this.#rearm()
  }

  /** Passive result from live traffic (haproxy `observe`). Hot path: no allocation unless the limit trips. */
  observe(h: ServerHealth, ok: boolean): void {
    const o = h.observe
    if (o === null || h.paused) return
    if (ok) {
      h.consecutiveErrors = 0
      return
    }
    if (++h.consecutiveErrors < o.errorLimit) return
    h.consecutiveErrors = 0
    h.lastPassive = `${o.onError} after ${o.errorLimit} consecutive ${o.observe} errors`
    const health = passiveHealth(h.health, o.onError, h.spec)
    if (health < h.health) h.failedChecks++
    h.health = health
    const up = isUp(health, h.spec)
    if (up !== h.up) this.#set(h, up, h.lastPassive)
    // Every on-error action forces the next check to fastinter (when that is sooner).
    if (h.active && !h.running && h.heapIndex >= 0) {
      const fast = h.spec.fastinter > 0 ? h.spec.fastinter : h.spec.inter
      const now = this.#now()
      if (now + fast < h.due) {
        this.#arm(h, now + fast)
        this.#rearm()
      }
    }
  }

  /** maint pauses checks; leaving it restarts them from init_state. */
  pause(h: ServerHealth, paused: boolean): void {
    if (paused === h.paused) return
    h.paused = paused
    if (paused) {
      this.#cancel(h)
      return
    }
    h.health = initialHealth(h.spec.initState, h.spec)
    h.consecutiveErrors = 0
    const up = isUp(h.health, h.spec)
    if (up !== h.up) this.#set(h, up, 'leaving maintenance')
    if (h.active) {
      this.#arm(h, this.#now())
      this.#rearm()
    }
  }

  /** Resolves when no probe is in flight (tests drive mock timers, then await this). */
  async settled(): Promise<void> {
    while (this.#running > 0) await new Promise<void>((resolve) => this.#idle.push(resolve))
  }

  stop(): void {
    this.#stopped = true
    for (const h of this.#servers.values()) this.#cancel(h)
    this.#servers.clear()
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#timerDue = Infinity
  }

  /**
   * Take `h` off the schedule (the timer stays; firing with nothing due just re-arms). A running probe is
   * expired at once: without its deadline on the schedule nothing else would end it. Callers stop, pause,
   * deactivate or remove `h` first, so its result is dropped and nothing is rescheduled.
   */
  #cancel(h: ServerHealth): void {
    if (h.heapIndex >= 0) heapRemove(this.#heap, h)
    if (h.running && h.probe !== null) h.probe.expire()
  }

  /** Put `h` on the schedule at `due` (moving it if it is on already); callers `#rearm()` once after a batch. */
  #arm(h: ServerHealth, due: number): void {
    h.due = due
    h.seq = this.#seq++
    if (h.heapIndex >= 0) heapUpdate(this.#heap, h)
    else heapPush(this.#heap, h)
  }

  /** Make sure the timer fires no later than the earliest due check. */
  #rearm(): void {
    const top = this.#heap[0]
    if (top === undefined || this.#stopped) return
    const at = this.#tick > 1 ? Math.ceil(top.due / this.#tick) * this.#tick : top.due
    if (this.#timer !== null) {
      if (this.#timerDue <= at) return
      clearTimeout(this.#timer)
    }
    this.#timerDue = at
    this.#timer = setTimeout(this.#onTimer, Math.max(0, at - this.#now()))
  }

  /** The timer: start every check due by now, expire every probe past its deadline, then re-arm. */
  #fire(): void {
    this.#timer = null
    this.#timerDue = Infinity
    if (this.#stopped) return
    const heap = this.#heap
    const expired = this.#expired
    const now = this.#now()
    for (let top = heap[0]; top !== undefined && top.due <= now; top = heap[0]) {
      // A callback probe's deadline replaces the check in place (one sift instead of a pop and a push).
      if (!top.running && this.#probe === null && this.#run(top, now)) continue
      heapRemove(heap, top)
      if (!top.running) this.#run(top, now)
      else if (top.probe !== null) {
        if (expired.length === 0) setImmediate(this.#onExpire)
        expired.push(top)
        this.#expiredProbes.push(top.probe)
      }
    }
    this.#rearm()
  }

  /**
   * Expire the probes `#fire` found past their deadline, from a setImmediate: the event loop runs timers before
   * it reads sockets, so after a stall (GC, a starved CPU) an answer that came in time may be waiting unread when
   * the timer fires. The immediate runs after this turn's I/O, so such a probe reports its real result first.
   */
  #expireDue(): void {
    const expired = this.#expired
    const probes = this.#expiredProbes
    for (let i = 0; i < expired.length; i++) {
      const h = expired[i] as ServerHealth
      const p = probes[i] as ProbeHandle
      if (h.running && h.probe === p) p.expire()
    }
    expired.length = 0
    probes.length = 0
  }

  /** Next check one interval after `from` (the previous due time), skipping intervals already past. */
  #schedule(h: ServerHealth, from: number, jitter: boolean): boolean {
    if (this.#stopped || h.paused || !h.active || this.#servers.get(h.target) !== h) return false
    let delay = checkDelay(h.health, h.spec, h.spec)
    if (jitter && h.spec.spread > 0) {
      delay = Math.max(1, Math.round(delay * (1 + (h.spec.spread / 100) * (this.#rand() * 2 - 1))))
    }
    const now = this.#now()
    let due = from + delay
    while (due < now) due += delay
    this.#arm(h, due)
    this.#rearm()
    return true
  }

  /** Start `h`'s check; true when it started with a callback probe (its deadline is then on the schedule). */
  #run(h: ServerHealth, now: number): boolean {
    if (this.#stopped || h.paused || h.running) return false
    h.running = true
    h.checkDue = h.due
    this.#running++
    // The resolved address can change after sync (DNS): refresh the cached target only then.
    const t = h.target
    const address = h.spec.address !== '' ? h.spec.address : t.address !== '' ? t.address : t.host
    if (h.probeTarget.address !== address) h.probeTarget = probeTarget(h.spec, t)
    if (this.#probe === null) {
      h.probe = this.#startProbe(h.probeSpec, h.probeTarget, this.#now, h, this.#onProbeDone)
      // The probe's deadline takes the server's place on the schedule until it reports (#fire runs #rearm).
      this.#arm(h, now + h.probeSpec.timeout)
      return true
    }
    void this.#probe(h.probeSpec, h.probeTarget, this.#now).then((r) => this.#done(h, r))
    return false
  }

  /** A probe finished: apply the result, schedule the next check one interval after this one was due. */
  #done(h: ServerHealth, r: ProbeResult): void {
    h.running = false
    h.probe = null
    this.#result(h, r)
    // The next check takes the deadline's place in the heap; with none, the deadline goes.
    if (!this.#schedule(h, h.checkDue, true) && h.heapIndex >= 0) heapRemove(this.#heap, h)
    if (--this.#running === 0 && this.#idle.length > 0) {
      const idle = this.#idle
      this.#idle = []
      for (let i = 0; i < idle.length; i++) (idle[i] as () => void)()
    }
  }

  #result(h: ServerHealth, r: ProbeResult): void {
    // Stopped, removed, paused or no longer actively checked: the result (or the expiry that ended it) is dropped.
    if (this.#stopped || h.paused || !h.active || this.#servers.get(h.target) !== h) return
    h.last = r
    h.checks++
    if (!r.ok) h.failedChecks++
    else h.consecutiveErrors = 0
    h.health = nextHealth(h.health, r.ok, h.spec)
    this.#onResult?.(h, r)
    const up = isUp(h.health, h.spec)
    if (up !== h.up) this.#set(h, up, `${formatReason(r)}${r.detail === '' ? '' : `: ${r.detail}`}`)
  }

  #set(h: ServerHealth, up: boolean, why: string): void {
    h.up = up
    if (up) h.upSince = h.checks > 0 || h.lastPassive !== '' ? this.#now() : -Infinity
    else h.downTransitions++
    this.#onChange(h, up, why)
  }
}

/**
 * The timer's tick for a set of checks whose shortest interval or timeout is `shortest` ms: 1/20 of it, between
 * MIN_TICK and MAX_TICK, so no check or timeout lands more than 5 % late (and never more than 49 ms).
 *
 * Waking once per check (1,000 wake-ups a second at 1,000 servers × 1 s) cost more CPU than the checks' own
 * work on a busy 2-core machine, and the wake-ups still dominate at 10 ms (bench/checks.ts, 1,000 TCP checks/s,
 * three interleaved runs each: tick 10 ms 8.1–9.8 % of a core, 25 ms 6.3–6.8 %, 50 ms 5.1–5.5 %; the user time
 * drops from ~5 % to ~2 %, the kernel's connect/close work stays). Deliberate difference from haproxy
 * (ms-precise check tasks); at `inter 1s` it is within haproxy's own `spread-checks` noise.
 */
export function tickFor(shortest: number): number {
  if (!(shortest < Infinity)) return MAX_TICK
  return Math.min(MAX_TICK, Math.max(MIN_TICK, Math.floor(shortest / 20)))
}

export const MIN_TICK = 10

export const MAX_TICK = 50

/** The shortest interval or timeout a check spec can use (zero `fastinter`/`downinter`/`timeout` = unset). */
function shortestTime(spec: HealthCheckSpec): number {
  let t = spec.inter
  if (spec.fastinter > 0 && spec.fastinter < t) t = spec.fastinter
  if (spec.downinter > 0 && spec.downinter < t) t = spec.downinter
  if (spec.timeout > 0 && spec.timeout < t) t = spec.timeout
  return t
}
