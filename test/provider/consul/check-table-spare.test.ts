/**
 * CheckTable.splice into a spare table (the provider alternates between its last two tables): every table is the
 * one a splice into new arrays gives, and it is written into the spare's arrays whenever they are long enough.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { CheckTable, type CheckInfo } from '../../../src/provider/consul/checks.js'

const info = (i: number): CheckInfo => ({ hash: i, svc: `s${i % 7}`, node: `n${i % 3}` }) as CheckInfo

const rows = (t: CheckTable): [number, string, string][] =>
  Array.from({ length: t.length }, (_, i) => [
    t.hash[i] as number,
    t.name(t.svc[i] as number),
    t.name(t.node[i] as number),
  ])

test('splices into the spare table equal splices into new arrays, and take its arrays when they fit', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.array(fc.nat(1000), { maxLength: 3 })), { maxLength: 60 }),
      (edits) => {
        let plain = CheckTable.of(Array.from({ length: 200 }, (_, i) => info(i)))
        let checks = CheckTable.of(Array.from({ length: 200 }, (_, i) => info(i)))
        let spare: CheckTable | null = null
        for (const [at, count, ids] of edits) {
          const from = at % (plain.length + 1)
          const to = Math.min(plain.length, from + count)
          const added = ids.map(info)
          plain = plain.splice(from, to, added)
          // The spare's arrays are taken whenever they are long enough; new ones only when the table outgrew them.
          const into = spare as CheckTable | null
          const next = checks.splice(from, to, added, into)
          if (into !== null && into.hash.length >= plain.length)
            assert.equal(next.hash.buffer, into.hash.buffer)
          else assert.notEqual(next.hash.buffer, checks.hash.buffer)
          spare = checks
          checks = next
          assert.deepEqual(rows(checks), rows(plain))
        }
      },
    ),
  )
})
