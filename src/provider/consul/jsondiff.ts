/**
 * The elements of a JSON array that changed between two answers, without parsing the whole answer (pure).
 *
 * Why: in `state` mode every change anywhere in the datacenter returns `/v1/health/state/any` whole — 6,000
 * checks (≈ 1–2.5 MB) at 1,000 services × 3 — and `JSON.parse` of it took 17–90 ms per change on the bench
 * machine, most of the propagation time. Consecutive answers differ in a few checks, so the texts share a long
 * prefix and suffix: those are found with native string comparisons of large blocks, and only the elements in
 * between are parsed (a few, usually).
 *
 * `ArrayText` keeps an answer and the [start, end) offsets of its top-level elements. `diffArray(prev, text)`
 * returns the element texts removed from `prev` and added in `text` plus the new `ArrayText`, or null when the
 * changed region cannot be bounded cleanly (the caller parses the whole answer then). Sound for any valid JSON:
 * the scan of the new text starts at an element boundary inside the common prefix and must land exactly on the
 * old boundary that starts the common suffix; at a top-level boundary the scanner's state is always the same
 * (depth 1, outside a string), so the identical rest parses identically.
 */

export interface ArrayText {
  readonly text: string
  /** Offset just after `[` (the position before the first element). */
  readonly open: number
  readonly starts: readonly number[]
  readonly ends: readonly number[]
}

/** Element offsets of a whole JSON array text, or null when `text` is not an array (or malformed). */
export function scanArray(text: string): ArrayText | null {
  let i = skipWs(text, 0)
  if (text.charCodeAt(i) !== 0x5b /* [ */) return null
  const open = i + 1
  const starts: number[] = []
  const ends: number[] = []
  const end = scanElements(text, open, -1, starts, ends)
  if (end < 0) return null
  i = skipWs(text, end + 1)
  if (i !== text.length) return null
  return { text, open, starts, ends }
}

export interface ArrayDiff {
  /** The old elements `from`..`to - 1` (indexes into `prev.starts`) are replaced by `added`. */
  readonly from: number
  readonly to: number
  readonly removed: readonly string[]
  readonly added: readonly string[]
  readonly next: ArrayText
}

/** Blocks compared at once when looking for the common prefix and suffix. */
const BLOCK = 4096

/**
 * The elements removed and added between `prev` and `text` (see the module comment); null = parse it all.
 * `maxElements` bounds the elements parsed on either side (beyond it a whole parse is cheaper).
 */
export function diffArray(prev: ArrayText, text: string, maxElements: number): ArrayDiff | null {
  const old = prev.text
  const min = Math.min(old.length, text.length)
  const p = commonPrefix(old, text, min)
  if (p === min && old.length === text.length) return { from: 0, to: 0, removed: [], added: [], next: prev }
  const s = commonSuffix(old, text, min - p)
  const { starts, ends } = prev
  const n = starts.length
  // First old element that ends after the prefix: the region starts at the boundary before it.
  const a = lowerBound(ends, p + 1)
  const from = a === 0 ? prev.open : (ends[a - 1] as number)
  if (from < prev.open || from > p) return null
  // First old boundary (an element end, or `from` itself) at or after the start of the common suffix.
  const tail = old.length - s
  let b = a // old elements a..b-1 are removed
  let stop = from
  if (stop < tail) {
    b = lowerBound(ends, tail)
    if (b >= n) return null
    stop = ends[b] as number
    b++
  }
  if (b - a > maxElements) return null
  const delta = text.length - old.length
  const target = stop + delta
  const newStarts: number[] = []
  const newEnds: number[] = []
  if (from !== target) {
    const end = scanElements(text, from, target, newStarts, newEnds, maxElements)
    if (end !== target) return null
  }
  const removed: string[] = []
  for (let i = a; i < b; i++) removed.push(old.slice(starts[i], ends[i]))
  const added: string[] = []
  for (let i = 0; i < newStarts.length; i++) added.push(text.slice(newStarts[i], newEnds[i]))
  const st: number[] = new Array<number>(n - (b - a) + newStarts.length)
  const en: number[] = new Array<number>(st.length)
  let k = 0
  for (let i = 0; i < a; i++, k++) {
    st[k] = starts[i] as number
    en[k] = ends[i] as number
  }
  for (let i = 0; i < newStarts.length; i++, k++) {
    st[k] = newStarts[i] as number
    en[k] = newEnds[i] as number
  }
  for (let i = b; i < n; i++, k++) {
    st[k] = (starts[i] as number) + delta
    en[k] = (ends[i] as number) + delta
  }
  return { from: a, to: b, removed, added, next: { text, open: prev.open, starts: st, ends: en } }
}

