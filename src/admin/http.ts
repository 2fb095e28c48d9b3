/**
 * The admin server's HTTP plumbing: writing answers, which Host names it serves, the bearer token check, and
 * reading a POST action's path and value.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { RuntimeError } from '../model/errors.js'

export const TEXT = 'text/plain; charset=utf-8'

const JSON_TYPE = 'application/json; charset=utf-8'

export const MAX_BODY = 4096

export function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | readonly Uint8Array[],
  extra?: Record<string, string>,
): void {
  let length = 0
  if (typeof body === 'string') length = Buffer.byteLength(body)
  else for (const c of body) length += c.byteLength
  res.writeHead(status, {
    'content-type': type,
    'content-length': length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  })
  if (typeof body === 'string') {
    res.end(body)
    return
  }
  // Chunks as they are (no copy into one buffer): one writev.
  res.cork()
  for (const c of body) res.write(c)
  res.end()
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  // Compact: /api/servers at 1k services is ~0.8 MB indented, and the page polls it.
  send(res, status, JSON_TYPE, JSON.stringify(body) + '\n')
}

export function fail(
  res: ServerResponse,
  status: number,
  error: string,
  extra?: Record<string, string>,
): void {
  send(res, status, JSON_TYPE, JSON.stringify({ error }) + '\n', extra)
}

/**
 * The admin server answers requests addressed to it by an IP literal, `localhost` or a name in
 * `admin.allowed_hosts` (any port), and requests without a Host (HTTP/1.0 tools); browsers always send one.
 */
export function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  if (host === undefined) return true
  let name = host
  if (name.startsWith('[')) {
    const close = name.indexOf(']')
    return close > 0 && isIP(name.slice(1, close)) === 6
  }
  const colon = name.indexOf(':')
  if (colon >= 0) name = name.slice(0, colon)
  name = name.toLowerCase()
  if (name.endsWith('.')) name = name.slice(0, -1)
  return isIP(name) !== 0 || name === 'localhost' || allowed.includes(name)
}

/** The auth scheme is case-insensitive (RFC 9110 §11.1): `Bearer`, `bearer`, `BEARER` … then spaces. */
const BEARER = /^bearer +/i

/** Constant-time enough for a short token: compare every byte. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  if (token === '' || header === undefined) return false
  const scheme = BEARER.exec(header)
  if (scheme === null) return false
  const given = header.slice(scheme[0].length)
  if (given.length !== token.length) return false
  let diff = 0
  for (let i = 0; i < token.length; i++) diff |= given.charCodeAt(i) ^ token.charCodeAt(i)
  return diff === 0
}

/** Wants the canonical text form: `?format=text`, or an Accept that names text/plain and not JSON. */
export function wantsText(url: URL, req: IncomingMessage): boolean {
  const format = url.searchParams.get('format')
  if (format !== null) return format === 'text'
  const accept = req.headers.accept ?? ''
  return accept.includes('text/plain') && !accept.includes('application/json')
}

/** `/api/servers/<svc>/<srv>/<state|weight>` → its parts (URL-decoded), or null. */
export function parseServerAction(
  pathname: string,
): { service: string; server: string; action: 'state' | 'weight' } | null {
  const parts = pathname.split('/')
  if (parts.length !== 6 || parts[1] !== 'api' || parts[2] !== 'servers') return null
  const action = parts[5]
  if (action !== 'state' && action !== 'weight') return null
  try {
    const service = decodeURIComponent(parts[3] ?? '')
    const server = decodeURIComponent(parts[4] ?? '')
    if (service === '' || server === '') return null
    return { service, server, action }
  } catch {
    return null
  }
}

/**
 * The value of a POST action: `?<name>=`, else the body as JSON `{ "<name>": v }`, a form `<name>=v`, or the
 * value itself (`drain`, `50%`), as plain text or as the form body curl's `-d drain` sends. '' when none was
 * given.
 */
export function actionValue(name: string, url: URL, body: string, contentType: string): string {
  const q = url.searchParams.get(name)
  if (q !== null) return q.trim()
  const text = body.trim()
  if (text === '') return ''
  if (contentType.includes('json') || text.startsWith('{')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new RuntimeError('EDGE_RUNTIME_INVALID', 'the body is not valid JSON')
    }
    const v =
      parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)[name] : undefined
    if (typeof v === 'string' || typeof v === 'number') return String(v).trim()
    throw new RuntimeError('EDGE_RUNTIME_INVALID', `the JSON body needs a "${name}" string or number`)
  }
  if (contentType.includes('x-www-form-urlencoded') || text.includes('=')) {
    const form = new URLSearchParams(text)
    const v = form.get(name)
    if (v !== null) return v.trim()
    // `curl -d drain` sends the bare value as a form body: one field, `drain`, with no `=`.
    if (!text.includes('=')) return ([...form.keys()][0] ?? '').trim()
    return ''
  }
  return text
}
