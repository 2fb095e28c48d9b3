/**
 * diffArray over long runs of answers with the previous one kept as segment fingerprints (keepText 0): the
 * segments are carried from answer to answer (kept, shifted, cut afresh between the common prefix and suffix),
 * so any sequence of edits must still give exactly the changed elements and the offsets of a full scan.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { diffArray, scanArray } from '../../../src/provider/consul/jsondiff.js'
import { applyCheckEdit, checkEdits, checkText } from '../../helpers/check-edits.js'

const edit = checkEdits(4, false)

test('segments carried over 60 answers of random edits give the changed elements and full-scan offsets', () => {
  fc.assert(
    fc.property(fc.array(edit, { minLength: 60, maxLength: 60 }), (edits) => {
      let cur = Array.from({ length: 400 }, (_, i) => checkText(i, 'passing'))
      let prev = scanArray(Buffer.from(`[${cur.join(',')}]`), 0)
      assert.ok(prev !== null)
      for (const e of edits) {
        const next = applyCheckEdit(cur, e)
        const t = Buffer.from(`[${next.join(',')}]`)
        const d = diffArray(prev, t, 10_000, 0)
        assert.ok(d !== null)
        // The old elements from..to-1 replaced by `added` give the new list.
        assert.deepEqual([...cur.slice(0, d.from), ...d.added, ...cur.slice(d.to)], next)
        const full = scanArray(t)
        assert.deepEqual([d.next.starts, d.next.ends], [full?.starts, full?.ends])
        prev = d.next
        cur = next
      }
    }),
    { numRuns: 25 },
  )
})
