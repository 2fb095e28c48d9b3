/**
 * lb's own writer of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): `# HELP` and `# TYPE` per
 * family, then one `name{labels} value` line per sample; label values escape backslash, double quote and newline,
 * HELP text backslash and newline. Pure: no I/O, no prom-client.
 *
 * Why not prom-client for lb's families: at 10,000 services × 3 servers a scrape is ≈ 250,000 lines, and prom-client
 * hashed a label object per series to store it (`set`/`inc`), then at `registry.metrics()` made a `{labels, value}`
 * object per series, escaped every label value with three regex replaces and looked a fresh `{}` up in a WeakMap
 * per series (`flattenSharedLabels`): in a CPU profile of a first scrape, 16.5 of 23 s were prom-client's
 * formatting and 5.8 s GC; lb's own reading of its stats was 1.8 s. Here a family's samples are appended as
 * strings the caller builds once per server or service (the escaped `service="…",server="…"` part is shared by
 * all of a server's lines), so a sample costs its line and nothing else.
 *
 * The same collection feeds two sinks (`Samples`): `TextFamily` writes text into reused Buffers (single process,
 * and the cluster primary's output); `DataFamily` keeps a family as one string of series and an array of values,
 * what a worker sends the primary, who combines the copies with `mergeFamilies` (sum, min or max per series, as
 * prom-client's AggregatorRegistry did) and writes the text.
 */

export const contentType = 'text/plain; version=0.0.4; charset=utf-8'

export type FamilyType = 'counter' | 'gauge' | 'histogram'
/** How the cluster primary combines the workers' copies of one series. */
export type Aggregator = 'sum' | 'min' | 'max'

export interface FamilyDef {
  readonly name: string
  readonly help: string
  readonly type: FamilyType
  readonly aggregator: Aggregator
}

/** Where one family's samples go while they are collected. */
export interface Samples {
  /**
   * One sample. `series` is what follows the family name on its line, label values escaped (`escapeLabel`): ''
   * (no labels), `{service="a"}`, or `_bucket{service="a",le="0.1"}` for a histogram's parts.
   */
  add(series: string, value: number): void
}

