/**
 * diffArray over long runs of answers with the previous one kept as segment fingerprints (keepText 0): the
 * segments are carried from answer to answer (kept, shifted, cut afresh between the common prefix and suffix),
 * so any sequence of edits must still give exactly the changed elements and the offsets of a full scan.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { diffArray, scanArray } from '../../../src/provider/consul/jsondiff.js'

const item = (i: number, status: string): string =>
  JSON.stringify({ Node: `n${i % 9}`, CheckID: `c${i}`, Status: status, Output: 'o'.repeat((i * 7) % 90) })

const edit = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    status: fc.constantFrom('passing', 'critical', 'warning'),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), id: fc.nat(10_000) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('none' as const) }),
)

test('segments carried over 60 answers of random edits give the changed elements and full-scan offsets', () => {
  fc.assert(
    fc.property(fc.array(edit, { minLength: 60, maxLength: 60 }), (edits) => {
      let cur = Array.from({ length: 400 }, (_, i) => item(i, 'passing'))
      let prev = scanArray(Buffer.from(`[${cur.join(',')}]`), 0)
      assert.ok(prev !== null)
      for (const e of edits) {
        const next = [...cur]
        if (e.kind === 'set' && next.length > 0) next[e.at % next.length] = item(e.at, e.status)
        else if (e.kind === 'insert') next.splice(e.at % (next.length + 1), 0, item(10_000 + e.id, 'passing'))
        else if (e.kind === 'remove') next.splice(e.at % (next.length + 1), e.count)
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
