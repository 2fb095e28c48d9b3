/**
 * The elements of a JSON array that changed between two answers, without parsing the whole answer (pure). The
 * answers are UTF-8 bytes, never decoded whole: JSON's structure is ASCII, which no byte of a multi-byte UTF-8
 * character equals, so offsets are byte offsets and only the changed elements are decoded. (Decoding the 12 MB
 * answer of 10,000 services × 3 to a string cost 20–45 ms per change, and a string decoded chunk by chunk is a
 * rope that made every later slice of it slow.)
 *
 * Why: in `state` mode every change anywhere in the datacenter returns `/v1/health/state/any` whole — 6,000
 * checks (≈ 1–2.5 MB) at 1,000 services × 3 — and `JSON.parse` of it took 17–90 ms per change on the bench
 * machine, most of the propagation time. Consecutive answers differ in a few checks, so the texts share a long
 * prefix and suffix, and only the elements in between need parsing (a few, usually).
 *
 * `ArrayText` keeps the [start, end) offsets of an answer's top-level elements and, to find the common prefix
 * and suffix with the next answer, either a copy of the answer (up to KEEP_TEXT bytes: native comparisons of
 * large blocks, 0.4 ms per change at 1,000 services × 3) or, above that, a SHA-1 of each of its segments
 * (the 12 MB answer of 10,000 services × 3 is not kept). Segments are BLOCK chars when first cut; the new
 * answer is hashed at the old segments' offsets from the front until one differs, and from the back (shifted by
 * the change in length) until one differs; only the region in between is cut into new segments. So the common
 * prefix and suffix are found to segment precision hashing the new answer about once: hashing it on a fixed grid
 * from the front, then again at shifted offsets for the suffix, cost 26–36 ms per change on the loaded bench VM.
 * `diffArray(prev, text)` returns the range of old elements replaced and the new element texts plus the new
 * `ArrayText` (whose copy of the answer reuses the memory of the one `prev` replaced: that one is dead), or null when
 * the changed region cannot be bounded cleanly (the caller parses the whole answer then). Sound for any valid JSON
 * (up to a SHA-1 collision for large answers): the scan of the new answer starts at an element boundary inside the
 * common prefix and must land exactly on the old boundary that starts the common suffix; at a top-level boundary the
 * scanner's state is always the same (depth 1, outside a string), so the identical rest parses identically.
 *
 * An object answer (`/v1/catalog/services`: 0.8 MB at 10,000 services, a change to one service per change) is
 * diffed the same way with its members as the elements (`scanMembers`). That is what lb diffs here now: the `state`
 * answer is diffed while it streams in, never held whole (stream-diff.ts, which uses this module's scanner).
 */
import { hash } from 'node:crypto'
import { firstAtLeast } from '../sorted.js'

export interface ArrayText {
  /** The answer's length in bytes. */
  readonly length: number
  /** An object (`scanMembers`: its elements are its `"key": value` members) rather than an array. */
  readonly object: boolean
  /** Offset just after `[` or `{` (the position before the first element). */
  readonly open: number
  readonly starts: Int32Array
  readonly ends: Int32Array
  /** A copy of the answer when at most KEEP_TEXT bytes long, else null. */
  readonly text: Buffer | null
  /**
   * The memory of the text of the answer before (the `ArrayText` this one replaced), for the next answer's copy:
   * a copy into new memory cost 2.5–4 ms per answer for the 1.2 MB `state` answer at 1,000 services.
   */
  readonly spare: Buffer | null
  /** Else fingerprints of its segments. */
  readonly segments: Segments | null
}

/** Segment i is [at[i], at[i + 1]) (the last one to the text's end); `at[0]` is 0. */
export interface Segments {
  readonly at: readonly number[]
  readonly fp: readonly string[]
}

/** Answers up to this many bytes (≈ 3,000 services × 3) are kept whole; longer ones as segment fingerprints. */
export const KEEP_TEXT = 4 * 1024 * 1024

