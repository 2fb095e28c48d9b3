/**
 * Each server's recent health events for the admin page: its last check results with their reasons (`L7OK 200`,
 * `L4CON`, `L7STS 503`) and its state changes (UP, DOWN, with why), newest last. Fed by the health service's
 * statuses (service.ts `subscribe`): a status whose `checks` grew is a finished check, one whose `up` flipped is
 * a state change. Kept by the health service's server id; bounded: `HISTORY_SIZE` events per server, and
 * `retain` drops the servers that are gone.
 */
import { formatReason } from './probes.js'
import type { ServersState } from './service.js'

export const HISTORY_SIZE = 30

export interface HealthEvent {
  /** Epoch ms. */
  readonly at: number
  /** `check`: one check result; `state`: the verdict changed. */
  readonly kind: 'check' | 'state'
  readonly ok: boolean
  /** `L7STS 503` for a check, `UP`/`DOWN` for a state change. */
  readonly result: string
  /** The check's detail, or why the state changed. */
  readonly detail: string
  /** The check's duration in ms (0 for a state change). */
  readonly duration: number
}

class ServerEvents {
  readonly events: HealthEvent[]
  checks: number
  up: boolean | null
  passive: string
  constructor() {
    this.events = []
    this.checks = 0
    this.up = null
    this.passive = ''
  }
  push(e: HealthEvent): void {
    if (this.events.length >= HISTORY_SIZE) this.events.shift()
    this.events.push(e)
  }
}

export class HealthHistory {
  readonly #byId: Map<number, ServerEvents>
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#byId = new Map()
    this.#now = now
  }

  /** A published state (a listener of the health service). */
  record(state: ServersState): void {
    const at = this.#now()
    for (const s of state.servers) {
      const h = s.health
      if (h === null) continue
      let e = this.#byId.get(s.id)
      if (e === undefined) {
        e = new ServerEvents()
        this.#byId.set(s.id, e)
      }
      if (h.checks > e.checks && h.last !== null) {
        e.push({
          at,
          kind: 'check',
          ok: h.last.ok,
          result: formatReason(h.last),
          detail: h.last.detail,
          duration: h.last.duration,
        })
      }
      e.checks = h.checks
      if (e.up !== null && e.up !== h.up) {
        // The checker publishes a check's result, then the verdict it caused (service.ts): a flip comes from the
        // last check unless live traffic's last action changed with it (haproxy `observe`).
        const why =
          h.lastPassive !== e.passive || h.last === null
            ? h.lastPassive
            : `${formatReason(h.last)}${h.last.detail === '' ? '' : `: ${h.last.detail}`}`
        e.push({ at, kind: 'state', ok: h.up, result: h.up ? 'UP' : 'DOWN', detail: why, duration: 0 })
      }
      e.up = h.up
      e.passive = h.lastPassive
    }
  }

  /** The events of server `id`, oldest first ([] when none). */
  of(id: number): readonly HealthEvent[] {
    return this.#byId.get(id)?.events ?? []
  }

  /** Forget the servers whose id `keep` refuses (the health service no longer has them). */
  retain(keep: (id: number) => boolean): void {
    for (const id of this.#byId.keys()) if (!keep(id)) this.#byId.delete(id)
  }

  get size(): number {
    return this.#byId.size
  }
}
