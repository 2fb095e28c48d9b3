/**
 * ArrayStream's work per change stays bounded over a long run of single edits: each answer parses the elements of
 * about one segment around the edit, not the rest of the answer, and the segments do not fragment (none but the
 * last is shorter than half a segment, so no answer falls back to a whole parse).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { ArrayStream, type StreamText } from '../../../src/provider/consul/stream-diff.js'

const item = (i: number, status: string): string =>
  JSON.stringify({
    Node: `node-${i % 50}`,
    CheckID: `service:svc-${i}`,
    Status: status,
    Output: 'ok'.repeat(i % 20),
  })

test('single edits parse about one segment each and keep the segment count', () => {
  const segment = 1024
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'remove'), fc.nat()), {
        minLength: 200,
        maxLength: 200,
      }),
      (edits) => {
        const stream = new ArrayStream((t) => t, segment)
        let cur = Array.from({ length: 2000 }, (_, i) => item(i, 'passing'))
        let text = Buffer.from(`[${cur.join(',')}]`)
        stream.begin(null)
        stream.write(text, 0, text.length)
        const first = stream.end()
        assert.ok(!(first instanceof Error))
        let prev: StreamText = first.next
        // Elements per segment, with room for an element cut across a segment's end on either side.
        const perSegment = Math.ceil(segment / Math.min(...cur.map((c) => c.length + 1)))
        for (const [kind, at] of edits) {
          const next = [...cur]
          if (kind === 'set') next[at % next.length] = item(at, 'critical')
          else if (kind === 'insert') next.splice(at % (next.length + 1), 0, item(5000 + at, 'passing'))
          else next.splice(at % next.length, 1)
          text = Buffer.from(`[${next.join(',')}]`)
          stream.begin(prev)
          for (let i = 0; i < text.length; i += 4096) stream.write(text, i, Math.min(text.length, i + 4096))
          const r = stream.end()
          assert.ok(!(r instanceof Error))
          assert.equal(r.prev, prev, 'diffed, not parsed whole')
          const parsed = r.hunks.reduce((n, h) => n + h.added.length, 0)
          assert.ok(parsed <= 3 * perSegment, `${kind}: parsed ${parsed} elements (segment ≈ ${perSegment})`)
          assert.equal(r.next.stale, false)
          prev = r.next
          cur = next
        }
        // No fragments: every segment but the last is at least half a segment long (a short piece before the
        // segment found again is joined to it).
        for (let k = 0; k + 1 < prev.at.length; k++) {
          const length = (prev.at[k + 1] as number) - (prev.at[k] as number)
          assert.ok(length >= segment / 2, `segment ${k} of ${prev.at.length}: ${length} bytes`)
        }
      },
    ),
    { numRuns: 10 },
  )
})