/**
 * Element offsets of a whole JSON array text, with the text or its block fingerprints (texts longer than
 * `keepText` chars), or null when `text` is not an array.
 */
export function scanArray(text: Buffer, keepText = KEEP_TEXT): ArrayText | null {
  return scanTop(text, keepText, false)
}

/**
 * `scanArray` for a JSON object: its elements are its members, each `"key": value` as it stands in the text
 * (`memberEntry` parses one). `diffArray` then diffs two object answers member by member (the catalog).
 */
export function scanMembers(text: Buffer, keepText = KEEP_TEXT): ArrayText | null {
  return scanTop(text, keepText, true)
}

function scanTop(text: Buffer, keepText: number, object: boolean): ArrayText | null {
  let i = skipWs(text, 0)
  if (text[i] !== (object ? 0x7b /* { */ : 0x5b) /* [ */) return null
  const open = i + 1
  const starts: number[] = []
  const ends: number[] = []
  const end = scanElements(text, open, -1, starts, ends, object)
  if (end < 0) return null
  i = skipWs(text, end + 1)
  if (i !== text.length) return null
  return {
    length: text.length,
    object,
    open,
    starts: Int32Array.from(starts),
    ends: Int32Array.from(ends),
    text: text.length <= keepText ? copyText(text, null) : null,
    spare: null,
    segments: text.length <= keepText ? null : cut(text, 0, text.length, [], []),
  }
}

export interface ArrayDiff {
  /** The old elements `from`..`to - 1` (indexes into `prev.starts`) are replaced by `added`. */
  readonly from: number
  readonly to: number
  readonly added: readonly string[]
  readonly next: ArrayText
}

/** Bytes per segment when cut: 8 KiB ≈ 40 checks, so a change costs parsing ≈ 80 unchanged neighbours. */
export const BLOCK = 8192

/**
 * The elements replaced between `prev` and `text` (see the module comment); null = parse it all.
 * `maxElements` bounds the elements parsed on either side (beyond it a whole parse is cheaper); `keepText` is
 * scanArray's.
 */
