/**
 * Runtime controls, the function API (haproxy runtime API §9.3, reference/haproxy.md §1.11):
 * `set server <svc>/<srv> state ready|drain|maint`, `set weight <svc>/<srv> <w>[%]`, `show servers`.
 * Overrides live on the server object and survive snapshots (a Consul update does not undo a drain);
 * a config reload that changes the server's identity starts it fresh, like haproxy without a state file.
 *
 * - ready: normal. drain: no new requests/connections, checks continue, existing ones finish.
 * - maint: no traffic and no checks; leaving maint restarts checks from `init_state`.
 * - weight: 0..256 absolute, or `N%` of the configured weight (haproxy rounds the same way).
 */
import type { AdminState } from '../balance/backend.js'
import { MAX_WEIGHT } from '../balance/backend.js'
import { formatReason } from '../health/probes.js'
import type { Upstream } from '../proxy/upstream.js'
import type { Worker } from './worker.js'

export class RuntimeError extends Error {
  readonly code: 'EDGE_RUNTIME_NOT_FOUND' | 'EDGE_RUNTIME_INVALID'
  constructor(code: RuntimeError['code'], message: string) {
    super(message)
    this.name = 'RuntimeError'
    this.code = code
  }
}

function find(worker: Worker, service: string, server: string): Upstream {
  const svc = worker.state.services.get(service)
  const up = svc?.upstreams.find((u) => u.name === server)
  if (up === undefined) throw new RuntimeError('EDGE_RUNTIME_NOT_FOUND', `no server ${service}/${server}`)
  return up
}

export function setServerState(worker: Worker, service: string, server: string, state: AdminState): void {
  if (state !== 'ready' && state !== 'drain' && state !== 'maint') {
    throw new RuntimeError(
      'EDGE_RUNTIME_INVALID',
      `state must be ready, drain or maint, got ${String(state)}`,
    )
  }
  const up = find(worker, service, server)
  up.runtimeAdmin = state
  if (up.health !== null) worker.checker.pause(up.health, state === 'maint')
  up.recompute(worker.clock())
  if (state === 'ready' && up.queue.length > 0) up.queue.drain()
}

/** `set weight`: a number 0..256 or `N%` of the configured weight. Returns the new weight. */
export function setServerWeight(
  worker: Worker,
  service: string,
  server: string,
  weight: number | string,
): number {
  const up = find(worker, service, server)
  let w: number
  if (typeof weight === 'string' && weight.endsWith('%')) {
    const pct = Number(weight.slice(0, -1))
    if (!Number.isFinite(pct) || pct < 0)
      throw new RuntimeError('EDGE_RUNTIME_INVALID', `bad weight ${weight}`)
    w = Math.min(MAX_WEIGHT, Math.round((up.spec.weight * pct) / 100))
  } else {
    w = Number(weight)
  }
  if (!Number.isInteger(w) || w < 0 || w > MAX_WEIGHT) {
    throw new RuntimeError(
      'EDGE_RUNTIME_INVALID',
      `weight must be an integer 0..${MAX_WEIGHT} or N%, got ${weight}`,
    )
  }
  up.runtimeWeight = w
  up.recompute(worker.clock())
  if (up.queue.length > 0) up.queue.drain()
  return w
}

export interface ServerRow {
  readonly service: string
  readonly server: string
  readonly address: string
  /** haproxy-style status: UP, DOWN, DRAIN, MAINT (+ ` (slowstart)` while ramping). */
  readonly status: string
  readonly up: boolean
  readonly admin: AdminState
  readonly weight: number
  readonly effectiveWeight: number
  readonly backup: boolean
  readonly inflight: number
  readonly maxconn: number
  readonly queued: number
  /** haproxy `check_health` counter and `UP 2/3` text; null when not checked. */
  readonly health: number | null
  readonly checkStatus: string | null
  /** Last check: `L7STS 503`, duration in ms and detail. */
  readonly lastCheck: { readonly result: string; readonly duration: number; readonly detail: string } | null
  readonly checks: number
  readonly failedChecks: number
  readonly downTransitions: number
  readonly reason: string
}

export function showServers(worker: Worker): ServerRow[] {
  const rows: ServerRow[] = []
  const now = worker.clock()
  for (const svc of worker.state.services.values()) {
    for (const up of svc.upstreams) {
      const h = up.health
      const base = up.admin === 'maint' ? 'MAINT' : !up.up ? 'DOWN' : up.admin === 'drain' ? 'DRAIN' : 'UP'
      rows.push({
        service: svc.spec.name,
        server: up.name,
        address: up.hostPort,
        status: h !== null && base === 'UP' && h.ramping(now) ? 'UP (slowstart)' : base,
        up: up.up,
        admin: up.admin,
        weight: up.weight,
        effectiveWeight: up.effectiveWeight,
        backup: up.backup,
        inflight: up.inflight,
        maxconn: up.maxconn,
        queued: svc.queue.length,
        health: h === null ? null : h.health,
        checkStatus: h === null ? null : h.status(),
        lastCheck:
          h === null || h.last === null
            ? null
            : { result: formatReason(h.last), duration: h.last.duration, detail: h.last.detail },
        checks: h === null ? 0 : h.checks,
        failedChecks: h === null ? 0 : h.failedChecks,
        downTransitions: h === null ? 0 : h.downTransitions,
        reason:
          up.downReason !== ''
            ? up.downReason
            : h !== null && !h.up
              ? h.lastPassive || (h.last?.detail ?? '')
              : '',
      })
    }
  }
  return rows
}
