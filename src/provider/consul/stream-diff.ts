/**
 * ArrayStream: the elements of a JSON array answer that changed since the last answer, found while the answer
 * streams in, so that the answer is never held whole (docs/consul.md, "Large answers").
 *
 * Why: `/v1/health/state/any` ships every check of the datacenter on every change, 12 MB at 10,000 services × 3.
 * Diffed after it was read whole (jsondiff.ts), it needed a 12–14 MB buffer for every change of a burst and a
 * minute after it, and for the initial sync's answer while the catalog was read: a tenth of the daemon's RSS.
 * Here the answer goes through a window of a few segments; what is remembered of the last answer is its element
 * offsets and, per segment, a SHA-1 and the segment's first ANCHOR bytes (about 100 KB in all).
 *
 * How (`StreamText` is what is remembered of an answer):
 * - The last answer is cut into segments of at least SEGMENT bytes, each (but the first) starting at a top-level
 *   element that is not the array's first.
 * - While the new answer matches, each old segment is found at its old offset plus `d` (the change in length of
 *   the regions before it, 0 at first): its bytes are hashed as soon as they are in and compared.
 * - At the first segment that differs, a region starts at that segment's first element. The region's elements are
 *   scanned and parsed (`parse`) one by one as they come, and the region is cut into new segments. At each element
 *   start the next ANCHOR bytes are looked up among the anchors of the old segments after the one that differed;
 *   an old segment whose bytes all match there ends the region: old elements from the region's start up to that
 *   segment's first element are replaced by the region's, `d` becomes the new shift, and matching resumes.
 * - An answer may thus have several regions (`hunks`); a region that never finds its way back runs to the end of
 *   the array. Without a last answer (or when told so) the whole answer is one region: every element is parsed.
 * Sound for any JSON text up to a SHA-1 collision: a region starts in state "an element follows" at an offset where
 * the bytes before are those of the old answer; it ends where the scan of the new bytes is at an element start and
 * the old segment starting at an element start follows byte for byte, so the scanner's state is the same on both
 * sides there, and every byte between two regions was compared.
 */
import { firstAtLeast } from '../sorted.js'
import { fingerprint, scanValue, skipWs } from './jsondiff.js'

/** Bytes per segment (at least, but for the last; cut at an element start): 8 KiB ≈ 20 checks. */
export const SEGMENT = 8192

/** Bytes at a segment's start looked up to find it again (a check's `{"Node":"…","CheckID":"…` begins it). */
export const ANCHOR = 48

/** What is remembered of an answer. */
export interface StreamText {
  /** The answer's length in bytes. */
  readonly length: number
  /** Offsets of its top-level elements. */
  readonly starts: Int32Array
  /** Segment i is [at[i], at[i + 1]) (the last one to `length`); at[0] is 0. */
  readonly at: Int32Array
  /** SHA-1 of each segment (20-char one-byte strings). */
  readonly fp: readonly string[]
  /** Each segment's first ANCHOR bytes (latin1), '' for one shorter than that. */
  readonly anchor: readonly string[]
  /** Too fragmented, or not fully known: the next answer is parsed whole. */
  readonly stale: boolean
}

/** Old elements `from`..`to - 1` are replaced by `added`. */
export interface StreamHunk<T> {
  readonly from: number
  readonly to: number
  readonly added: readonly T[]
}

export interface StreamResult<T> {
  /** What the hunks replace elements of; null: the one hunk's `added` is every element of the answer. */
  readonly prev: StreamText | null
  readonly hunks: readonly StreamHunk<T>[]
  readonly next: StreamText
}

/** Where the stream is: comparing old segments, or scanning a region. */
const MATCH = 0
const SCAN = 1
const FAILED = 2
const DONE = 3

/** The region scanner's state: before `[`, after `[`, after `,`, after an element, after `]`. */
const OPEN = 0
const FIRST = 1
const VALUE = 2
const AFTER = 3
const END = 4

interface Region<T> {
  /** Old element index the region starts at. */
  readonly from: number
  /** Its elements' offsets in the new answer, and what `parse` made of them. */
  readonly starts: number[]
  readonly added: T[]
  /** Old element index after it. */
  to: number
  /** `d` after it. */
  after: number
}