export function diffArray(
  prev: ArrayText,
  text: Buffer,
  maxElements: number,
  keepText = KEEP_TEXT,
): ArrayDiff | null {
  const keep = text.length <= keepText
  const delta = text.length - prev.length
  const open = prev.open
  let p: number // the texts agree before p
  let tail: number // and from tail (an old offset) on
  let segments: Segments | null = null
  if (prev.text !== null) {
    const old = prev.text
    if (old.equals(text)) return { from: 0, to: 0, added: [], next: prev }
    const min = Math.min(old.length, text.length)
    p = commonPrefix(old, text, min)
    tail = old.length - commonSuffix(old, text, min - p)
  } else {
    const { at, fp } = prev.segments as Segments
    const n = at.length
    const end = (i: number): number => (i + 1 < n ? (at[i + 1] as number) : prev.length)
    // Old segments found at the same offset in the new text, from the front.
    let k = 0
    while (k < n && end(k) <= text.length && fingerprint(text, at[k] as number, end(k)) === fp[k]) k++
    if (k === n && delta === 0) return { from: 0, to: 0, added: [], next: prev }
    const q = k < n ? (at[k] as number) : prev.length
    // Both opening at the same offset is as good as a common prefix up to there (the first element, or the
    // end, starts at a top-level boundary either way).
    p = q >= open ? q : openOf(text, prev.object) === open ? open : 0
    // Then from the back, shifted by `delta`, never reaching into the common prefix on either side.
    let m = n
    while (m > k) {
      const a = at[m - 1] as number
      if (a < q || a + delta < q) break
      if (fingerprint(text, a + delta, end(m - 1) + delta) !== fp[m - 1]) break
      m--
    }
    tail = m < n ? (at[m] as number) : prev.length
    if (!keep) {
      // The next answer's segments: the common ones kept, the region between them cut afresh.
      const nextAt = at.slice(0, k)
      const nextFp = fp.slice(0, k)
      cut(text, q, m < n ? tail + delta : text.length, nextAt, nextFp)
      for (let i = m; i < n; i++) {
        nextAt.push((at[i] as number) + delta)
        nextFp.push(fp[i] as string)
      }
      segments =
        nextAt.length > 2 * Math.ceil(text.length / BLOCK) + 16
          ? cut(text, 0, text.length, [], []) // fragmented by many changes: cut it all again
          : { at: nextAt, fp: nextFp }
    }
  }
  if (!keep && segments === null) segments = cut(text, 0, text.length, [], [])
  const { starts, ends } = prev
  const n = starts.length
  // First old element that ends after the prefix: the region starts at the boundary before it.
  const a = firstAtLeast(ends, p + 1)
  const from = a === 0 ? open : (ends[a - 1] as number)
  if (from < open || from > p) return null
  // First old boundary (an element end, or `from` itself) at or after the start of the common suffix; -1 when
  // there is none (the common suffix, if any, lies after the last element): the region then runs to the `]`.
  let b = a // old elements a..b-1 are replaced
  let stop = from
  if (stop < tail) {
    b = firstAtLeast(ends, tail)
    stop = b < n ? (ends[b] as number) : -1
    b = b < n ? b + 1 : n
  }
  if (b - a > maxElements) return null
  const target = stop < 0 ? -1 : stop + delta
  const newStarts: number[] = []
  const newEnds: number[] = []
  if (from !== target) {
    const end = scanElements(text, from, target, newStarts, newEnds, prev.object, maxElements)
    if (target >= 0 ? end !== target : end < 0 || skipWs(text, end + 1) !== text.length) return null
  }
  const added: string[] = []
  for (let i = 0; i < newStarts.length; i++) added.push(text.toString('utf8', newStarts[i], newEnds[i]))
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
  const next = {
    length: text.length,
    object: prev.object,
    open,
    starts: st,
    ends: en,
    text: keep ? copyText(text, prev.spare) : null,
    spare: prev.text === null ? null : Buffer.from(prev.text.buffer),
    segments,
  }
  return { from: a, to: b, added, next }
}

/**
 * A copy of `text` in `spare` when it fits, else in new memory with an eighth to spare (an answer that grows a
 * little still fits next time). The copy owns its ArrayBuffer from offset 0, which the next `spare` takes whole.
 */
function copyText(text: Buffer, spare: Buffer | null): Buffer {
  const into =
    spare !== null && spare.length >= text.length
      ? spare
      : Buffer.from(new ArrayBuffer(text.length + (text.length >>> 3)))
  text.copy(into, 0, 0, text.length)
  return into.subarray(0, text.length)
}

/** Length of the common prefix of a and b (both at least `max` long), compared in native blocks. */
function commonPrefix(a: Buffer, b: Buffer, max: number): number {
  let i = 0
  while (i + BLOCK <= max && a.compare(b, i, i + BLOCK, i, i + BLOCK) === 0) i += BLOCK
  while (i < max && a[i] === b[i]) i++
  return i
}

/** Length of the common suffix of a and b, at most `max`. */
function commonSuffix(a: Buffer, b: Buffer, max: number): number {
  const la = a.length
  const lb = b.length
  let i = 0
  while (i + BLOCK <= max && a.compare(b, lb - i - BLOCK, lb - i, la - i - BLOCK, la - i) === 0) i += BLOCK
  while (i < max && a[la - i - 1] === b[lb - i - 1]) i++
  return i
}

/** Offset just after the opening `[` (`{` for an object), or -1. */
function openOf(text: Buffer, object: boolean): number {
  const i = skipWs(text, 0)
  return text[i] === (object ? 0x7b : 0x5b) ? i + 1 : -1
}

/** A member's text as scanned by `scanMembers` → [key, value]; throws when it is not one. */
export function memberEntry(text: string): [string, unknown] {
  const o = JSON.parse(`{${text}}`) as Record<string, unknown>
  for (const key in o) return [key, o[key]]
  throw new Error('not a member')
}

