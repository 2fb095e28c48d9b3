/**
 * Health policy: haproxy's single-counter state machine (docs/haproxy.md, health checks). Pure: no I/O,
 * no timers, no logging.
 *
 * One integer `health` in [0, rise + fall - 1]; the server is UP iff `health >= rise`.
 * - A failed check decrements it; dropping below `rise` clamps it to 0 (DOWN: now needs `rise` passes).
 * - A passed check increments it; reaching `rise` jumps it to `rise + fall - 1` (fully UP: needs `fall` failures).
 * So from fully UP exactly `fall` consecutive failures take a server down, and from fully DOWN exactly `rise`
 * consecutive passes bring it back; a server that flaps in between needs the remainder only.
 *
 * Initial value (`init_state`): `up` = `rise` (UP, but the first failure marks it down — haproxy's default),
 * `fully-up` = `rise + fall - 1`, `down` = `rise - 1` (DOWN, the first pass brings it up), `fully-down` = 0.
 */

export interface HealthParams {
  /** Consecutive passes to go UP, >= 1. */
  readonly rise: number
  /** Consecutive failures to go DOWN, >= 1. */
  readonly fall: number
}

export type InitState = 'up' | 'down' | 'fully-up' | 'fully-down'
export const initStates = ['up', 'down', 'fully-up', 'fully-down'] as const satisfies readonly InitState[]

/** What a passive error does once `error_limit` consecutive errors were seen (haproxy `on-error`). */
export type OnError = 'fastinter' | 'fail-check' | 'sudden-death' | 'mark-down'
export const onErrors = [
  'fastinter',
  'fail-check',
  'sudden-death',
  'mark-down',
] as const satisfies readonly OnError[]

/** Check intervals in ms (haproxy `inter`, `fastinter`, `downinter`; 0 = fall back to `inter`). */
export interface CheckTiming {
  readonly inter: number
  readonly fastinter: number
  readonly downinter: number
}

export function maxHealth(p: HealthParams): number {
  return p.rise + p.fall - 1
}

export function initialHealth(init: InitState, p: HealthParams): number {
  switch (init) {
    case 'up':
      return p.rise
    case 'fully-up':
      return maxHealth(p)
    case 'down':
      return p.rise - 1
    case 'fully-down':
      return 0
  }
}

export function isUp(health: number, p: HealthParams): boolean {
  return health >= p.rise
}

/** The counter after one check result (haproxy `set_server_check_status`, CHK_RES_PASSED / CHK_RES_FAILED). */
export function nextHealth(health: number, ok: boolean, p: HealthParams): number {
  if (ok) {
    if (health >= maxHealth(p)) return health
    const h = health + 1
    return h >= p.rise ? maxHealth(p) : h
  }
  if (health <= 0) return 0
  const h = health - 1
  return h < p.rise ? 0 : h
}

/**
 * The counter after `error_limit` consecutive passive errors (haproxy `__health_adjust`):
 * `fastinter` leaves it alone (only the next check comes sooner); `fail-check` counts as one failed check;
 * `sudden-death` first lowers it to `rise + 1` (one failure from DOWN) and then fails a check — so the *next*
 * failure, passive or active, marks the server down; `mark-down` sets `rise` and fails a check (DOWN now).
 */
export function passiveHealth(health: number, action: OnError, p: HealthParams): number {
  switch (action) {
    case 'fastinter':
      return health
    case 'fail-check':
      return nextHealth(health, false, p)
    case 'sudden-death':
      return nextHealth(health > p.rise ? p.rise + 1 : health, false, p)
    case 'mark-down':
      return nextHealth(p.rise, false, p)
  }
}

/**
 * Delay before the next check (haproxy `srv_getinter`): `inter` when fully UP, `downinter` when fully DOWN,
 * `fastinter` otherwise — transitionally UP or DOWN, and never checked yet (the default initial value `rise`
 * is not fully UP unless fall = 1). A zero `fastinter`/`downinter` falls back to `inter`.
 */
export function checkDelay(health: number, p: HealthParams, t: CheckTiming): number {
  if (health >= maxHealth(p)) return t.inter
  if (health === 0) return t.downinter > 0 ? t.downinter : t.inter
  return t.fastinter > 0 ? t.fastinter : t.inter
}

/**
 * haproxy's "status: x/y" text: `UP x/fall` (x = failures left before DOWN) or `DOWN x/rise` (passes so far).
 * `UP 3/3` is fully up, `DOWN 0/2` fully down.
 */
export function describeHealth(health: number, p: HealthParams): string {
  return isUp(health, p) ? `UP ${health - p.rise + 1}/${p.fall}` : `DOWN ${health}/${p.rise}`
}

/** Layer-7 statuses haproxy's `observe layer7` counts as good: 100..499, 501 and 505. */
export function goodLayer7Status(status: number): boolean {
  return (status >= 100 && status <= 499) || status === 501 || status === 505
}

/**
 * slowstart: the fraction of its weight (and maxconn) a server gets `elapsed` ms after coming back UP,
 * growing linearly to 1 over `slowstart` ms. Never below 1 / weight, so a returning server gets some traffic.
 */
export function slowstartWeight(weight: number, elapsed: number, slowstart: number): number {
  if (slowstart <= 0 || elapsed >= slowstart || weight === 0) return weight
  const w = Math.ceil((weight * Math.max(0, elapsed)) / slowstart)
  return w < 1 ? 1 : w
}
