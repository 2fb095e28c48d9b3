/**
 * HTTP basic authentication for routes with `auth=<scheme>` (fabio `proxy.auth` with `type=basic`). Pure: the
 * htpasswd text arrives as a string (the config loader reads the file); `checkAuth` decides one request.
 *
 * htpasswd lines are `user:hash`; blank lines and `#` comments are skipped. Hashes, as fabio's htpasswd library
 * accepts them: bcrypt (`$2a$`, `$2b$`, `$2y$`, through bcryptjs), `{SHA}` (base64 SHA-1), `$apr1$` (Apache
 * MD5) and plain text. A verified `Authorization` value is remembered (by its SHA-256, never the value itself)
 * so a client's later requests skip the bcrypt work; the memo is per scheme, bounded, and dropped with the
 * scheme on reload. Credentials are never logged: problems name the line number only.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import bcrypt from 'bcryptjs'

export interface AuthSchemeSpec {
  readonly name: string
  /** Only `basic` (fabio has no other). */
  readonly type: 'basic'
  readonly realm: string
  /** The htpasswd file's content. */
  readonly htpasswd: string
}

export interface AuthScheme {
  readonly name: string
  /** The `WWW-Authenticate` value of a 401: `Basic realm="<realm>"`. */
  readonly challenge: string
  readonly users: ReadonlyMap<string, string>
  /** SHA-256 (hex) of `Authorization` values that passed. */
  readonly verified: Set<string>
}

/** Verified credentials kept per scheme before the memo starts over. */
const MEMO_LIMIT = 10_000

/** `user → hash` from htpasswd text, and the 1-based numbers of lines that are not `user:hash`. */
export function parseHtpasswd(text: string): { users: Map<string, string>; badLines: number[] } {
  const users = new Map<string, string>()
  const badLines: number[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon <= 0 || colon === line.length - 1) {
      badLines.push(i + 1)
      continue
    }
    users.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return { users, badLines }
}

export function compileAuthScheme(spec: AuthSchemeSpec): AuthScheme {
  return {
    name: spec.name,
    challenge: `Basic realm="${spec.realm.replace(/["\\]/g, '\\$&')}"`,
    users: parseHtpasswd(spec.htpasswd).users,
    verified: new Set(),
  }
}

/**
 * Whether the request's `Authorization` header (undefined = none) passes `scheme`. An unknown scheme (undefined)
 * passes nobody, as in fabio.
 */
export function checkAuth(scheme: AuthScheme | undefined, authorization: string | undefined): boolean {
  if (scheme === undefined || authorization === undefined) return false
  if (authorization.length < 7 || authorization.slice(0, 6).toLowerCase() !== 'basic ') return false
  const key = createHash('sha256').update(authorization).digest('hex')
  if (scheme.verified.has(key)) return true
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return false
  const hash = scheme.users.get(decoded.slice(0, colon))
  if (hash === undefined || !matchPassword(decoded.slice(colon + 1), hash)) return false
  if (scheme.verified.size >= MEMO_LIMIT) scheme.verified.clear()
  scheme.verified.add(key)
  return true
}

/** Whether `password` matches an htpasswd `hash` (see the module comment for the formats). */
export function matchPassword(password: string, hash: string): boolean {
  if (/^\$2[aby]\$/.test(hash)) return bcrypt.compareSync(password, hash)
  if (hash.startsWith('{SHA}'))
    return same(createHash('sha1').update(password).digest('base64'), hash.slice(5))
  if (hash.startsWith('$apr1$')) return same(apr1(password, hash.slice(6).split('$')[0] ?? ''), hash)
  return same(password, hash)
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function md5(...parts: (Buffer | string)[]): Buffer {
  const h = createHash('md5')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** Apache's `$apr1$` MD5-crypt of `password` with `salt` (at most 8 chars), as `$apr1$salt$hash`. */
export function apr1(password: string, salt: string): string {
  salt = salt.slice(0, 8)
  const pw = Buffer.from(password)
  let fin = md5(pw, salt, pw)
  const ctx: Buffer[] = [pw, Buffer.from('$apr1$'), Buffer.from(salt)]
  for (let i = pw.length; i > 0; i -= 16) ctx.push(fin.subarray(0, Math.min(16, i)))
  for (let i = pw.length; i > 0; i >>= 1) ctx.push(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1))
  fin = md5(...ctx)
  for (let i = 0; i < 1000; i++) {
    const parts: Buffer[] = []
    parts.push(i & 1 ? pw : fin)
    if (i % 3 !== 0) parts.push(Buffer.from(salt))
    if (i % 7 !== 0) parts.push(pw)
    parts.push(i & 1 ? fin : pw)
    fin = md5(...parts)
  }
  let out = ''
  const enc = (a: number, b: number, c: number, n: number): void => {
    let v = (a << 16) | (b << 8) | c
    for (let i = 0; i < n; i++) {
      out += ITOA64[v & 0x3f]
      v >>= 6
    }
  }
  const f = (i: number): number => fin[i] as number
  enc(f(0), f(6), f(12), 4)
  enc(f(1), f(7), f(13), 4)
  enc(f(2), f(8), f(14), 4)
  enc(f(3), f(9), f(15), 4)
  enc(f(4), f(10), f(5), 4)
  enc(0, 0, f(11), 2)
  return `$apr1$${salt}$${out}`
}
