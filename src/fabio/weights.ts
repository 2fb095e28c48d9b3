/**
 * fabio's route weights as lb's integer server weights. As fabio documents (`route.weighTargets`): a fixed weight
 * is a share of the route's traffic (0.05 = 5 %); `route weight` gives the selected targets a combined share `w`,
 * `w/n` each; `w <= 0` makes them dynamic again. Fixed shares are normalised when their sum exceeds 1, or when
 * every target is fixed and the sum is below 1. Dynamic targets share what is left (`1 - sum`, never negative),
 * in proportion to their dynamic weight (Consul `Service.Weights`; 1 when unknown), where fabio splits it
 * equally. Pure.
 */
import type { Target } from './routecmd.js'

/**
 * Traffic share of each target (sums to 1 unless everything is 0), fabio's rules plus dynamic weights: see the
 * module comment.
 */
export function shares(targets: readonly Target[]): number[] {
  let sumFixed = 0
  let nFixed = 0
  let sumDyn = 0
  for (const t of targets) {
    if (t.fixedWeight > 0) {
      sumFixed += t.fixedWeight
      nFixed++
    } else sumDyn += t.dynWeight
  }
  const scale = sumFixed > 1 || (nFixed === targets.length && sumFixed > 0 && sumFixed < 1) ? 1 / sumFixed : 1
  const rest = Math.max(0, 1 - sumFixed * scale)
  return targets.map((t) =>
    t.fixedWeight > 0 ? t.fixedWeight * scale : sumDyn > 0 ? (rest * t.dynWeight) / sumDyn : 0,
  )
}

/**
 * Integer server weights 0..256 that realise `shares(targets)`. Without fixed weights the dynamic weights are
 * used as they are (scaled down only above 256), so plain routes keep Consul's weights. With fixed weights the
 * shares are scaled so the largest becomes 256; every non-zero share gets at least 1. The relative error per
 * server is at most 0.5/256 of the largest share (5 % canary vs 95 % over two servers: 27/539 = 5.01 %).
 */
export function integerWeights(targets: readonly Target[]): number[] {
  const out: number[] = []
  integerWeightsInto(targets, out)
  return out
}

/** `integerWeights` written into `out` (index i = target i); without fixed weights it allocates nothing. */
export function integerWeightsInto(targets: readonly Target[], out: number[]): void {
  const n = targets.length
  out.length = n
  let anyFixed = false
  for (let i = 0; i < n; i++) if ((targets[i] as Target).fixedWeight > 0) anyFixed = true
  if (anyFixed) {
    const raw = shares(targets)
    for (let i = 0; i < n; i++) out[i] = raw[i] as number
  } else {
    for (let i = 0; i < n; i++) out[i] = (targets[i] as Target).dynWeight
  }
  scaleWeights(out, anyFixed)
}

/** Largest server weight a generated route may use to realise fabio shares (src/balance/pool.ts allows it). */
export const MAX_SHARE_WEIGHT = 1_000_000

/** The served share of one server must be within this of the share asked for (issue 20: ±0.5 points). */
const SHARE_TOLERANCE = 0.001

/**
 * `out`'s shares or weights as integer server weights, in place (see integerWeights): dynamic weights
 * (`anyFixed` false) stay as they are unless the largest exceeds 256. Shares are first scaled so the largest is
 * 256 (every non-zero share gets at least 1). When that serves some share more than 0.1 points off (a 20 %
 * canary next to 1,234 servers: every server rounds up to 1 and the canary gets 17.2 %), they are scaled again
 * so that the smallest share becomes 1,000 (rounding then moves a share by at most 0.05 % of itself), the
 * largest weight capped at MAX_SHARE_WEIGHT.
 */
export function scaleWeights(out: number[], anyFixed: boolean): void {
  const n = out.length
  let max = 0
  let min = Infinity
  let sum = 0
  for (let i = 0; i < n; i++) {
    const v = out[i] as number
    if (v > max) max = v
    if (v > 0 && v < min) min = v
    if (v > 0) sum += v
  }
  if (max === 0) {
    for (let i = 0; i < n; i++) out[i] = 0
    return
  }
  const scale = !anyFixed && max <= 256 ? 1 : 256 / max
  if (anyFixed && !realises(out, scale, sum)) {
    const fine = Math.min(1_000 / min, MAX_SHARE_WEIGHT / max)
    if (fine > scale) {
      for (let i = 0; i < n; i++) {
        const v = out[i] as number
        out[i] = v <= 0 ? 0 : Math.max(1, Math.min(MAX_SHARE_WEIGHT, Math.round(v * fine)))
      }
      return
    }
  }
  for (let i = 0; i < n; i++) {
    const v = out[i] as number
    out[i] = v <= 0 ? 0 : Math.max(1, Math.min(256, Math.round(v * scale)))
  }
}

/** Whether weights `round(v * scale)` (at least 1) serve every share `v / sum` within SHARE_TOLERANCE. */
function realises(shares: readonly number[], scale: number, sum: number): boolean {
  let total = 0
  for (let i = 0; i < shares.length; i++) {
    const v = shares[i] as number
    if (v > 0) total += Math.max(1, Math.min(256, Math.round(v * scale)))
  }
  for (let i = 0; i < shares.length; i++) {
    const v = shares[i] as number
    if (v <= 0) continue
    const w = Math.max(1, Math.min(256, Math.round(v * scale)))
    if (Math.abs(w / total - v / sum) > SHARE_TOLERANCE) return false
  }
  return true
}
