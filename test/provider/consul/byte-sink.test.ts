/**
 * ByteSink (sink.ts): the state watch's answers read into one resizable memory reused from answer to answer (no
 * allocation per 12 MB answer), which shrinks to nothing SINK_IDLE after the last answer.
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { ByteSink, SINK_IDLE } from '../../../src/provider/consul/sink.js'

async function* chunks(total: number, size: number, fill: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < total; at += size) yield Buffer.alloc(Math.min(size, total - at), fill)
}

test('a sink returns the whole body, reuses its memory for the next answers, and gives it back when idle', async () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const sink = new ByteSink()
    const first = await sink.read(chunks(300_000, 65_536, 1), 200)
    assert.equal(first.length, 300_000)
    assert.ok(first.every((b) => b === 1))
    const memory = first.buffer as ArrayBuffer
    assert.ok(memory.resizable)
    const grown = memory.byteLength
    const second = await sink.read(chunks(299_990, 65_536, 2), 200)
    assert.equal(second.length, 299_990)
    assert.ok(second.every((b) => b === 2))
    assert.equal(second.buffer, memory, 'the same memory')
    assert.equal(memory.byteLength, grown, 'not grown for an answer that fits')
    mock.timers.tick(SINK_IDLE - 1)
    assert.equal(memory.byteLength, grown)
    mock.timers.tick(1)
    assert.equal(memory.byteLength, 0, 'given back when idle')
    const third = await sink.read(chunks(1_000, 65_536, 3), 200)
    assert.deepEqual([third.length, third[999]], [1_000, 3])
  } finally {
    mock.timers.reset()
  }
})
