/**
 * Response compression (fabio `proxy.gzip.contenttype`): lb gzips a response body on its way to the client when
 * `http.gzip_content_types` matches its Content-Type, the server did not encode it (no Content-Encoding), it has
 * a body, and the client accepts gzip. The compressed body streams: the head goes out at once (no
 * Content-Length: chunked to HTTP/1.1 clients, up to a close for HTTP/1.0), zlib compresses what arrives, and
 * backpressure holds both the server side (zlib's input full) and zlib (the client not reading).
 *
 * The decision is pure (`shouldGzip`, `gzipHeaders`); the stream belongs to the exchange (exchange.ts).
 */
import { createGzip, type Gzip } from 'node:zlib'
import { findHeader } from './headers.js'

/** Whether to compress a response with `headers` for a request with `requestHeaders`. */
export function shouldGzip(
  types: RegExp,
  headers: readonly string[],
  requestHeaders: readonly string[],
): boolean {
  if (findHeader(headers, 'content-encoding') !== undefined) return false
  const type = findHeader(headers, 'content-type')
  if (type === undefined || !types.test(type)) return false
  return acceptsGzip(findHeader(requestHeaders, 'accept-encoding'))
}

/** `Accept-Encoding` names gzip (or `*`) without `q=0`. */
export function acceptsGzip(value: string | undefined): boolean {
  if (value === undefined) return false
  const list = value.toLowerCase().split(',')
  for (let i = 0; i < list.length; i++) {
    const item = (list[i] as string).trim()
    const semi = item.indexOf(';')
    const coding = (semi < 0 ? item : item.slice(0, semi)).trim()
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue
    const q = semi < 0 ? '' : item.slice(semi + 1).replace(/\s/g, '')
    if (q === 'q=0' || q === 'q=0.0' || q === 'q=0.00' || q === 'q=0.000') return false
    return true
  }
  return false
}

/** The response headers for a compressed body: Content-Length dropped, Content-Encoding and Vary added. */
export function gzipHeaders(headers: string[]): string[] {
  const out: string[] = []
  let vary = false
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string
    const lower = name.toLowerCase()
    if (lower === 'content-length') continue
    let value = headers[i + 1] as string
    if (lower === 'vary') {
      vary = true
      if (!/(^|,)\s*accept-encoding\s*(,|$)/i.test(value) && value.trim() !== '*')
        value += ', Accept-Encoding'
    }
    out.push(name, value)
  }
  out.push('Content-Encoding', 'gzip')
  if (!vary) out.push('Vary', 'Accept-Encoding')
  return out
}

/** What the gzip stream reports to (the exchange). */
export interface GzipUser {
  /** Compressed bytes for the client. */
  onGzipData(chunk: Buffer): void
  /** zlib took what it buffered: the server side may send more. */
  onGzipDrain(): void
  /** Everything compressed and handed on. */
  onGzipEnd(): void
  onGzipError(err: Error): void
}

const kUser = Symbol('lb.gzipUser')
interface UserGzip extends Gzip {
  [kUser]: GzipUser
}

export function startGzip(user: GzipUser): Gzip {
  const gz = createGzip() as UserGzip
  gz[kUser] = user
  gz.on('data', onData)
  gz.on('drain', onDrain)
  gz.on('end', onEnd)
  gz.on('error', onError)
  return gz
}

function onData(this: UserGzip, chunk: Buffer): void {
  this[kUser].onGzipData(chunk)
}

function onDrain(this: UserGzip): void {
  this[kUser].onGzipDrain()
}

function onEnd(this: UserGzip): void {
  this[kUser].onGzipEnd()
}

function onError(this: UserGzip, err: Error): void {
  this[kUser].onGzipError(err)
}