export class ArrayStream<T> {
  readonly #parse: (text: string) => T
  readonly #segment: number
  #prev: StreamText | null = null
  #anchors: Map<string, number[]> | null = null
  #anchorsOf: StreamText | null = null
  #mode = MATCH
  #error: Error | null = null
  /** The window: bytes [#base, #base + #length) of the answer. */
  #buf: Buffer = Buffer.allocUnsafeSlow(0)
  /** The window's bytes: `#buf` up to `#length`. */
  #win: Buffer = this.#buf
  #base = 0
  #length = 0
  /** MATCH: the next old segment, and the shift of the old offsets. */
  #k = 0
  #d = 0
  /** SCAN: the scanner's state and offset, the region, the old segment that differed. */
  #state = OPEN
  #at = 0
  #region: Region<T> | null = null
  #differed = 0
  /** SCAN: an element start whose anchor was looked up: candidates from #tried on are left. */
  #lookedAt = -1
  #tried = 0
  /** SCAN: retry an incomplete element once this many bytes are in (doubling: a long element is not rescanned per read). */
  #retryAt = 0
  /** SCAN: the segment being cut starts here. */
  #cut = 0
  #hunks: Region<T>[] = []
  #nextAt: number[] = []
  #nextFp: string[] = []
  #nextAnchor: string[] = []
  #stale = false
  /** The arrays the answers' element offsets are written into, alternately (`#startsFor`). */
  readonly #startsPool: Int32Array[] = []

  /**
   * `parse`: an element's text → what `added` holds (may throw: the answer then fails). `segment`: the
   * segments' least length (SEGMENT; the tests cut small answers into many).
   */
  constructor(parse: (text: string) => T, segment = SEGMENT) {
    this.#parse = parse
    this.#segment = segment
  }