/** Length of the common prefix of a and b (both at least `max` long), compared in native blocks. */
function commonPrefix(a: string, b: string, max: number): number {
  let i = 0
  while (i + BLOCK <= max && a.slice(i, i + BLOCK) === b.slice(i, i + BLOCK)) i += BLOCK
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

/** Length of the common suffix of a and b, at most `max`. */
function commonSuffix(a: string, b: string, max: number): number {
  const la = a.length
  const lb = b.length
  let i = 0
  while (i + BLOCK <= max && a.slice(la - i - BLOCK, la - i) === b.slice(lb - i - BLOCK, lb - i)) i += BLOCK
  while (i < max && a.charCodeAt(la - i - 1) === b.charCodeAt(lb - i - 1)) i++
  return i
}

/** First index whose value is ≥ x in the ascending list `xs` (xs.length when none). */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((xs[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

function skipWs(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i
    i++
  }
}

/**
 * Scan top-level elements from `i` (a boundary at depth 1: just after `[` or after an element), pushing their
 * offsets, until the closing `]` (returns its offset), or until a boundary equal to `stop` (returns `stop`), or
 * beyond `max` elements. -1 on malformed text or overshooting `stop`.
 */
function scanElements(
  t: string,
  i: number,
  stop: number,
  starts: number[],
  ends: number[],
  max = Infinity,
): number {
  let first = starts.length === 0 && i > 0 && isOpen(t, i)
  for (;;) {
    if (i === stop) return stop
    if (stop >= 0 && i > stop) return -1
    i = skipWs(t, i)
    const c = t.charCodeAt(i)
    if (c === 0x5d /* ] */) return stop >= 0 ? -1 : i
    if (!first) {
      if (c !== 0x2c /* , */) return -1
      i = skipWs(t, i + 1)
    }
    first = false
    if (starts.length >= max) return -1
    const end = scanValue(t, i)
    if (end < 0) return -1
    starts.push(i)
    ends.push(end)
    i = end
  }
}

/** Whether `i` is right after the array's `[` (only whitespace between). */
function isOpen(t: string, i: number): boolean {
  let j = i - 1
  while (j >= 0 && t.charCodeAt(j) !== 0x5b) {
    const c = t.charCodeAt(j)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false
    j--
  }
  return j >= 0
}

/** End offset (exclusive) of the JSON value starting at `i`, or -1. Strings are skipped with indexOf. */
function scanValue(t: string, i: number): number {
  let depth = 0
  const n = t.length
  while (i < n) {
    const c = t.charCodeAt(i)
    if (c === 0x22 /* " */) {
      i = stringEnd(t, i)
      if (i < 0) return -1
      if (depth === 0) return i
      continue
    }
    if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) {
      depth--
      if (depth < 0) return -1
      if (depth === 0) return i + 1
    } else if (depth === 0 && (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) return i
    i++
  }
  return depth === 0 ? n : -1
}

/** Offset after the closing quote of the string starting at `i`, or -1. */
function stringEnd(t: string, i: number): number {
  let j = i + 1
  for (;;) {
    const q = t.indexOf('"', j)
    if (q < 0) return -1
    let k = q - 1
    while (t.charCodeAt(k) === 0x5c /* \ */) k--
    if ((q - 1 - k) % 2 === 0) return q + 1
    j = q + 1
  }
}
