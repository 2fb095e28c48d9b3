/**
 * `show servers` (haproxy runtime API): one row per server of the serving state, with its state, weights, health
 * counter, last check and load, as /api/servers and the admin page show them.
 */
import type { AdminState } from '../balance/backend.js'
import { formatReason } from '../health/probes.js'
import type { ProxyState } from '../proxy/request-path.js'

/** What the admin server reads of the serving side (process/worker.ts `Worker` is one). */
export interface ServingView {
  /** The table and services requests are served with now. */
  readonly state: ProxyState
  /** ms clock (slowstart ramps). */
  readonly clock: () => number
  /** The request path's randomness (explain previews the next pick with it). */
  readonly ctx: { readonly rand: () => number }
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

/** Every server's row, or only those of the services in `only`. */
export function showServers(view: ServingView, only?: ReadonlySet<string>): ServerRow[] {
  const rows: ServerRow[] = []
  const now = view.clock()
  for (const svc of view.state.services.values()) {
    if (only !== undefined && !only.has(svc.spec.name)) continue
    // As they are, or would be: listing servers does not make them for good (src/proxy/upstream.ts).
    for (const up of svc.peekUpstreams()) {
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
