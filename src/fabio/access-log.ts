/**
 * fabio's access-log text formats (`log.access.format`): `common`, `combined`, or a template of `$field` names.
 * Pure: a template is compiled once into a list of segments; `formatAccess` renders one plain record of the log
 * fields (`AccessRecord`) without parsing anything per line.
 *
 *   common   = $remote_host - - [$time_common] "$request" $response_status $response_body_size
 *   combined = common + "$header.Referer" "$header.User-Agent"
 *
 * Fields (fabio's names): `$header.<Name>` (request header, any case), `$remote_addr|host|port`, `$request`
 * (`METHOD URI PROTO`), `$request_args|host|method|proto|scheme|uri|url`, `$response_body_size`,
 * `$response_status`, `$response_time_ms|us|ns` (seconds with 3, 6 or 9 decimals, as fabio writes them),
 * `$time_common`, `$time_rfc3339[_ms|_us|_ns]`, `$time_unix_ms|us|ns` (the time the request ended, UTC),
 * `$upstream_addr|host|port`, `$upstream_request_scheme|uri|url`, `$upstream_service`. A `$` not followed by a
 * name is text; an unknown `$name` is a config error. Credentials: `$header.Authorization` is refused.
 */

/** One access-log line's fields, as the data plane knows them. */
export interface AccessRecord {
  /** Socket peer address and port. */
  readonly remoteAddr: string
  readonly remotePort: number
  readonly method: string
  /** The request target as received (`/a?b=1`). */
  readonly uri: string
  /** `HTTP/1.1`. */
  readonly proto: string
  readonly host: string
  /** `http` or `https`. */
  readonly scheme: string
  readonly status: number
  /** Response body bytes. */
  readonly bytes: number
  /** The request headers as a flat [name, value, …] list (Node's rawHeaders). */
  readonly headers: readonly string[]
  /** Server `host:port` ('' = none chosen), its scheme and the request target sent to it. */
  readonly upstreamAddr: string
  readonly upstreamScheme: string
  readonly upstreamUri: string
  readonly service: string
  /** When the request ended: epoch ms (integer) and the nanoseconds past it (0..999,999). */
  readonly endMs: number
  readonly endSubNs: number
  /** Request duration in nanoseconds. */
  readonly durationNs: number
}

export const COMMON_FORMAT = '$remote_host - - [$time_common] "$request" $response_status $response_body_size'
export const COMBINED_FORMAT = `${COMMON_FORMAT} "$header.Referer" "$header.User-Agent"`

type Field = (r: AccessRecord) => string

