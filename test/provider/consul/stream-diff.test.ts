/**
 * ArrayStream over long runs of answers, each fed in random pieces: the hunks applied to the last list give the
 * new list, and the element offsets remembered are those of a full scan, whatever the edits (several per answer,
 * runs of identical elements whose anchors collide, answers that shrink to nothing and grow again).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ArrayStream, type StreamText } from '../../../src/provider/consul/stream-diff.js'
import { scanArray } from '../../../src/provider/consul/jsondiff.js'

const item = (i: number, status: string): string =>
  JSON.stringify({ Node: `n${i % 9}`, CheckID: `c${i}`, Status: status, Output: 'o'.repeat((i * 7) % 90) })

/** Identical elements: every segment of a run of them has the same anchor. */
const same = JSON.stringify({ Node: 'n', CheckID: 'same', Status: 'passing', Output: 'x'.repeat(40) })

const edit = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    status: fc.constantFrom('passing', 'critical', 'warning'),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), id: fc.nat(10_000) }),
  fc.record({ kind: fc.constant('same' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 60 }) }),
  fc.record({ kind: fc.constant('none' as const) }),
)

function apply(list: string[], e: Edit): string[] {
  const next = [...list]
  if (e.kind === 'set' && next.length > 0) next[e.at % next.length] = item(e.at, e.status)
  else if (e.kind === 'insert') next.splice(e.at % (next.length + 1), 0, item(10_000 + e.id, 'passing'))
  else if (e.kind === 'same') next.splice(e.at % (next.length + 1), 0, ...Array<string>(e.count).fill(same))
  else if (e.kind === 'remove') next.splice(e.at % (next.length + 1), e.count)
  return next
}

type Edit =
  | { kind: 'set'; at: number; status: string }
  | { kind: 'insert'; at: number; id: number }
  | { kind: 'same'; at: number; count: number }
  | { kind: 'remove'; at: number; count: number }
  | { kind: 'none' }

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
        let cur = Array.from({ length: 300 }, (_, i) => item(i, 'passing'))
        let prev: StreamText | null = null
        for (let n = 0; n <= answers.length; n++) {
          const next = n === 0 ? cur : (answers[n - 1] as Edit[]).reduce(apply, cur)
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
