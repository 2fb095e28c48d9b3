/** node:http2 clients for lb's HTTP/2 listeners (TLS with ALPN h2, or h2c with prior knowledge). */
import {
  connect,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2'
import type { MutableConfig } from '../../src/config/types.js'
import { startLb, service, route, type TestLb } from './lb.js'
import { certDir, makeCert, tlsConfig, useTls } from './certs.js'

export interface H2Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly trailers: IncomingHttpHeaders | null
}

/** A session to lb on `port`: `https` (certificate not verified) or h2c. */
export function h2Connect(port: number, tls = true, servername = 'site.test'): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = tls
      ? connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false, servername })
      : connect(`http://127.0.0.1:${port}`)
    const closed = (): void => reject(new Error('the session closed before it connected'))
    s.once('connect', () => {
      s.off('error', reject)
      s.off('close', closed)
      s.on('error', () => {})
      resolve(s)
    })
    s.once('error', reject)
    s.once('close', closed)
  })
}

/** One request on `session`; `body` is written and the stream ended. */
export function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: string | Buffer,
): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined })
    let status = 0
    let head: IncomingHttpHeaders = {}
    let trailers: IncomingHttpHeaders | null = null
    const chunks: Buffer[] = []
    req.on('response', (h) => {
      head = h
      status = Number(h[':status'])
    })
    req.on('trailers', (t) => {
      trailers = t
    })
    req.on('data', (d: Buffer) => chunks.push(d))
    req.on('end', () =>
      resolve({ status, headers: head, body: Buffer.concat(chunks).toString('utf8'), trailers }),
    )
    req.on('error', reject)
    req.on('close', () => {
      if (status === 0) reject(new Error(`stream closed without a response (code ${req.rstCode})`))
    })
    if (body !== undefined) req.end(body)
  })
}

export function closeSession(s: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (s.closed || s.destroyed) resolve()
    else s.close(() => resolve())
  })
}

export interface H2Lb {
  readonly lb: TestLb
  readonly session: ClientHttp2Session
  /** The session's first GOAWAY code and its close, listened for from the moment it connected. */
  readonly end: { goaway: Promise<number>; closed: Promise<void> }
  /** Close lb (which drains the session), then the session and the certificate directory; once. */
  close(): Promise<void>
}

/**
 * lb with one HTTPS listener (a fresh certificate for site.test) routing every path to service `svc` on
 * `upstreamPort`, `edit` applied last, and an HTTP/2 session to it.
 */
export async function startH2Lb(
  upstreamPort: number,
  edit: (c: MutableConfig) => void = () => {},
): Promise<H2Lb> {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([cert]))
    c.services = [service('svc', [upstreamPort])]
    c.routes = [route('', '/', 'svc')]
    edit(c)
  })
  const session = await h2Connect(lb.port)
  const end = sessionEnd(session)
  let closing: Promise<void> | null = null
  const closeAll = async (): Promise<void> => {
    await lb.close()
    session.destroy()
    d.remove()
  }
  return { lb, session, end, close: () => (closing ??= closeAll()) }
}

/** The session's first GOAWAY code, and its close. */
export function sessionEnd(session: ClientHttp2Session): { goaway: Promise<number>; closed: Promise<void> } {
  return {
    goaway: new Promise((resolve) => session.once('goaway', (code: number) => resolve(code))),
    closed: new Promise((resolve) => session.once('close', () => resolve())),
  }
}
