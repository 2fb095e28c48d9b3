/**
 * diffArray over object answers (the catalog, `scanMembers`): any sequence of member edits gives exactly the
 * changed members, each parsed back by memberEntry, and the offsets of a full scan, with the previous answer
 * kept whole or as segment fingerprints.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { diffArray, memberEntry, scanMembers } from '../../../src/provider/consul/jsondiff.js'

/** A catalog member; names with quotes, backslashes, braces and multi-byte characters. */
const member = (name: string, tags: readonly string[]): string =>
  `${JSON.stringify(name)}${' '.repeat(name.length % 2)}:${JSON.stringify(tags)}`
const nameOf = (i: number): string => ['svc-', 'a"b-', 'c\\d-', 'é{}-', '[x],-'][i % 5] + String(i)

const edit = fc.oneof(
  fc.record({ kind: fc.constant('tags' as const), at: fc.nat(), tag: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), id: fc.nat(10_000) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('none' as const) }),
)

for (const keepText of [0, undefined]) {
  test(`object answers (${keepText === 0 ? 'segments' : 'text'}): the changed members, parsed, and full-scan offsets`, () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 40, maxLength: 40 }), (edits) => {
        let cur = Array.from({ length: 300 }, (_, i) => member(nameOf(i), [`urlprefix-/${i}`]))
        const text = (list: readonly string[]): Buffer => Buffer.from(`{ ${list.join(' ,')} }`)
        let prev = scanMembers(text(cur), keepText)
        assert.ok(prev !== null)
        for (const e of edits) {
          const next = [...cur]
          if (e.kind === 'tags' && next.length > 0) {
            const at = e.at % next.length
            next[at] = member(memberEntry(next[at] as string)[0], [e.tag, 'x'])
          } else if (e.kind === 'insert')
            next.splice(e.at % (next.length + 1), 0, member(nameOf(10_000 + e.id), []))
          else if (e.kind === 'remove') next.splice(e.at % (next.length + 1), e.count)
          const t = text(next)
          const d = diffArray(prev, t, 10_000, keepText)
          assert.ok(d !== null)
          assert.deepEqual([...cur.slice(0, d.from), ...d.added, ...cur.slice(d.to)], next)
          for (const m of d.added) assert.deepEqual(memberEntry(m), Object.entries(JSON.parse(`{${m}}`))[0])
          const full = scanMembers(t)
          assert.deepEqual([d.next.starts, d.next.ends], [full?.starts, full?.ends])
          prev = d.next
          cur = next
        }
      }),
      { numRuns: 20 },
    )
  })
}

test('scanMembers takes only a JSON object; diffArray gives up when the next answer is not one', () => {
  for (const bad of ['[]', 'null', '{"a" [1]}', '{"a":[1],}', '{"a":[1]} x', '{a:[1]}'])
    assert.equal(scanMembers(Buffer.from(bad)), null, bad)
  assert.deepEqual(scanMembers(Buffer.from(' {} '))?.starts, new Int32Array(0))
  const prev = scanMembers(Buffer.from('{"a":["x"],"b":["y"]}'))
  assert.ok(prev !== null)
  assert.equal(diffArray(prev, Buffer.from('["a","b"]'), 100), null)
  assert.equal(diffArray(prev, Buffer.from('{"a":["x"],"b":["y"]'), 100), null)
})
