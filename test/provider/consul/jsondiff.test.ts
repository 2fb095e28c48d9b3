import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BLOCK, diffArray, scanArray } from '../../../src/provider/consul/jsondiff.js'

const check = (node: string, id: string, status: string, output = ''): object => ({
  Node: node,
  CheckID: id,
  Status: status,
  Output: output,
  ServiceTags: ['urlprefix-/a', 'x'],
  Definition: {},
})

const text = (xs: object[]): Buffer => Buffer.from(JSON.stringify(xs))

/** The elements removed and added (sorted), by multiset difference. */
function naive(a: object[], b: object[]): { removed: string[]; added: string[] } {
  const as = a.map((x) => JSON.stringify(x))
  const bs = b.map((x) => JSON.stringify(x))
  const removed = [...as]
  const added: string[] = []
  for (const x of bs) {
    const i = removed.indexOf(x)
    if (i >= 0) removed.splice(i, 1)
    else added.push(x)
  }
  return { removed: removed.sort(), added: added.sort() }
}

test('scanArray finds every top-level element, strings with quotes, brackets and escapes included', () => {
  const xs = [check('n1', 'a', 'passing', 'say "}]," \\'), { a: [1, { b: '[' }] }, 'x', 1, null]
  const t = Buffer.from(`  [ ${xs.map((x) => JSON.stringify(x)).join(' ,\n')} ]\n`)
  const s = scanArray(t)
  assert.ok(s !== null)
  assert.deepEqual(
    Array.from(s.starts, (st, i) => JSON.parse(t.toString('utf8', st, s.ends[i]))),
    xs,
  )
  assert.equal(scanArray(Buffer.from('[]'))?.starts.length, 0)
  for (const bad of ['{}', '[1,,2]', '[1', '["a]', '[1] x', '[{]'])
    assert.equal(scanArray(Buffer.from(bad)), null, bad)
})

// The previous answer kept whole (`text`), as block fingerprints (`blocks`: keepText 0), and switching between them.
const modes: readonly (readonly [string, (step: number) => number])[] = [
  ['text', () => Infinity],
  ['blocks', () => 0],
  ['text and blocks in turn', (step) => (step % 2 === 0 ? 0 : Infinity)],
]

for (const [mode, keep] of modes) {
  test(`diffArray (${mode}) returns exactly the changed elements, and offsets that keep working for the next answer`, () => {
    const farApart = (xs: object[]): void => {
      xs[2] = check('n2', 'c2', 'critical')
      xs[290] = check('n2', 'c290', 'critical')
    }
    let cur = Array.from({ length: 300 }, (_, i) =>
      check(`n${i % 7}`, `c${i}`, 'passing', 'x'.repeat(i % 50)),
    )
    let prev = scanArray(text(cur), keep(0))
    assert.ok(prev !== null)
    const edits: ((xs: object[]) => void)[] = [
      (xs) => (xs[150] = check('n1', 'c150', 'critical')), // status change in the middle
      (xs) => (xs[151] = check('n1', 'c151', 'warning', 'x'.repeat(151 % 50))), // same length ('passing')
      (xs) => xs.splice(40, 0, check('n9', 'new', 'passing')), // insert
      (xs) => xs.splice(0, 0, check('n0', 'first', 'passing')), // insert at the start
      (xs) => xs.push(check('n0', 'last', 'warning')), // append
      (xs) => xs.splice(xs.length - 1, 1), // remove the last
      (xs) => xs.splice(0, 1), // remove the first
      (xs) => xs.splice(10, 3), // remove several
      (xs) => (xs[5] = check('n1', 'c5', 'passing', 'output "with" quotes }]')), // output only
      farApart, // two far apart: one region
      () => {}, // unchanged
    ]
    for (const [step, edit] of edits.entries()) {
      const next = structuredClone(cur)
      edit(next)
      const d = diffArray(prev, text(next), 1_000, keep(step + 1))
      assert.ok(d !== null)
      // An unchanged element next to a change may come back as removed and added (same text): net of those, the
      // answer is exact.
      const removed = cur.slice(d.from, d.to).map((x) => JSON.stringify(x))
      const added = d.added.filter((x) => {
        const i = removed.indexOf(x)
        if (i < 0) return true
        removed.splice(i, 1)
        return false
      })
      assert.deepEqual({ removed: removed.sort(), added: added.sort() }, naive(cur, next))
      // A single local edit parses at most the edited elements and a block (plus one element) on each side.
      if (edit !== farApart) {
        const parsed = d.added.reduce((n, x) => n + x.length + 1, 0)
        const changed = naive(cur, next).added.reduce((n, x) => n + x.length + 1, 0)
        assert.ok(parsed <= changed + 2 * (BLOCK + 200), `${parsed} chars parsed for ${changed} changed`)
      }
      // The new offsets are those of a full scan.
      const full = scanArray(text(next))
      assert.deepEqual([d.next.starts, d.next.ends], [full?.starts, full?.ends])
      prev = d.next
      cur = next
    }
  })
}

for (const [mode, keep] of modes) {
  test(`diffArray (${mode}) gives up (null) when more than maxElements changed, or the texts are not both arrays`, () => {
    const a = Array.from({ length: 50 }, (_, i) => check('n', `c${i}`, 'passing'))
    const prev = scanArray(text(a), keep(0))
    assert.ok(prev !== null)
    const b = a.map((x, i) => (i % 10 === 0 ? check('n', `c${i}`, 'critical') : x))
    assert.equal(diffArray(prev, text(b), 5), null)
    assert.notEqual(diffArray(prev, text(b), 100), null)
    assert.equal(diffArray(prev, text(a).subarray(0, -1), 100), null)
    assert.equal(diffArray(prev, Buffer.from('{"a":1}'), 100), null)
  })
}

test('diffArray sees a change inside a multi-byte UTF-8 character split by a segment boundary', () => {
  const filler = Array.from({ length: 3 }, () => check('n', 'f', 'passing', 'y'.repeat(2000)))
  const text = (pad: number, char: string): Buffer =>
    Buffer.from(
      JSON.stringify([...filler, check('n', 'c', 'passing', `${'z'.repeat(pad)}${char}tail`), ...filler]),
    )
  // Pad the output so that the 4-byte character starts 2 bytes before the end of the first segment.
  const pad = 100 + BLOCK - 2 - text(100, '\u{1F600}').indexOf(Buffer.from('\u{1F600}'))
  const a = text(pad, '\u{1F600}')
  const b = text(pad, '\u{1F601}') // only the last byte differs, in the second segment
  assert.equal(a.indexOf(Buffer.from('\u{1F600}')), BLOCK - 2, 'the character straddles the segment boundary')
  const prev = scanArray(a, 0)
  assert.ok(prev !== null)
  const d = diffArray(prev, b, 100, 0)
  assert.ok(d !== null)
  assert.ok(
    d.added.some((x) => x.includes('\u{1F601}')),
    'the changed element is among the parsed ones, decoded whole',
  )
})
