/**
 * The elements of a JSON array that changed between two answers, without parsing the whole answer (pure).
 *
 * Why: in `state` mode every change anywhere in the datacenter returns `/v1/health/state/any` whole — 6,000
 * checks (≈ 1–2.5 MB) at 1,000 services × 3 — and `JSON.parse` of it took 17–90 ms per change on the bench
 * machine, most of the propagation time. Consecutive answers differ in a few checks, so the texts share a long
 * prefix and suffix, and only the elements in between need parsing (a few, usually).
 *
 * `ArrayText` keeps the [start, end) offsets of an answer's top-level elements and, to find the common prefix
 * and suffix with the next answer, either the answer itself (up to KEEP_TEXT chars: native string comparisons
 * of large blocks, 0.4 ms per change at 1,000 services × 3) or, above that, a SHA-1 of every BLOCK-char block
 * (the 12 MB answer of 10,000 services × 3 is not kept: its blocks are compared with the new answer's, found to
 * block precision; 26–36 ms per change there on the loaded bench VM, against 4.5 ms comparing texts).
 * `diffArray(prev, text)` returns the range of old elements replaced and the new element texts plus the new
 * `ArrayText`, or null when the changed region cannot be bounded cleanly (the caller parses the whole answer
 * then). Sound for any valid JSON (up to a SHA-1 collision for large answers): the scan of the new text starts at
 * an element boundary inside the common prefix and must land exactly on the old boundary that starts the common
 * suffix; at a top-level boundary the scanner's state is always the same (depth 1, outside a string), so the
 * identical rest parses identically.
 */
import { hash } from 'node:crypto'

export interface ArrayText {
  /** The text's length. */
  readonly length: number
  /** Offset just after `[` (the position before the first element). */
  readonly open: number
  readonly starts: Int32Array
  readonly ends: Int32Array
  /** The text itself when at most KEEP_TEXT chars long, else null. */
  readonly text: string | null
  /** Else fingerprints of its blocks: block i is [i × BLOCK, min((i + 1) × BLOCK, length)). */
  readonly blocks: readonly string[] | null
}

/** Answers up to this many chars (≈ 3,000 services × 3) are kept whole; longer ones as block fingerprints. */
export const KEEP_TEXT = 4 * 1024 * 1024

/**
 * Element offsets of a whole JSON array text, with the text or its block fingerprints (texts longer than
 * `keepText` chars), or null when `text` is not an array.
 */
export function scanArray(text: string, keepText = KEEP_TEXT): ArrayText | null {
  let i = skipWs(text, 0)
  if (text.charCodeAt(i) !== 0x5b /* [ */) return null
  const open = i + 1
  const starts: number[] = []
  const ends: number[] = []
  const end = scanElements(text, open, -1, starts, ends)
  if (end < 0) return null
  i = skipWs(text, end + 1)
  if (i !== text.length) return null
  return {
    length: text.length,
    open,
    starts: Int32Array.from(starts),
    ends: Int32Array.from(ends),
    text: text.length <= keepText ? text : null,
    blocks: text.length <= keepText ? null : fingerprints(text),
  }
}

export interface ArrayDiff {
  /** The old elements `from`..`to - 1` (indexes into `prev.starts`) are replaced by `added`. */
  readonly from: number
  readonly to: number
  readonly added: readonly string[]
  readonly next: ArrayText
}

/** Chars per fingerprinted block: 8 KiB ≈ 40 checks, so a change costs parsing ≈ 80 unchanged neighbours. */
export const BLOCK = 8192

/**
 * The elements replaced between `prev` and `text` (see the module comment); null = parse it all.
 * `maxElements` bounds the elements parsed on either side (beyond it a whole parse is cheaper); `keepText` is
 * scanArray's.
 */
