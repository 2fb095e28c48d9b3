/** exposition.ts: escaping and values per the text format 0.0.4, text in chunks, the cluster merge. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  ChunkPool,
  DataFamily,
  chunkBytes,
  TextFamily,
  escapeHelp,
  escapeLabel,
  formatValue,
  isFamilyData,
  joinFamilies,
  mergeFamilies,
  parseLabels,
  textOf,
  type FamilyDef,
} from '../../src/metrics/exposition.js'

test('escapeLabel: backslash, double quote and newline escaped; everything else as is', () => {
  const cases = [
    { desc: 'plain', in: 'web-1.example/api', want: 'web-1.example/api' },
    { desc: 'quote', in: 'a"b', want: 'a\\"b' },
    { desc: 'backslash', in: 'a\\b', want: 'a\\\\b' },
    { desc: 'newline', in: 'a\nb', want: 'a\\nb' },
    { desc: 'backslash before n stays two characters', in: '\\n', want: '\\\\n' },
    { desc: 'all, repeated', in: '"\\\n"\\\n', want: '\\"\\\\\\n\\"\\\\\\n' },
    { desc: 'non-ASCII and tab untouched', in: 'café\tß', want: 'café\tß' },
  ]
  for (const c of cases) assert.equal(escapeLabel(c.in), c.want, c.desc)
})

test('escapeHelp: backslash and newline escaped, quotes kept', () => {
  assert.equal(escapeHelp('a "b" \\ c\nd'), 'a "b" \\\\ c\\nd')
})

test('formatValue: numbers as JavaScript prints them, +Inf, -Inf, NaN', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [3, '3'],
    [0.25, '0.25'],
    [1e21, '1e+21'],
    [-2, '-2'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ]
  for (const [v, want] of cases) assert.equal(formatValue(v), want, String(v))
})

const gauge: FamilyDef = {
  name: 'x_gauge',
  help: 'A "gauge"\nwith \\ help',
  type: 'gauge',
  aggregator: 'max',
}

test('TextFamily: head, then one line per sample, the same across many chunks, UTF-8, a line longer than a chunk', () => {
  const f = new TextFamily(gauge, new ChunkPool())
  const want = ['# HELP x_gauge A "gauge"\\nwith \\\\ help\n# TYPE x_gauge gauge\n']
  const long = 'x'.repeat(chunkBytes)
  for (let i = 0; i < 20_000; i++) {
    const label = i % 7 === 0 ? `é€${i}😀` : i === 9_999 ? long : String(i)
    f.add(`{i="${label}"}`, i / 4)
    want.push(`x_gauge{i="${label}"} ${i / 4}\n`)
  }
  assert.ok(f.chunks().length > 3, 'written in several chunks')
  assert.equal(textOf(f.chunks()), want.join(''))
})

test('ChunkPool: a released body’s Buffers are written again; foreign ones and a second release are not taken', () => {
  const pool = new ChunkPool()
  const fill = (): readonly Buffer[] => {
    const f = new TextFamily(gauge, pool)
    for (let i = 0; i < 10_000; i++) f.add(`{i="${i}"}`, i)
    return f.chunks()
  }
  const first = fill()
  const text = textOf(first)
  const pooled = new Set(first.slice(1).map((c) => c.buffer))
  assert.ok(pooled.size > 1)
  pool.release(first)
  assert.equal(pool.size, pooled.size)
  pool.release(first)
  pool.release([Buffer.alloc(chunkBytes)])
  assert.equal(pool.size, pooled.size, 'nothing taken twice, nothing foreign')
  const second = fill()
  assert.equal(pool.size, 0)
  assert.deepEqual(new Set(second.slice(1).map((c) => c.buffer)), pooled, 'the same memory written again')
  assert.equal(textOf(second), text)
})

test('joinFamilies: a blank line between families, after the text before them', () => {
  const pool = new ChunkPool()
  const a = new TextFamily({ ...gauge, name: 'a', help: 'A' }, pool)
  a.add('', 1)
  const b = new TextFamily({ ...gauge, name: 'b', help: 'B' }, pool)
  const text = textOf(joinFamilies('# HELP p P\n# TYPE p gauge\np 0\n', [a, b]))
  assert.equal(
    text,
    '# HELP p P\n# TYPE p gauge\np 0\n\n# HELP a A\n# TYPE a gauge\na 1\n\n# HELP b B\n# TYPE b gauge\n',
  )
})

test('mergeFamilies: per series by the family’s aggregator, in order of first appearance; unknown names dropped', () => {
  const defs = new Map<string, FamilyDef>([
    ['s', { name: 's', help: 'S', type: 'counter', aggregator: 'sum' }],
    ['lo', { name: 'lo', help: 'L', type: 'gauge', aggregator: 'min' }],
    ['hi', { name: 'hi', help: 'H', type: 'gauge', aggregator: 'max' }],
  ])
  const copy = (fams: [string, string[], number[]][]) =>
    fams.map(([name, series, values]) => {
      const d = new DataFamily({ name, help: '', type: 'gauge', aggregator: 'sum' })
      for (let i = 0; i < series.length; i++) d.add(series[i] as string, values[i] as number)
      return d.data()
    })
  const merged = mergeFamilies(
    defs,
    [
      copy([
        ['s', ['{a="1"}', '{a="2"}'], [1, 2]],
        ['lo', [''], [5]],
        ['unknown', ['{x="1"}'], [1]],
      ]),
      copy([
        ['hi', ['{h="1"}'], [3]],
        ['s', ['{a="3"}', '{a="1"}'], [30, 10]],
        ['lo', [''], [4]],
      ]),
      copy([['hi', ['{h="1"}'], [1]]]),
    ],
    new ChunkPool(),
  )
  assert.deepEqual(
    merged.map((f) => textOf(f.chunks())),
    [
      '# HELP s S\n# TYPE s counter\ns{a="1"} 11\ns{a="2"} 2\ns{a="3"} 30\n',
      '# HELP lo L\n# TYPE lo gauge\nlo 4\n',
      '# HELP hi H\n# TYPE hi gauge\nhi{h="1"} 3\n',
    ],
  )
})

test('isFamilyData: what crossed the IPC channel has names, and as many series as values', () => {
  const f = new DataFamily(gauge)
  f.add('{a="1"}', 1)
  f.add('', 2)
  assert.equal(isFamilyData(structuredClone(f.data())), true)
  assert.equal(isFamilyData(new DataFamily(gauge).data()), true, 'no samples')
  const bad: unknown[] = [
    null,
    [],
    { name: 'a', series: '{a="1"}\n', values: new Float64Array(0) },
    { name: 'a', series: '{a="1"}', values: new Float64Array(1) },
    { name: 1, series: '', values: new Float64Array(0) },
    { name: 'a', series: ['{a="1"}'], values: [1] },
  ]
  for (const x of bad) assert.equal(isFamilyData(x), false, JSON.stringify(x))
})

test('parseLabels: the label values of a series, escapes undone (the inverse of escapeLabel)', () => {
  const out: string[] = []
  const text = `{service="${escapeLabel('a"b\\c\nd')}",code="2xx"}`
  parseLabels(text, 0, text.length, out)
  assert.deepEqual(out, ['a"b\\c\nd', '2xx'])
})
