/**
 * ArrayStream over long runs of answers, each fed in random pieces: the hunks applied to the last list give the
 * new list, and the element offsets remembered are those of a full scan, whatever the edits (several per answer,
 * runs of identical elements whose anchors collide, up to 60 elements removed at once).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ArrayStream, type StreamText } from '../../../src/provider/consul/stream-diff.js'
import { scanArray } from '../../../src/provider/consul/jsondiff.js'
import { applyCheckEdit, checkEdits, checkText, type CheckEdit } from '../../helpers/check-edits.js'

const edit = checkEdits(60, true)

/** Feeds `text` to `stream` in pieces cut at `cuts` (fractions of its length). */
function feed(stream: ArrayStream<string>, prev: StreamText | null, text: Buffer, cuts: readonly number[]) {
  stream.begin(prev)
  const at = [...new Set(cuts.map((c) => Math.floor(c * text.length)))].sort((a, b) => a - b)
  let from = 0
  for (const to of [...at, text.length]) {
    stream.write(text, from, to)
    from = to
  }
  return stream.end()
}

test('answers streamed in pieces give the changed elements and full-scan offsets', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(edit, { minLength: 1, maxLength: 3 }), { minLength: 40, maxLength: 40 }),
      fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }), {
        minLength: 41,
        maxLength: 41,
      }),
      fc.constantFrom(256, 1024),
      (answers, cuts, segment) => {
        const stream = new ArrayStream((t) => t, segment)
        let cur = Array.from({ length: 300 }, (_, i) => checkText(i, 'passing'))
        let prev: StreamText | null = null
        for (let n = 0; n <= answers.length; n++) {
          const next = n === 0 ? cur : (answers[n - 1] as CheckEdit[]).reduce(applyCheckEdit, cur)
          const text = Buffer.from(`[${next.join(',')}]`)
          const r = feed(stream, prev, text, cuts[n] as number[])
          assert.ok(!(r instanceof Error), String(r))
          let got = cur
          if (r.prev === null) {
            assert.equal(r.hunks.length, 1)
            got = [...(r.hunks[0]?.added ?? [])]
          } else {
            assert.equal(r.prev, prev)
            for (const h of [...r.hunks].reverse())
              got = [...got.slice(0, h.from), ...h.added, ...got.slice(h.to)]
          }
          assert.deepEqual(got, next)
          assert.deepEqual(r.next.starts, scanArray(text, 0)?.starts)
          assert.equal(r.next.length, text.length)
          assert.equal(r.next.at[0], 0)
          prev = r.next
          cur = next
        }
      },
    ),
    { numRuns: 30 },
  )
})