export function diffArray(
  prev: ArrayText,
  text: string,
  maxElements: number,
  keepText = KEEP_TEXT,
): ArrayDiff | null {
  const keep = text.length <= keepText
  let blocks: string[] | null = keep ? null : fingerprints(text)
  const delta = text.length - prev.length
  const open = prev.open
  let p: number // the texts agree before p
  let tail: number // and from tail (an old offset) on
  if (prev.text !== null) {
    const old = prev.text
    if (old === text) return { from: 0, to: 0, added: [], next: prev }
    const min = Math.min(old.length, text.length)
    p = commonPrefix(old, text, min)
    tail = old.length - commonSuffix(old, text, min - p)
  } else {
    const old = prev.blocks as readonly string[]
    blocks ??= fingerprints(text)
    if (delta === 0 && sameList(blocks, old)) return { from: 0, to: 0, added: [], next: prev }
    let k = 0
    while (k < blocks.length && k < old.length && blocks[k] === old[k]) k++
    // Both arrays opening at the same offset is as good as a common prefix up to there (the first element, or
    // the end, starts at a top-level boundary either way).
    p = k * BLOCK >= open ? k * BLOCK : openOf(text) === open ? open : 0
    tail = commonTail(prev, text, blocks, p, delta)
  }
  const { starts, ends } = prev
  const n = starts.length
  // First old element that ends after the prefix: the region starts at the boundary before it.
  const a = lowerBound(ends, p + 1)
  const from = a === 0 ? open : (ends[a - 1] as number)
  if (from < open || from > p) return null
  // First old boundary (an element end, or `from` itself) at or after the start of the common suffix; -1 when
  // there is none (the common suffix, if any, lies after the last element): the region then runs to the `]`.
  let b = a // old elements a..b-1 are replaced
  let stop = from
  if (stop < tail) {
    b = lowerBound(ends, tail)
    stop = b < n ? (ends[b] as number) : -1
    b = b < n ? b + 1 : n
  }
  if (b - a > maxElements) return null
  const target = stop < 0 ? -1 : stop + delta
  const newStarts: number[] = []
  const newEnds: number[] = []
  if (from !== target) {
    const end = scanElements(text, from, target, newStarts, newEnds, maxElements)
    if (target >= 0 ? end !== target : end < 0 || skipWs(text, end + 1) !== text.length) return null
  }
  const added: string[] = []
  for (let i = 0; i < newStarts.length; i++) added.push(text.slice(newStarts[i], newEnds[i]))
  const st = new Int32Array(n - (b - a) + newStarts.length)
  const en = new Int32Array(st.length)
  st.set(starts.subarray(0, a))
  en.set(ends.subarray(0, a))
  st.set(newStarts, a)
  en.set(newEnds, a)
  let j = a + newStarts.length
  for (let i = b; i < n; i++, j++) {
    st[j] = (starts[i] as number) + delta
    en[j] = (ends[i] as number) + delta
  }
  const next = { length: text.length, open, starts: st, ends: en, text: keep ? text : null, blocks }
  return { from: a, to: b, added, next }
}

/**
 * Where the common suffix starts in the old text, to block precision: old blocks from the end whose text
 * equals the new text's at the same distance from the end (shifted by `delta`), never reaching into the
 * common prefix `p` on either side. `prev.length` when even the last block differs.
 */
function commonTail(
  prev: ArrayText,
  text: string,
  blocks: readonly string[],
  p: number,
  delta: number,
): number {
  const old = prev.blocks as readonly string[]
  let tail = prev.length
  for (let j = old.length - 1; j >= 0; j--) {
    const start = j * BLOCK
    if (start < p || start + delta < p) break
    const end = Math.min(start + BLOCK, prev.length)
    // Same grid when the length did not change: the new text's own fingerprint is that block.
    const f = delta === 0 ? blocks[j] : fingerprint(text, start + delta, end + delta)
    if (f !== old[j]) break
    tail = start
  }
  return tail
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

/** Offset just after the array's opening `[`, or -1. */
function openOf(text: string): number {
  const i = skipWs(text, 0)
  return text.charCodeAt(i) === 0x5b /* [ */ ? i + 1 : -1
}

/** Fingerprints of `text`'s BLOCK-char blocks. */
function fingerprints(text: string): string[] {
  const out = new Array<string>(Math.ceil(text.length / BLOCK))
  for (let i = 0; i < out.length; i++)
    out[i] = fingerprint(text, i * BLOCK, Math.min((i + 1) * BLOCK, text.length))
  return out
}

let unmatched = 0

/**
 * SHA-1 of text[a, b) (a 20-char one-byte string). A block that starts or ends inside a surrogate pair would hash
 * its half as U+FFFD, the same for any half, so such a block gets a value that matches nothing (a two-byte char
 * no digest contains): the prefix or suffix stops there, which is always safe.
 */
function fingerprint(text: string, a: number, b: number): string {
  const first = text.charCodeAt(a)
  const last = text.charCodeAt(b - 1)
  if ((first >= 0xdc00 && first <= 0xdfff) || (last >= 0xd800 && last <= 0xdbff))
    return `\u0100${++unmatched}`
  return hash('sha1', text.slice(a, b), 'binary')
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** First index whose value is ≥ x in the ascending list `xs` (xs.length when none). */
function lowerBound(xs: Int32Array, x: number): number {
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
