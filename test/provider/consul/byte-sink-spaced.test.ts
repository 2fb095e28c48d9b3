/**
 * ByteSink (sink.ts): Consul answers seconds apart reuse the memory of the answer before. Given back 5 s after an
 * answer, the 12 MB `state` answer at 10,000 services came back as new external memory on every change 10 s apart,
 * and V8 started a full GC for it each time (bench/RESULTS.md, "isolated changes").
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { ByteSink } from '../../../src/provider/consul/sink.js'

async function* chunks(total: number, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < total; at += size) yield Buffer.alloc(Math.min(size, total - at), 7)
}

test('a sink keeps its memory between answers 30 s apart', async () => {
  mock.timers.enable({ apis: ['setTimeout'] })
  try {
    const sink = new ByteSink()
    const first = await sink.read(chunks(300_000, 65_536), 200)
    const memory = first.buffer as ArrayBuffer
    const grown = memory.byteLength
    for (let i = 0; i < 3; i++) {
      mock.timers.tick(30_000)
      assert.equal(memory.byteLength, grown, `kept ${30 * (i + 1)} s after the answer before`)
      const next = await sink.read(chunks(300_000, 65_536), 200)
      assert.equal(next.buffer, memory, 'the same memory')
    }
  } finally {
    mock.timers.reset()
  }
})
