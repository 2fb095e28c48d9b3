/** Binary search in sorted lists (pure). */

/** First index of `list` (sorted by `key`, compared with `<`) whose key is ≥ `k`; `list.length` when none. */
export function lowerBound<T>(list: readonly T[], k: string, key: (x: T) => string): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (key(list[mid] as T) < k) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index of the ascending numbers `xs` whose value is ≥ `x`; `xs.length` when none. */
export function firstAtLeast(xs: ArrayLike<number>, x: number): number {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((xs[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