/** `text` [from, to) cut into BLOCK-char segments, appended to `at` and `fp`; returns them. */
function cut(text: Buffer, from: number, to: number, at: number[], fp: string[]): Segments {
  for (let a = from; a < to; a += BLOCK) {
    at.push(a)
    fp.push(fingerprint(text, a, Math.min(a + BLOCK, to)))
  }
  return { at, fp }
}

/** SHA-1 of text[a, b) (a 20-char one-byte string). */
export function fingerprint(text: Buffer, a: number, b: number): string {
  return hash('sha1', text.subarray(a, b), 'binary')
}

/** The first offset from `i` on that is not JSON whitespace (`t.length` or beyond when there is none). */
export function skipWs(t: Buffer, i: number): number {
  for (;;) {
    const c = t[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i
    i++
  }
}

/**
 * Scan top-level elements (an object's members) from `i` (a boundary at depth 1: just after `[` or after an
 * element), pushing their offsets, until the closing `]` or `}` (returns its offset), or until a boundary equal to
 * `stop` (returns `stop`), or beyond `max` elements. -1 on malformed text or overshooting `stop`.
 */
function scanElements(
  t: Buffer,
  i: number,
  stop: number,
  starts: number[],
  ends: number[],
  object: boolean,
  max = Infinity,
): number {
  const close = object ? 0x7d /* } */ : 0x5d /* ] */
  let first = starts.length === 0 && i > 0 && isOpen(t, i, object)
  for (;;) {
    if (i === stop) return stop
    if (stop >= 0 && i > stop) return -1
    i = skipWs(t, i)
    const c = t[i]
    if (c === close) return stop >= 0 ? -1 : i
    if (!first) {
      if (c !== 0x2c /* , */) return -1
      i = skipWs(t, i + 1)
    }
    first = false
    if (starts.length >= max) return -1
    const end = object ? scanMember(t, i) : scanValue(t, i)
    if (end < 0) return -1
    starts.push(i)
    ends.push(end)
    i = end
  }
}

/** Whether `i` is right after the opening `[` (`{`) (only whitespace between). */
function isOpen(t: Buffer, i: number, object: boolean): boolean {
  const open = object ? 0x7b : 0x5b
  let j = i - 1
  while (j >= 0 && t[j] !== open) {
    const c = t[j]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false
    j--
  }
  return j >= 0
}

/** End offset (exclusive) of the object member (`"key": value`) starting at `i`, or -1. */
function scanMember(t: Buffer, i: number): number {
  if (t[i] !== 0x22 /* " */) return -1
  let j = stringEnd(t, i)
  if (j < 0) return -1
  j = skipWs(t, j)
  if (t[j] !== 0x3a /* : */) return -1
  return scanValue(t, skipWs(t, j + 1))
}

/** End offset (exclusive) of the JSON value starting at `i`, or -1. Strings are skipped with indexOf. */
export function scanValue(t: Buffer, i: number): number {
  const start = i
  let depth = 0
  const n = t.length
  while (i < n) {
    const c = t[i] as number
    if (c === 0x22 /* " */) {
      i = stringEnd(t, i)
      if (i < 0) return -1
      if (depth === 0) return i
      continue
    }
    if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) {
      // At depth 0 the bracket closes the array or object around a scalar value: the value ended before it.
      if (depth === 0) return i > start ? i : -1
      depth--
      if (depth === 0) return i + 1
    } else if (depth === 0 && (c === 0x2c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09))
      return i > start ? i : -1
    i++
  }
  return depth === 0 && n > start ? n : -1
}

/** Offset after the closing quote of the string starting at `i`, or -1. */
function stringEnd(t: Buffer, i: number): number {
  let j = i + 1
  for (;;) {
    const q = t.indexOf(0x22 /* " */, j)
    if (q < 0) return -1
    let k = q - 1
    while (t[k] === 0x5c /* \ */) k--
    if ((q - 1 - k) % 2 === 0) return q + 1
    j = q + 1
  }
}
