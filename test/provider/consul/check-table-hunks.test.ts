/**
 * CheckTable.spliceAll, as the provider applies an answer with several changed regions: every hunk's indexes are
 * the old table's, and the result is the old list with each hunk replaced, whatever their number and places;
 * with the spare it hands back, the next call writes into arrays it has whenever they are long enough.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { CheckTable, type CheckInfo } from '../../../src/provider/consul/checks.js'

const info = (i: number): CheckInfo => ({ hash: i, svc: `s${i % 7}`, node: `n${i % 3}` }) as CheckInfo

const hashes = (t: CheckTable): number[] => Array.from(t.hash.subarray(0, t.length))

/** Hunks at sorted, distinct cut points of a list of `length`: [from, to) pairs that do not overlap. */
const hunksOf = (length: number, cuts: number[], adds: number[][]) => {
  const at = [...new Set(cuts.map((c) => c % (length + 1)))].sort((a, b) => a - b)
  const hunks: { from: number; to: number; added: CheckInfo[] }[] = []
  for (let k = 0; k + 1 < at.length; k += 2)
    hunks.push({ from: at[k] as number, to: at[k + 1] as number, added: (adds[k] ?? []).map(info) })
  return hunks
}

test('spliceAll replaces every hunk of the old table and hands the spare on', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.array(fc.nat(), { maxLength: 8 }),
          fc.array(fc.array(fc.nat(10_000), { maxLength: 3 }), { maxLength: 8 }),
        ),
        { minLength: 1, maxLength: 30 },
      ),
      (answers) => {
        let list = Array.from({ length: 120 }, (_, i) => i)
        let table = CheckTable.of(list.map(info))
        let spare: CheckTable | null = null
        for (const [cuts, adds] of answers) {
          const hunks = hunksOf(list.length, cuts, adds)
          const expected = [...list]
          // The longest the table gets on the way (the hunks are spliced from the last back).
          let longest = expected.length
          for (const h of [...hunks].reverse()) {
            expected.splice(h.from, h.to - h.from, ...h.added.map((c) => c.hash))
            longest = Math.max(longest, expected.length)
          }
          const before = [table.hash.buffer, spare?.hash.buffer]
          const fits = spare !== null && longest <= Math.min(spare.hash.length, table.hash.length)
          const r = CheckTable.spliceAll(table, hunks, spare)
          assert.deepEqual(hashes(r.table), expected)
          if (hunks.length === 0) assert.equal(r.table, table)
          // When the table and the spare are long enough for every step, their arrays are all it writes into.
          if (fits) assert.ok(before.includes(r.table.hash.buffer), 'no new arrays')
          table = r.table
          spare = r.spare
          list = expected
        }
      },
    ),
  )
})
