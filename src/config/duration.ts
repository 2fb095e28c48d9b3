/**
 * Durations in config files: `500ms`, `10s`, `5m`, `1h`, `1m30s`, `1.5s`; a plain integer means milliseconds.
 * Pure. The result is always a whole number of milliseconds that fits a Node timer.
 */

/** Longest duration accepted: Node timers overflow (and fire at once) above 2^31-1 ms. */
export const maxDurationMs = 2_147_483_647

export type DurationResult =
  { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly reason: string }

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const satisfies Record<string, number>

/** One `<number><unit>` term; the units are tried longest first so `ms` is not read as `m` + garbage. */
const termRe = /(\d+(?:\.\d+)?)(ms|s|m|h)/y
const digitsRe = /^\d+$/

const expectation = 'expected a duration like 500ms, 10s, 5m, 1h or 1m30s'

export function parseDuration(input: unknown): DurationResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return fail(`${expectation}, got ${String(input)}`)
    if (input < 0) return fail(`must not be negative, got ${input}`)
    if (!Number.isInteger(input))
      return fail(`${expectation} (a plain number is milliseconds and must be an integer)`)
    return bounded(input)
  }
  if (typeof input !== 'string') return fail(expectation)
  const s = input.trim()
  if (s === '') return fail(`${expectation}, got an empty string`)
  if (s.startsWith('-')) return fail(`must not be negative, got "${s}"`)
  if (digitsRe.test(s)) return bounded(Number(s))
  let total = 0
  let at = 0
  termRe.lastIndex = 0
  while (at < s.length) {
    termRe.lastIndex = at
    const m = termRe.exec(s)
    if (m === null) {
      return /^\d+(\.\d+)?$/.test(s)
        ? fail(`missing unit in "${s}" (ms, s, m or h)`)
        : fail(`${expectation}, got "${s}"`)
    }
    const unit = m[2] as keyof typeof unitMs
    total += Number(m[1]) * unitMs[unit]
    at = termRe.lastIndex
  }
  // Fractions like 1.5s are fine; 0.5ms is not (timers have millisecond resolution).
  const ms = Math.round(total * 1_000) / 1_000
  if (!Number.isInteger(ms)) return fail(`must be a whole number of milliseconds, got "${s}"`)
  return bounded(ms)
}

function bounded(ms: number): DurationResult {
  if (ms > maxDurationMs) return fail(`too long (at most ${formatDuration(maxDurationMs)})`)
  return { ok: true, ms }
}

function fail(reason: string): DurationResult {
  return { ok: false, reason }
}

/** Canonical text form, the inverse of parseDuration: 90000 → `1m30s`, 1500 → `1s500ms`, 0 → `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  let rest = ms
  let out = ''
  const h = Math.floor(rest / unitMs.h)
  rest -= h * unitMs.h
  const m = Math.floor(rest / unitMs.m)
  rest -= m * unitMs.m
  const s = Math.floor(rest / unitMs.s)
  rest -= s * unitMs.s
  if (h > 0) out += `${h}h`
  if (m > 0) out += `${m}m`
  if (s > 0) out += `${s}s`
  if (rest > 0) out += `${rest}ms`
  return out
}