  /** A new answer starts, to be diffed against `prev` (null: parse every element); true when it is parsed whole. */
  begin(prev: StreamText | null): boolean {
    this.#prev = prev !== null && !prev.stale ? prev : null
    this.#mode = MATCH
    this.#error = null
    this.#base = 0
    this.#length = 0
    this.#win = this.#buf.subarray(0, 0)
    this.#k = 0
    this.#d = 0
    this.#region = null
    this.#hunks = []
    this.#nextAt = []
    this.#nextFp = []
    this.#nextAnchor = []
    this.#stale = false
    if (this.#prev !== null) return false
    this.#open(0)
    return true
  }

  /** Bytes `from`..`to` of `chunk` come next. */
  write(chunk: Uint8Array, from: number, to: number): void {
    if (this.#mode === FAILED || to <= from) return
    this.#append(chunk, from, to)
    this.#run(false)
  }

  /** The answer is complete: what changed, or the error that makes it unusable (not a JSON array). */
  end(): StreamResult<T> | Error {
    if (this.#mode !== FAILED) this.#run(true)
    const prev = this.#prev
    this.#prev = null
    this.#anchors = null
    this.#anchorsOf = null
    if (this.#buf.length > 4 * this.#segment + 65536) this.#buf = Buffer.allocUnsafeSlow(0)
    this.#win = this.#buf.subarray(0, 0)
    if (this.#mode === FAILED) return this.#error ?? new Error('not a JSON array')
    const length = this.#base + this.#length
    const next = this.#next(prev, length)
    return { prev, hunks: this.#hunks, next }
  }

  #fail(message: string): void {
    this.#mode = FAILED
    this.#error ??= new Error(message)
    this.#region = null
  }

  /** Appends to the window, first dropping what is no longer needed. */
  #append(chunk: Uint8Array, from: number, to: number): void {
    const keep = this.#mode === MATCH ? this.#segmentStart() : Math.min(this.#cut, this.#at)
    const drop = Math.max(0, Math.min(keep - this.#base, this.#length))
    if (drop > 0 && this.#length + (to - from) > this.#buf.length) {
      this.#buf.copyWithin(0, drop, this.#length)
      this.#base += drop
      this.#length -= drop
    }
    if (this.#length + (to - from) > this.#buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.#length + (to - from), 2 * this.#buf.length, 65536))
      this.#buf.copy(grown, 0, 0, this.#length)
      this.#buf = grown
    }
    this.#buf.set(chunk.subarray(from, to), this.#length)
    this.#length += to - from
    this.#win = this.#buf.subarray(0, this.#length)
  }

  /** The window's bytes [a, b) (answer offsets). */
  #view(a: number, b: number): Buffer {
    return this.#buf.subarray(a - this.#base, b - this.#base)
  }

  /** jsondiff.ts `fingerprint` of the window's bytes [a, b) (answer offsets). */
  #fingerprint(a: number, b: number): string {
    return fingerprint(this.#buf, a - this.#base, b - this.#base)
  }

  /** MATCH: where old segment #k starts in the new answer. */
  #segmentStart(): number {
    const prev = this.#prev
    if (prev === null || this.#k >= prev.at.length) return this.#base + this.#length
    return (prev.at[this.#k] as number) + this.#d
  }

  #run(final: boolean): void {
    for (;;) {
      if (this.#mode === MATCH) {
        if (!this.#match(final)) return
      } else if (this.#mode === SCAN) {
        if (!this.#scan(final)) return
      } else return // FAILED, DONE
    }
  }

  /** Compares old segments; false when it needs more bytes (or is done). */
  #match(final: boolean): boolean {
    const prev = this.#prev as StreamText
    const n = prev.at.length
    const end = this.#base + this.#length
    for (;;) {
      const k = this.#k
      if (k === n) {
        // Every old segment is in: what may follow is whitespace only (then the next answer is parsed whole).
        const expected = prev.length + this.#d
        if (end > expected) {
          if (skipWs(this.#view(expected, end), 0) !== end - expected) this.#fail('bytes after the array')
          else this.#stale = true
        }
        return false
      }
      const a = (prev.at[k] as number) + this.#d
      const b = (k + 1 < n ? (prev.at[k + 1] as number) : prev.length) + this.#d
      if (end < b) {
        if (!final) return false
      } else if (this.#fingerprint(a, b) === prev.fp[k]) {
        this.#keep(a, prev.fp[k] as string, prev.anchor[k] as string)
        this.#k = k + 1
        continue
      }
      // Segment k differs: a region starts at its first element (segment 0: at the very start).
      this.#differed = k
      if (k === 0) this.#open(0)
      else {
        const from = firstAtLeast(prev.starts, prev.at[k] as number)
        this.#region = { from, starts: [], added: [], to: -1, after: 0 }
        this.#startScan(a, VALUE)
      }
      return true
    }
  }

  /** A region from the answer's first byte: old elements from 0 on. */
  #open(at: number): void {
    this.#region = { from: 0, starts: [], added: [], to: -1, after: 0 }
    this.#startScan(at, OPEN)
  }

  #startScan(at: number, state: number): void {
    this.#mode = SCAN
    this.#state = state
    this.#at = at
    this.#cut = at
    this.#lookedAt = -1
    this.#retryAt = 0
  }

  /** Scans the region; false when it needs more bytes (or failed, or is done), true when it found its way back. */
  #scan(final: boolean): boolean {
    const end = this.#base + this.#length
    const region = this.#region as Region<T>
    for (;;) {
      const i = this.#base + skipWs(this.#win, this.#at - this.#base)
      if (i >= end) {
        if (!final) return false
        if (this.#state !== END) {
          this.#fail('answer ends inside the array')
          return false
        }
        this.#closeSegment(end)
        region.to = this.#prev === null ? 0 : this.#prev.starts.length
        this.#hunks.push(region)
        this.#region = null
        this.#mode = DONE
        return false
      }
      const c = this.#buf[i - this.#base] as number
      switch (this.#state) {
        case OPEN:
          if (c !== 0x5b /* [ */) return this.#stop('not a JSON array')
          this.#at = i + 1
          this.#state = FIRST
          continue
        case AFTER:
          if (c === 0x2c /* , */) this.#state = VALUE
          else if (c === 0x5d /* ] */) this.#state = END
          else return this.#stop('not a JSON array')
          this.#at = i + 1
          continue
        case END:
          return this.#stop('bytes after the array')
        case FIRST:
          if (c === 0x5d) {
            this.#at = i + 1
            this.#state = END
            continue
          }
          break
      }
      // An element starts at i. The old answer may go on from here; else the segment being cut may end here.
      if (this.#state === VALUE) {
        const back = this.#findBack(i, end, final)
        if (back === 0) return false
        if (back === 1) return true
        if (i - this.#cut >= this.#segment) this.#closeSegment(i)
      }
      if (!final && end < this.#retryAt) return false
      const e = this.#base + scanValue(this.#win, i - this.#base)
      if (e < i || (e === end && !final)) {
        if (final) return this.#stop('not a JSON array')
        // Incomplete: wait until the element has twice the bytes it has now.
        this.#retryAt = end + (end - i)
        this.#at = i
        return false
      }
      this.#retryAt = 0
      try {
        region.added.push(this.#parse(this.#buf.toString('utf8', i - this.#base, e - this.#base)))
      } catch (err) {
        return this.#stop(`element ${region.from + region.added.length}: ${(err as Error).message}`)
      }
      region.starts.push(i)
      this.#at = e
      this.#state = AFTER
    }
  }

  #stop(message: string): false {
    this.#fail(message)
    return false
  }

  /**
   * At element start `i` of a region: 1 if an old segment after the one that differed follows from here (the
   * region is closed, matching resumes), 0 if that cannot be known before more bytes are in, 2 if none does.
   */
  #findBack(i: number, end: number, final: boolean): 0 | 1 | 2 {
    const prev = this.#prev
    if (prev === null) return 2
    if (this.#lookedAt !== i) {
      this.#lookedAt = i
      this.#tried = 0
    }
    if (end < i + ANCHOR) return final ? 2 : 0
    const found = this.#anchorMap(prev).get(
      this.#buf.toString('latin1', i - this.#base, i + ANCHOR - this.#base),
    )
    if (found === undefined) return 2
    const n = prev.at.length
    for (; this.#tried < found.length; this.#tried++) {
      const m = found[this.#tried] as number
      if (m <= this.#differed) continue
      const len = (m + 1 < n ? (prev.at[m + 1] as number) : prev.length) - (prev.at[m] as number)
      if (end < i + len) {
        if (!final) return 0
        continue
      }
      if (this.#fingerprint(i, i + len) !== prev.fp[m]) continue
      // Found: the region ends before i.
      const region = this.#region as Region<T>
      region.to = firstAtLeast(prev.starts, prev.at[m] as number)
      region.after = i - (prev.at[m] as number)
      this.#hunks.push(region)
      this.#region = null
      this.#mode = MATCH
      this.#d = region.after
      this.#k = m + 1
      // Segment m is the next answer's too; a short piece cut before it is joined to it, so that segments do not
      // fragment change after change.
      const cut = this.#cut
      if (i > cut && i - cut < this.#segment / 2) {
        this.#cut = i + len
        this.#keep(cut, this.#fingerprint(cut, i + len), this.#anchorAt(cut, i + len))
      } else {
        this.#closeSegment(i)
        this.#keep(i, prev.fp[m] as string, prev.anchor[m] as string)
      }
      return 1
    }
    return 2
  }

  /** The segment being cut ends at `at` (when it has any bytes); the next starts there. */
  #closeSegment(at: number): void {
    const cut = this.#cut
    if (at > cut) this.#keep(cut, this.#fingerprint(cut, at), this.#anchorAt(cut, at))
    this.#cut = at
  }

  /** The anchor of a segment [a, b) in the window. */
  #anchorAt(a: number, b: number): string {
    return b - a >= ANCHOR ? this.#buf.toString('latin1', a - this.#base, a + ANCHOR - this.#base) : ''
  }

  /** A segment of the next answer. */
  #keep(at: number, fp: string, anchor: string): void {
    this.#nextAt.push(at)
    this.#nextFp.push(fp)
    this.#nextAnchor.push(anchor)
  }

  /** Old segment indexes by anchor (made once per old answer). */
  #anchorMap(prev: StreamText): Map<string, number[]> {
    if (this.#anchorsOf === prev && this.#anchors !== null) return this.#anchors
    const map = new Map<string, number[]>()
    for (let m = 1; m < prev.anchor.length; m++) {
      const a = prev.anchor[m] as string
      if (a === '') continue
      const l = map.get(a)
      if (l === undefined) map.set(a, [m])
      else l.push(m)
    }
    this.#anchors = map
    this.#anchorsOf = prev
    return map
  }

  /**
   * An array for the next answer's element offsets: one of two this stream keeps, the one `prev` does not use
   * (the provider holds only the last answer's), grown when short. A new array per answer (120 KB at 10,000
   * services × 3) waited in the C heap for V8's next full GC.
   */
  #startsFor(count: number, prev: StreamText | null): Int32Array {
    const pool = this.#startsPool
    const slot = prev !== null && pool[0] !== undefined && prev.starts.buffer === pool[0].buffer ? 1 : 0
    let a = pool[slot]
    if (a === undefined || a.length < count) {
      a = new Int32Array(count + (count >>> 4))
      pool[slot] = a
    }
    return a.subarray(0, count)
  }

  /** What is remembered of this answer. */
  #next(prev: StreamText | null, length: number): StreamText {
    const hunks = this.#hunks
    let count = prev === null ? 0 : prev.starts.length
    for (const h of hunks) count += h.starts.length - (h.to - h.from)
    const starts = this.#startsFor(count, prev)
    let j = 0
    let i = 0
    let d = 0
    for (const h of hunks) {
      if (prev !== null) for (; i < h.from; i++) starts[j++] = (prev.starts[i] as number) + d
      for (const s of h.starts) starts[j++] = s
      i = h.to
      d = h.after
    }
    if (prev !== null) for (; i < prev.starts.length; i++) starts[j++] = (prev.starts[i] as number) + d
    const at = Int32Array.from(this.#nextAt)
    const fragmented = at.length > 2 * Math.ceil(length / this.#segment) + 16
    return {
      length,
      starts,
      at,
      fp: this.#nextFp,
      anchor: this.#nextAnchor,
      stale: this.#stale || fragmented,
    }
  }
}
