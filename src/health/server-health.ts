/**
 * One server's health as the checker keeps it (checker.ts): the haproxy counter (state.ts), the schedule fields,
 * the last result, and what its probe sees (the probe's view of the check spec and the target, computed once per
 * spec change so a check allocates nothing).
 */
import type { HealthCheckSpec, ObserveSpec } from '../model/snapshot.js'
import { HealthState } from './view.js'
import type { ProbeHandle, ProxyVersion, ProbeSpec, ProbeTarget } from './probes.js'

/** What the checker reads from a server (the proxy's Upstream implements it). */
export interface HealthTarget {
  readonly label: string
  /** Configured host (for Host/SNI defaults). */
  readonly host: string
  readonly port: number
  /** Resolved address; '' = unknown. */
  readonly address: string
}

/** What counts a server's passive results (the HealthChecker). */
export interface PassiveCounter {
  observe(h: ServerHealth, ok: boolean): void
}

/** One server's health as the checker keeps it: counter, schedule, probe. Fields are all initialised up front. */
export class ServerHealth extends HealthState {
  /** The checker that owns it (passive reports go there). */
  readonly checker: PassiveCounter
  readonly target: HealthTarget
  consecutiveErrors: number
  paused: boolean
  /** Position in the checker's schedule heap; -1 = no check pending and no probe deadline. */
  heapIndex: number
  /** When the pending check is due, or while `running` when the probe times out (ms on the checker clock). */
  due: number
  /** When the running (or last) check was due: the next one is due one interval after it. */
  checkDue: number
  /** Tie-break between equal `due` times: first scheduled, first run. */
  seq: number
  running: boolean
  /** The running callback-form probe (to expire it at its deadline), else null. */
  probe: ProbeHandle | null
  /** The service's `send_proxy`. */
  sendProxy: ProxyVersion
  /** What the probe sees, rebuilt when the spec changes (no allocation per check). */
  probeSpec: ProbeSpec
  probeTarget: ProbeTarget

  constructor(
    checker: PassiveCounter,
    target: HealthTarget,
    spec: HealthCheckSpec,
    observe: ObserveSpec | null,
    slowstart: number,
    sendProxy: ProxyVersion = 'none',
  ) {
    super(spec, observe, slowstart)
    this.checker = checker
    this.target = target
    this.consecutiveErrors = 0
    this.paused = false
    this.heapIndex = -1
    this.due = 0
    this.checkDue = 0
    this.seq = 0
    this.running = false
    this.probe = null
    this.sendProxy = sendProxy
    this.probeSpec = probeSpec(spec, sendProxy)
    this.probeTarget = probeTarget(spec, target)
  }

  /** A passive result from live traffic (see HealthChecker.observe). */
  report(ok: boolean): void {
    this.checker.observe(this, ok)
  }
}

/** Where to probe: the check's address/port when set, else the server's resolved address (or host). */
export function probeTarget(spec: HealthCheckSpec, t: HealthTarget): ProbeTarget {
  return {
    address: spec.address !== '' ? spec.address : t.address !== '' ? t.address : t.host,
    port: spec.port > 0 ? spec.port : t.port,
    hostname: spec.address !== '' ? spec.address : t.host,
  }
}

/**
 * Which PROXY header checks send (haproxy `check-send-proxy`, docs/haproxy.md): with the
 * server's `send-proxy[-v2]`, checks send the same version, except when the check goes to another `port` or
 * `addr` (then only with `check-send-proxy`); `check-send-proxy` alone sends v1.
 */
export function checkProxy(spec: HealthCheckSpec, service: ProxyVersion): ProxyVersion {
  if (spec.sendProxy === false) return 'none'
  if (spec.sendProxy === true) return service === 'v2' ? 'v2' : 'v1'
  return spec.port > 0 || spec.address !== '' ? 'none' : service
}

/** The probe's view of a check spec; cached per spec object (and PROXY mode) so probes allocate nothing per run. */
const probeSpecs = new WeakMap<HealthCheckSpec, Map<ProxyVersion, ProbeSpec>>()

export function probeSpec(spec: HealthCheckSpec, service: ProxyVersion): ProbeSpec {
  let bySend = probeSpecs.get(spec)
  if (bySend === undefined) {
    bySend = new Map()
    probeSpecs.set(spec, bySend)
  }
  let p = bySend.get(service)
  if (p === undefined) {
    p = {
      type: spec.type,
      timeout: spec.timeout > 0 ? spec.timeout : spec.inter,
      proxy: checkProxy(spec, service),
      http: {
        method: spec.http.method,
        path: spec.http.path,
        host: spec.http.host,
        expect: spec.http.expectStatus,
      },
      tls: spec.tls,
    }
    bySend.set(service, p)
  }
  return p
}
