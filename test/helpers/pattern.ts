/**
 * A position-dependent byte stream for relay tests: byte i of the stream is `byteAt(i)`, so a chunk that a
 * reused buffer overwrote, or bytes out of order, show up at the first differing position.
 */
import type { Writable } from 'node:stream'

/** Byte i of the stream. */
export function byteAt(i: number): number {
  return (i * 31 + (i >>> 16)) & 0xff
}

/** Bytes [from, from + length) of the stream. */
export function patternChunk(from: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) b[i] = byteAt(from + i)
  return b
}

/** Checks received chunks against the stream: `at` bytes seen so far, `firstBad` the first wrong one (or -1). */
export class PatternReader {
  at = 0
  firstBad = -1

  add(d: Buffer): void {
    for (let i = 0; i < d.length && this.firstBad < 0; i++)
      if (d[i] !== byteAt(this.at + i)) this.firstBad = this.at + i
    this.at += d.length
  }
}

/**
 * Writes bytes [0, size) of the stream to `s`, `chunk` bytes per event-loop turn (so the relay reads small
 * chunks), waiting for 'drain' when a write returns false, then ends `s`. `blocked` is called when a write
 * returns false, or at the end when none did (everything fit in the socket buffers: a test then proves less).
 */
export function pumpPattern(s: Writable, size: number, chunk: number, blocked: () => void): void {
  let sent = 0
  const pump = (): void => {
    if (sent >= size) {
      blocked()
      s.end()
      return
    }
    const n = Math.min(chunk, size - sent)
    const ok = s.write(patternChunk(sent, n))
    sent += n
    if (ok) setImmediate(pump)
    else {
      blocked()
      s.once('drain', pump)
    }
  }
  pump()
}
