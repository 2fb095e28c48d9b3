/**
 * Chunked bodies (RFC 9112 §7.1), decoded strictly and incrementally for both sides of the proxy and for lb's
 * Consul client (src/provider/consul/sink.ts). Pure: no sockets, no timers.
 */
import { VALUE, validTrailers } from './parse.js'

const HEX = new Int8Array(256).fill(-1)
for (let i = 0; i < 10; i++) HEX[48 + i] = i
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i
  HEX[97 + i] = 10 + i
}

/** Where a chunked body's bytes go: data ranges in order, then the end (with the raw trailer section). */
export interface ChunkSink {
  chunkData(buf: Buffer, start: number, end: number): void
  /** `trailers`: the trailer field lines, each ending in CRLF ('' when none). */
  chunkedEnd(trailers: string): void
}

// Decoder states.
const C_SIZE = 0
const C_EXT = 1
const C_SIZE_LF = 2
const C_DATA = 3
const C_DATA_CR = 4
const C_DATA_LF = 5
const C_TRAILER = 6
const C_DONE = 7

/** Chunk-size digits and extension bytes allowed on one chunk line. */
const MAX_CHUNK_LINE = 16_384
/** Trailer section bytes allowed. */
const MAX_TRAILERS = 16_384

/**
 * Decodes a chunked body incrementally: `feed` takes the next bytes and returns how many belong to the body
 * (fewer than given once the body ended: the rest is the next message), or -1 on a framing error (`error`).
 * Chunk sizes are hex without sign, prefix or whitespace; extensions are checked for control characters and
 * dropped; every line ends in CRLF; trailer fields are checked like header fields.
 */
export class ChunkedDecoder {
  readonly sink: ChunkSink
  state: number
  /** Bytes left of the current chunk's data. */
  remaining: number
  /** Bytes of the current chunk line (size + extension) so far. */
  lineBytes: number
  /** Digits of the current size. */
  digits: number
  /** The trailer section so far (latin1). */
  trailers: string
  error: string

  constructor(sink: ChunkSink) {
    this.sink = sink
    this.state = C_SIZE
    this.remaining = 0
    this.lineBytes = 0
    this.digits = 0
    this.trailers = ''
    this.error = ''
  }

  reset(): void {
    this.state = C_SIZE
    this.remaining = 0
    this.lineBytes = 0
    this.digits = 0
    this.trailers = ''
    this.error = ''
  }

  get done(): boolean {
    return this.state === C_DONE
  }

  feed(buf: Buffer, start: number, end: number): number {
    let i = start
    while (i < end) {
      switch (this.state) {
        case C_DATA: {
          const take = Math.min(this.remaining, end - i)
          this.sink.chunkData(buf, i, i + take)
          i += take
          this.remaining -= take
          if (this.remaining === 0) this.state = C_DATA_CR
          break
        }
        case C_SIZE: {
          const c = buf[i] as number
          const h = HEX[c] as number
          if (h >= 0) {
            if (++this.digits > 13) return this.#error('chunk size too large')
            this.remaining = this.remaining * 16 + h
            i++
          } else if (this.digits === 0) {
            return this.#error('invalid chunk size')
          } else if (c === 13) {
            this.state = C_SIZE_LF
            i++
          } else if (c === 59 /* ; */) {
            this.state = C_EXT
            i++
          } else {
            return this.#error('invalid chunk size')
          }
          break
        }
        case C_EXT: {
          const c = buf[i] as number
          if (c === 13) this.state = C_SIZE_LF
          else if (VALUE[c] !== 1) return this.#error('invalid chunk extension')
          else if (++this.lineBytes > MAX_CHUNK_LINE) return this.#error('chunk extensions too long')
          i++
          break
        }
        case C_SIZE_LF:
          if (buf[i] !== 10) return this.#error('chunk size line not ended by CRLF')
          i++
          this.digits = 0
          this.lineBytes = 0
          this.state = this.remaining === 0 ? C_TRAILER : C_DATA
          break
        case C_DATA_CR:
          if (buf[i] !== 13) return this.#error('chunk data not followed by CRLF')
          i++
          this.state = C_DATA_LF
          break
        case C_DATA_LF:
          if (buf[i] !== 10) return this.#error('chunk data not followed by CRLF')
          i++
          this.state = C_SIZE
          break
        case C_TRAILER: {
          // Trailer lines until an empty one; collected, then checked as header fields.
          const at = buf.indexOf(10, i)
          const lineEnd = at < 0 || at >= end ? end : at + 1
          if (this.trailers.length + (lineEnd - i) > MAX_TRAILERS) return this.#error('trailers too long')
          this.trailers += buf.toString('latin1', i, lineEnd)
          i = lineEnd
          const t = this.trailers
          if (t.endsWith('\n')) {
            if (t.length < 2 || t.charCodeAt(t.length - 2) !== 13) return this.#error('bare LF in trailers')
            if (t.length === 2 || t.endsWith('\r\n\r\n')) {
              const fields = t.slice(0, t.length - 2)
              if (fields !== '' && !validTrailers(fields)) return this.#error('invalid trailer field')
              this.state = C_DONE
              this.trailers = ''
              this.sink.chunkedEnd(fields)
              return i - start
            }
          }
          break
        }
        default:
          return i - start
      }
    }
    return i - start
  }

  #error(why: string): number {
    this.error = why
    return -1
  }
}
