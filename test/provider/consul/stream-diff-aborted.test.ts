/**
 * An answer that never ended (its connection failed before the end) leaves nothing behind: the next answer is read
 * from its own bytes only, so an empty one is an error, not the aborted answer's elements.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ArrayStream } from '../../../src/provider/consul/stream-diff.js'

test('an answer after an aborted one starts from nothing', () => {
  const stream = new ArrayStream((t) => t)
  const aborted = Buffer.from('[1,2]')
  stream.begin(null)
  stream.write(aborted, 0, aborted.length)
  // No end(): the connection failed. The next answer has an empty body.
  stream.begin(null)
  const r = stream.end()
  assert.ok(r instanceof Error, 'an empty answer is not a JSON array')

  const next = Buffer.from('[3]')
  stream.begin(null)
  stream.write(next, 0, next.length)
  const ok = stream.end()
  assert.ok(!(ok instanceof Error))
  assert.deepEqual(ok.hunks[0]?.added, ['3'])
})
