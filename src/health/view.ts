/**
 * A serving worker's copy of one server's health: what the health service (service.ts, in the primary) last
 * published for it, plus the spec parts the request path reads. Workers run no checks: they apply the published
 * status (`apply`) and report passive observations (`report`) back to the service, which alone counts them.
 * Pure: no I/O, no timers.
 */
import type { HealthCheckSpec, ObserveSpec } from '../model/snapshot.js'
import { describeHealth, initialHealth, isUp, slowstartWeight } from './state.js'
import type { ProbeResult } from './probes.js'

/** One server's health as the service publishes it (see service.ts `ServerStatus`). */
export interface HealthStatus {
  /** The counter's verdict. */
  readonly up: boolean
  /** haproxy's check health counter, 0..rise+fall-1. */
  readonly health: number
  /** When the server last came UP (slowstart ramps from here), or -Infinity. */
  readonly upSince: number
  readonly last: ProbeResult | null
  /** Text of the last passive action, '' when none. */
  readonly lastPassive: string
  readonly checks: number
  readonly failedChecks: number
  readonly downTransitions: number
}

/** Where a worker's passive observations go: the service itself in-process, a batch for the primary otherwise. */
export type ObservationSink = (id: number, ok: boolean) => void

/**
 * One server's health and what it reads of its check: the fields the checker's ServerHealth (server-health.ts)
 * and a worker's ServerHealthView share, and what both answer from them.
 */
export class HealthState implements HealthStatus {
  spec: HealthCheckSpec
  observe: ObserveSpec | null
  /** ms; 0 = off. */
  slowstart: number
  /** Active checks count for this server (false for `check.source: consul`). */
  active: boolean
  /** haproxy's check health counter, 0..rise+fall-1. */
  health: number
  /** The counter's verdict (health >= rise). */
  up: boolean
  /** When `up` last changed to true after having been false (slowstart), else -Infinity. */
  upSince: number
  last: ProbeResult | null
  /** Text of the last passive action, '' when none. */
  lastPassive: string
  checks: number
  failedChecks: number
  downTransitions: number

  /** As `init_state` says the server starts (at start, for a new server, when leaving maint). */
  constructor(spec: HealthCheckSpec, observe: ObserveSpec | null, slowstart: number) {
    this.spec = spec
    this.observe = observe
    this.slowstart = slowstart
    this.active = spec.source !== 'consul'
    this.health = initialHealth(spec.initState, spec)
    this.up = isUp(this.health, spec)
    this.upSince = -Infinity
    this.last = null
    this.lastPassive = ''
    this.checks = 0
    this.failedChecks = 0
    this.downTransitions = 0
  }

  /** The weight pickers should use now: `weight` ramped by slowstart. */
  effectiveWeight(weight: number, now: number): number {
    return this.slowstart > 0 ? slowstartWeight(weight, now - this.upSince, this.slowstart) : weight
  }

  /** Still ramping (slowstart in progress). */
  ramping(now: number): boolean {
    return this.slowstart > 0 && this.up && now - this.upSince < this.slowstart
  }

  /** haproxy's `UP 2/3` / `DOWN 1/2`. */
  status(): string {
    return describeHealth(this.health, this.spec)
  }
}

/** A worker's copy of one server's health (see the module comment). */
export class ServerHealthView extends HealthState {
  /** The health service's id of this server (what its status and observations are keyed by). */
  id: number
  readonly #sink: ObservationSink

  constructor(
    id: number,
    spec: HealthCheckSpec,
    observe: ObserveSpec | null,
    slowstart: number,
    sink: ObservationSink,
  ) {
    super(spec, observe, slowstart)
    this.id = id
    this.#sink = sink
  }

  /** The service's status for this server. */
  apply(s: HealthStatus): void {
    this.up = s.up
    this.health = s.health
    this.upSince = s.upSince
    this.last = s.last
    this.lastPassive = s.lastPassive
    this.checks = s.checks
    this.failedChecks = s.failedChecks
    this.downTransitions = s.downTransitions
  }

  /** A passive result from live traffic (haproxy `observe`), counted by the service. */
  report(ok: boolean): void {
    this.#sink(this.id, ok)
  }
}

/**
 * Add one passive observation to a run list (process/ipc.ts `ObserveReport`: `runs[0]` failures before any
 * success, each later entry a run of failures that followed a success); start with `[0]`. Allocates only when a new
 * failure run starts after a success.
 */
export function recordObservation(runs: number[], ok: boolean): void {
  const last = runs.length - 1
  if (!ok) runs[last] = (runs[last] ?? 0) + 1
  else if (last === 0 || runs[last] !== 0) runs.push(0)
}

/** Feed a run list to `observe` in the order the worker saw it (failures before the first success first). */
export function replayRuns(runs: readonly number[], observe: (ok: boolean) => void): void {
  for (let i = 0; i < runs.length; i++) {
    if (i > 0) observe(true)
    for (let n = runs[i] ?? 0; n > 0; n--) observe(false)
  }
}
