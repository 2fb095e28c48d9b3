/**
 * A position-dependent byte stream for relay tests: byte i of the stream is `byteAt(i)`, so a chunk that a
 * reused buffer overwrote, or bytes out of order, show up at the first differing position.
 */

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
