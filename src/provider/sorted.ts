/** Binary search in lists kept sorted by a string key (pure). */

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