/** A compiled template: literal text at even indexes, fields at odd ones (text '' where two fields touch). */
export interface AccessFormat {
  readonly texts: readonly string[]
  readonly fields: readonly Field[]
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function hostOf(addr: string): string {
  if (addr.startsWith('[')) return addr.slice(1, addr.indexOf(']'))
  const colon = addr.lastIndexOf(':')
  return colon < 0 || addr.indexOf(':') !== colon ? addr : addr.slice(0, colon)
}

function portOf(addr: string): string {
  const colon = addr.lastIndexOf(':')
  if (colon < 0 || (!addr.startsWith('[') && addr.indexOf(':') !== colon)) return ''
  return addr.slice(colon + 1)
}

function query(uri: string): string {
  const q = uri.indexOf('?')
  return q < 0 ? '' : uri.slice(q + 1)
}

function iso(r: AccessRecord, digits: number): string {
  const d = new Date(r.endMs)
  const base =
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  if (digits === 0) return `${base}Z`
  const frac = pad(d.getUTCMilliseconds(), 3) + pad(r.endSubNs, 6)
  return `${base}.${frac.slice(0, digits)}Z`
}

/** Seconds with `digits` decimals, truncated (fabio: 123456789 ns → `0.123` for `_ms`). */
function seconds(ns: number, digits: number): string {
  const whole = Math.floor(ns / 1e9)
  const frac = pad(Math.floor(ns % 1e9), 9).slice(0, digits)
  return `${whole}.${frac}`
}

function unix(r: AccessRecord, unitNs: number): string {
  const ns = BigInt(r.endMs) * 1_000_000n + BigInt(r.endSubNs)
  return String(ns / BigInt(unitNs))
}

const fields: ReadonlyMap<string, Field> = new Map<string, Field>([
  [
    '$remote_addr',
    (r) => (r.remoteAddr.includes(':') ? `[${r.remoteAddr}]` : r.remoteAddr) + `:${r.remotePort}`,
  ],
  ['$remote_host', (r) => r.remoteAddr],
  ['$remote_port', (r) => String(r.remotePort)],
  ['$request', (r) => `${r.method} ${r.uri} ${r.proto}`],
  ['$request_args', (r) => query(r.uri)],
  ['$request_host', (r) => r.host],
  ['$request_method', (r) => r.method],
  ['$request_proto', (r) => r.proto],
  ['$request_scheme', (r) => r.scheme],
  ['$request_uri', (r) => r.uri],
  ['$request_url', (r) => `${r.scheme}://${r.host}${r.uri}`],
  ['$response_body_size', (r) => String(r.bytes)],
  ['$response_status', (r) => String(r.status)],
  ['$response_time_ms', (r) => seconds(r.durationNs, 3)],
  ['$response_time_us', (r) => seconds(r.durationNs, 6)],
  ['$response_time_ns', (r) => seconds(r.durationNs, 9)],
  [
    '$time_common',
    (r) => {
      const d = new Date(r.endMs)
      return (
        `${pad(d.getUTCDate(), 2)}/${MONTHS[d.getUTCMonth()] as string}/${d.getUTCFullYear()}:` +
        `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)} +0000`
      )
    },
  ],
  ['$time_rfc3339', (r) => iso(r, 0)],
  ['$time_rfc3339_ms', (r) => iso(r, 3)],
  ['$time_rfc3339_us', (r) => iso(r, 6)],
  ['$time_rfc3339_ns', (r) => iso(r, 9)],
  ['$time_unix_ms', (r) => unix(r, 1_000_000)],
  ['$time_unix_us', (r) => unix(r, 1_000)],
  ['$time_unix_ns', (r) => unix(r, 1)],
  ['$upstream_addr', (r) => r.upstreamAddr],
  ['$upstream_host', (r) => hostOf(r.upstreamAddr)],
  ['$upstream_port', (r) => portOf(r.upstreamAddr)],
  ['$upstream_request_scheme', (r) => r.upstreamScheme],
  ['$upstream_request_uri', (r) => r.upstreamUri],
  [
    '$upstream_request_url',
    (r) => (r.upstreamAddr === '' ? '' : `${r.upstreamScheme}://${r.upstreamAddr}${r.upstreamUri}`),
  ],
  ['$upstream_service', (r) => r.service],
])

/** Every field name a template may use besides `$header.<Name>`. */
export const accessFieldNames: readonly string[] = [...fields.keys()].sort()

/** First value of a request header (case-insensitive), '' when absent. */
function header(headers: readonly string[], lower: string): string {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === lower) return headers[i + 1] as string
  }
  return ''
}

function isIdChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45
}

/**
 * Compiles `common`, `combined` or a template (fabio's lexer: `$` + name chars `[A-Za-z0-9_-]`, and
 * `$header.<Name>`). Returns the format, or the reason it is not one.
 */
export function compileAccessFormat(format: string): AccessFormat | string {
  const template = format === 'common' ? COMMON_FORMAT : format === 'combined' ? COMBINED_FORMAT : format
  const texts: string[] = []
  const list: Field[] = []
  let text = ''
  let i = 0
  while (i < template.length) {
    if (template[i] !== '$' || !isIdChar(template.charCodeAt(i + 1))) {
      text += template[i] as string
      i++
      continue
    }
    let j = i + 1
    while (j < template.length && isIdChar(template.charCodeAt(j))) j++
    let name = template.slice(i, j)
    let field: Field | undefined
    if (name === '$header' && template[j] === '.' && isIdChar(template.charCodeAt(j + 1))) {
      let k = j + 1
      while (k < template.length && isIdChar(template.charCodeAt(k))) k++
      const lower = template.slice(j + 1, k).toLowerCase()
      if (lower === 'authorization' || lower === 'proxy-authorization' || lower === 'cookie')
        return `$header.${template.slice(j + 1, k)} would write credentials to the access log`
      field = (r) => header(r.headers, lower)
      name = template.slice(i, k)
      j = k
    } else {
      field = fields.get(name)
      if (field === undefined) return `unknown access-log field "${name}"`
    }
    texts.push(text)
    list.push(field)
    text = ''
    i = j
  }
  texts.push(text)
  return { texts, fields: list }
}

/** One line (with '\n'; '' for an empty template, as fabio writes nothing then). */
export function formatAccess(f: AccessFormat, r: AccessRecord): string {
  let out = f.texts[0] as string
  for (let i = 0; i < f.fields.length; i++) out += (f.fields[i] as Field)(r) + (f.texts[i + 1] as string)
  return out === '' ? '' : out + '\n'
}