const labelSpecial = /[\\"\n]/

/** A label value as the exposition format wants it: `\` → `\\`, `"` → `\"`, newline → `\n`. */
export function escapeLabel(value: string): string {
  if (!labelSpecial.test(value)) return value
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

/**
 * The inverse of `escapeLabel` over a series: the label values of `{a="x",b="y"}` at `text[open..end)` into `out` (escapes undone: `\\`, `\"`, `\n`), in
 * order; `out` is cleared first.
 */
export function parseLabels(text: string, open: number, end: number, out: string[]): void {
  out.length = 0
  let i = open + 1
  while (i < end) {
    const q = text.indexOf('="', i)
    if (q < 0 || q >= end) return
    let j = q + 2
    let value = ''
    let from = j
    while (j < end) {
      const ch = text.charCodeAt(j)
      if (ch === 0x5c) {
        value += text.slice(from, j)
        const next = text[j + 1]
        value += next === 'n' ? '\n' : (next ?? '')
        j += 2
        from = j
      } else if (ch === 0x22) break
      else j++
    }
    out.push(value + text.slice(from, j))
    i = j + 2
  }
}

/** HELP text: `\` → `\\`, newline → `\n` (quotes stay). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** A sample value: Go's ParseFloat forms, `+Inf`, `-Inf`, `NaN`. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return v === v ? `${v}` : 'NaN'
}

/** The `# HELP` and `# TYPE` lines of a family. */
export function familyHead(def: FamilyDef): string {
  return `# HELP ${def.name} ${escapeHelp(def.help)}\n# TYPE ${def.name} ${def.type}\n`
}

/** Bytes per chunk of text. */
export const chunkBytes = 64 * 1024

/**
 * The 64 KiB Buffers text is written into, reused across scrapes: a body's chunks come back (`release`) once the
 * admin server has written the response, and the next scrape writes into them again. Measured at 10,000 services ×
 * 3 servers (20 MB of text, bench/scrape.ts, RSS above its level before the first scrape, the highest over six to
 * nine scrapes in a row): one string per body, +48 to +129 MB (its flat 64 KiB parts and the joined string waited
 * in old space for a full GC, every ≈ 3 scrapes); a new Buffer per 64 KiB, +45 to +70 MB (their external memory
 * waited, and malloc kept the freed pages); reused Buffers +0.6 to +8.8 MB. A body that is never released (a
 * test, an aborted response) is left to the GC; the pool keeps at most as many Buffers as the last body gave back.
 */
export class ChunkPool {
  readonly #free: Buffer[]
  /** Buffers handed out and not back yet: only these are taken back (never a foreign one, never one twice). */
  readonly #lent: WeakSet<ArrayBufferLike>

  constructor() {
    this.#free = []
    this.#lent = new WeakSet()
  }

  take(): Buffer {
    const b = this.#free.pop() ?? Buffer.allocUnsafeSlow(chunkBytes)
    this.#lent.add(b.buffer)
    return b
  }

  /** A body's chunks have been written: their Buffers (those from this pool) are reused by the next scrape. */
  release(chunks: readonly Uint8Array[]): void {
    let back = 0
    for (const c of chunks) {
      const ab = c.buffer
      if (!(ab instanceof ArrayBuffer) || !this.#lent.has(ab)) continue
      this.#lent.delete(ab)
      this.#free.push(Buffer.from(ab, 0, chunkBytes))
      back++
    }
    if (back > 0 && this.#free.length > back) this.#free.length = back
  }

  /** Free Buffers (tests). */
  get size(): number {
    return this.#free.length
  }
}

/** One family written straight to text, UTF-8, into Buffers of `pool`. */
export class TextFamily implements Samples {
  readonly def: FamilyDef
  readonly #name: string
  readonly #pool: ChunkPool
  /** Written text; the head is the first chunk. */
  readonly #chunks: Buffer[]
  /** The Buffer being written (null = none yet), and how much of it is. */
  #buf: Buffer | null
  #used: number

  constructor(def: FamilyDef, pool: ChunkPool) {
    this.def = def
    this.#name = def.name
    this.#pool = pool
    this.#chunks = [Buffer.from(familyHead(def))]
    this.#buf = null
    this.#used = 0
  }

  add(series: string, value: number): void {
    const line = this.#name + series + ' ' + formatValue(value) + '\n'
    // At most 3 UTF-8 bytes per UTF-16 unit: a line that may not fit starts the next Buffer.
    const most = line.length * 3
    if (this.#buf === null || chunkBytes - this.#used < most) {
      this.#close()
      if (most > chunkBytes) {
        this.#chunks.push(Buffer.from(line))
        return
      }
      this.#buf = this.#pool.take()
    }
    this.#used += this.#buf.write(line, this.#used)
  }

  #close(): void {
    if (this.#buf !== null) this.#chunks.push(this.#buf.subarray(0, this.#used))
    this.#buf = null
    this.#used = 0
  }

  /** The family's text, UTF-8 in chunks (head first; every line ends with a newline). */
  chunks(): readonly Buffer[] {
    this.#close()
    return this.#chunks
  }
}

const blankLine = Buffer.from('\n')

/**
 * Families as one exposition text in chunks, laid out as prom-client's `registry.metrics()` did: a blank line
 * between two families. `before`: text that comes first (prom-client's own, which ends with a newline), '' for
 * none.
 */
export function joinFamilies(before: string, families: readonly TextFamily[]): Buffer[] {
  const parts: Buffer[] = []
  if (before !== '') parts.push(Buffer.from(before))
  for (const f of families) {
    if (parts.length > 0) parts.push(blankLine)
    for (const c of f.chunks()) parts.push(c)
  }
  return parts
}

/** The text of `joinFamilies` as one string (tests, small outputs). */
export function textOf(chunks: readonly Uint8Array[]): string {
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * One family's samples as data, as a worker sends them: `series` is every sample's series (as `Samples.add` got
 * it) followed by a newline (escaped label values hold none), `values[i]` the i-th one's value. One string and one
 * typed array per family rather than a string per series: at 10,000 services × 3 servers a worker's reply is
 * ≈ 100,000 series, which the primary then deserializes as 14 strings instead of 100,000 objects, and two workers
 * serving the same table send equal strings, combined with one comparison (`mergeFamilies`).
 */
export interface FamilyData {
  readonly name: string
  readonly series: string
  readonly values: Float64Array
}

/** Collects a family as data (a worker's copy for the primary). */
export class DataFamily implements Samples {
  readonly #name: string
  readonly #series: string[]
  readonly #values: number[]

  constructor(def: FamilyDef) {
    this.#name = def.name
    this.#series = []
    this.#values = []
  }

  add(series: string, value: number): void {
    this.#series.push(series)
    this.#values.push(value)
  }

  data(): FamilyData {
    const n = this.#series.length
    return {
      name: this.#name,
      series: n === 0 ? '' : this.#series.join('\n') + '\n',
      values: Float64Array.from(this.#values),
    }
  }
}

/** Whether `x` has the shape of a `FamilyData` (it crossed the IPC channel): as many series as values. */
export function isFamilyData(x: unknown): x is FamilyData {
  if (typeof x !== 'object' || x === null) return false
  const f = x as Partial<Record<keyof FamilyData, unknown>>
  if (typeof f.name !== 'string' || typeof f.series !== 'string' || !(f.values instanceof Float64Array))
    return false
  let lines = 0
  for (let i = f.series.indexOf('\n'); i >= 0; i = f.series.indexOf('\n', i + 1)) lines++
  return lines === f.values.length && (lines === 0 || f.series.endsWith('\n'))
}

/**
 * Every family in `copies` (lists of families, e.g. one per worker), combined by family name and then by series
 * with the family's aggregator, in order of first appearance (as prom-client's AggregatorRegistry ordered them),
 * written to text. Names `defs` does not know are dropped; the copies are not changed. A series is one line's
 * labels as its writer put them, so the same labels in the same order: every copy comes from the same code.
 * Copies with the same series in the same order (workers serving the same table: always for the in-flight and
 * queue gauges) are combined value by value after one string comparison; an index by series is made only for a
 * family whose copies differ.
 */
export function mergeFamilies(
  defs: ReadonlyMap<string, FamilyDef>,
  copies: readonly (readonly FamilyData[])[],
  pool: ChunkPool,
): TextFamily[] {
  const merged = new Map<string, Merged>()
  for (const families of copies) {
    for (const f of families) {
      const def = defs.get(f.name)
      if (def === undefined) continue
      const m = merged.get(f.name)
      if (m === undefined) {
        merged.set(f.name, { def, series: f.series, list: null, index: null, values: Array.from(f.values) })
        continue
      }
      const combine = aggregators[def.aggregator]
      if (m.list === null && m.series === f.series) {
        for (let i = 0; i < f.values.length; i++)
          m.values[i] = combine(m.values[i] as number, f.values[i] as number)
        continue
      }
      if (m.list === null || m.index === null) {
        m.list = splitSeries(m.series)
        m.index = new Map()
        for (let i = 0; i < m.list.length; i++) m.index.set(m.list[i] as string, i)
      }
      const list = splitSeries(f.series)
      for (let i = 0; i < list.length; i++) {
        const s = list[i] as string
        const v = f.values[i] as number
        const at = m.index.get(s)
        if (at === undefined) {
          m.index.set(s, m.list.length)
          m.list.push(s)
          m.values.push(v)
        } else m.values[at] = combine(m.values[at] as number, v)
      }
    }
  }
  const out: TextFamily[] = []
  for (const m of merged.values()) {
    const t = new TextFamily(m.def, pool)
    if (m.list !== null) {
      for (let i = 0; i < m.list.length; i++) t.add(m.list[i] as string, m.values[i] as number)
    } else {
      // Each series cut out of the string just before it is written (it is garbage right after).
      const text = m.series
      for (let i = 0, start = 0; start < text.length; i++) {
        const end = text.indexOf('\n', start)
        t.add(text.slice(start, end), m.values[i] as number)
        start = end + 1
      }
    }
    out.push(t)
  }
  return out
}

/** A family being merged: its series as one string until a copy differs, then as a list with an index. */
interface Merged {
  readonly def: FamilyDef
  readonly series: string
  list: string[] | null
  index: Map<string, number> | null
  readonly values: number[]
}

function splitSeries(series: string): string[] {
  if (series === '') return []
  const list = series.split('\n')
  list.pop()
  return list
}

const aggregators = {
  sum: (a: number, b: number) => a + b,
  min: Math.min,
  max: Math.max,
} as const satisfies Record<Aggregator, (a: number, b: number) => number>
