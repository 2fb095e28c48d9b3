/**
 * A raw HTTP/2 client for the hardening tests: frames written by hand (HPACK literals without indexing and
 * without Huffman coding, RFC 7541 §6.2.2), so a test can send what node:http2's client refuses to (Connection,
 * Transfer-Encoding, a second Host, `:protocol`). It speaks h2c with prior knowledge and collects the frames lb
 * sends on stream 1 until that stream ends, is reset, or the connection goes.
 */
import { connect } from 'node:net'

export const DATA = 0
export const HEADERS = 1
export const RST_STREAM = 3
export const SETTINGS = 4
export const GOAWAY = 7

export interface Frame {
  readonly type: number
  readonly flags: number
  readonly stream: number
  readonly payload: Buffer
}

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'

export function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9)
  h.writeUIntBE(payload.length, 0, 3)
  h[3] = type
  h[4] = flags
  h.writeUInt32BE(stream, 5)
  return Buffer.concat([h, payload])
}

function hpackString(s: string): Buffer {
  const b = Buffer.from(s, 'latin1')
  if (b.length >= 127) return Buffer.concat([Buffer.from([127, b.length - 127]), b])
  return Buffer.concat([Buffer.from([b.length]), b])
}

/** A HEADERS frame (END_HEADERS, and END_STREAM when `end`) of literal fields. */
export function headers(
  stream: number,
  fields: readonly (readonly [string, string])[],
  end: boolean,
): Buffer {
  const block = Buffer.concat(
    fields.map(([n, v]) => Buffer.concat([Buffer.from([0]), hpackString(n), hpackString(v)])),
  )
  return frame(HEADERS, 0x4 | (end ? 0x1 : 0), stream, block)
}

export function data(stream: number, bytes: string, end: boolean): Buffer {
  return frame(DATA, end ? 0x1 : 0, stream, Buffer.from(bytes, 'latin1'))
}

/** The :status of a response HEADERS frame lb's nghttp2 wrote as a static-table index (200, 204, 400, 404…). */
export function indexedStatus(f: Frame): number {
  const statuses: Record<number, number> = {
    0x88: 200,
    0x89: 204,
    0x8a: 206,
    0x8b: 304,
    0x8c: 400,
    0x8d: 404,
    0x8e: 500,
  }
  return statuses[f.payload[0] ?? 0] ?? -1
}

/** Send the preface, SETTINGS and `frames` on a fresh h2c connection; the frames lb answers until stream 1 ends. */
export function rawH2(port: number, frames: readonly Buffer[]): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port })
    const got: Frame[] = []
    let buf = Buffer.alloc(0)
    const done = (): void => {
      s.destroy()
      resolve(got)
    }
    s.on('error', reject)
    s.on('close', () => resolve(got))
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3)
        if (buf.length < 9 + len) break
        const f: Frame = {
          type: buf[3] ?? 0,
          flags: buf[4] ?? 0,
          stream: buf.readUInt32BE(5) & 0x7fffffff,
          payload: buf.subarray(9, 9 + len),
        }
        buf = buf.subarray(9 + len)
        got.push(f)
        if (f.type === SETTINGS && (f.flags & 0x1) === 0) s.write(frame(SETTINGS, 0x1, 0, Buffer.alloc(0)))
        if (f.type === GOAWAY) return done()
        if (f.stream === 1 && (f.type === RST_STREAM || (f.flags & 0x1) === 1)) return done()
      }
    })
    s.write(
      Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(SETTINGS, 0, 0, Buffer.alloc(0)), ...frames]),
    )
  })
}
