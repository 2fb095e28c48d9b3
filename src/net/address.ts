/**
 * Address syntax for config files: `host:port`, IPv4, `[IPv6]` and hostnames (CIDRs: src/net/cidr.ts).
 * Pure (no node:net), so the config readers (src/config/) can use it; results carry a reason for the problem list.
 */

export type HostKind = 'ipv4' | 'ipv6' | 'hostname'

export interface HostPort {
  /** IPv6 without brackets, '' when the input was `:port`. */
  readonly host: string
  readonly kind: HostKind | 'any'
  readonly port: number
}

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string }

const ipv4Octet = /^(?:0|[1-9]\d{0,2})$/
const hexGroup = /^[0-9a-fA-F]{1,4}$/
const digits = /^\d+$/

export function isIPv4(s: string): boolean {
  const parts = s.split('.')
  if (parts.length !== 4) return false
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string
    if (!ipv4Octet.test(p) || Number(p) > 255) return false
  }
  return true
}

/** RFC 4291 text form: up to 8 hex groups, at most one `::`, optionally ending in dotted IPv4. No zone ids. */
export function isIPv6(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false
  const halves = s.split('::')
  if (halves.length > 2) return false
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'))
  const head = groups(halves[0] as string)
  const tail = halves.length === 2 ? groups(halves[1] as string) : []
  const all = [...head, ...tail]
  let count = 0
  for (let i = 0; i < all.length; i++) {
    const g = all[i] as string
    if (i === all.length - 1 && g.includes('.')) {
      if (!isIPv4(g)) return false
      count += 2
    } else if (hexGroup.test(g)) {
      count += 1
    } else {
      return false
    }
  }
  return halves.length === 2 ? count <= 7 : count === 8
}

/**
 * RFC 1123 hostname (underscores tolerated, as in container names); the last label may not be all digits.
 * One scan over the chars (no split, no regex): Consul builds check one host per route tag, 20,000 at a time.
 */
export function isHostname(s: string): boolean {
  const n = s.length
  if (n === 0 || n > 253) return false
  let labelStart = 0
  let allDigits = true
  for (let i = 0; i <= n; i++) {
    const c = i === n ? CH_DOT : s.charCodeAt(i)
    if (c === CH_DOT) {
      const len = i - labelStart
      // 1..63 chars, and no '-' at either end.
      if (len === 0 || len > 63) return false
      if (s.charCodeAt(labelStart) === CH_DASH || s.charCodeAt(i - 1) === CH_DASH) return false
      if (i === n) return !allDigits
      labelStart = i + 1
      allDigits = true
    } else if (c >= CH_0 && c <= CH_9) {
      // a digit keeps allDigits as it is
    } else if ((c >= CH_A && c <= CH_Z) || (c >= CH_LOWER_A && c <= CH_LOWER_Z) || c === CH_UNDERSCORE) {
      allDigits = false
    } else if (c === CH_DASH) {
      allDigits = false
    } else {
      return false
    }
  }
  return false
}

const CH_DOT = 0x2e
const CH_DASH = 0x2d
const CH_UNDERSCORE = 0x5f
const CH_0 = 0x30
const CH_9 = 0x39
const CH_A = 0x41
const CH_Z = 0x5a
const CH_LOWER_A = 0x61
const CH_LOWER_Z = 0x7a

export function hostKind(s: string): HostKind | undefined {
  if (isIPv4(s)) return 'ipv4'
  if (isIPv6(s)) return 'ipv6'
  if (isHostname(s)) return 'hostname'
  return undefined
}

export interface HostPortRules {
  /** Accept `:port` (bind to every interface). */
  readonly emptyHost: boolean
  /** Accept port 0 (ephemeral, for listeners in tests). */
  readonly portZero: boolean
  /** Accept a host without `:port`, using this port. */
  readonly defaultPort?: number
}

export function parseHostPort(input: string, rules: HostPortRules): Parsed<HostPort> {
  const expected = rules.emptyHost ? 'host:port or :port' : 'host:port'
  let hostText: string
  let portText: string | undefined
  if (input.startsWith('[')) {
    const close = input.indexOf(']')
    if (close < 0) return bad(`missing "]" in "${input}"`)
    hostText = input.slice(1, close)
    const rest = input.slice(close + 1)
    if (rest !== '' && !rest.startsWith(':')) return bad(`expected ${expected}, got "${input}"`)
    portText = rest === '' ? undefined : rest.slice(1)
    if (!isIPv6(hostText)) return bad(`"${hostText}" is not an IPv6 address`)
  } else {
    const colon = input.lastIndexOf(':')
    if (colon >= 0 && input.indexOf(':') !== colon) {
      return bad(`IPv6 addresses need brackets, e.g. "[::1]:80", got "${input}"`)
    }
    hostText = colon < 0 ? input : input.slice(0, colon)
    portText = colon < 0 ? undefined : input.slice(colon + 1)
  }
  let port: number
  if (portText === undefined) {
    if (rules.defaultPort === undefined) return bad(`missing port: expected ${expected}, got "${input}"`)
    port = rules.defaultPort
  } else {
    if (!digits.test(portText)) return bad(`port must be a number, got "${portText}"`)
    port = Number(portText)
    if (port > 65535) return bad(`port must be at most 65535, got ${port}`)
    if (port === 0 && !rules.portZero) return bad('port must be between 1 and 65535, got 0')
  }
  if (hostText === '') {
    if (input.startsWith('[')) return bad(`empty IPv6 address in "${input}"`)
    if (!rules.emptyHost) return bad(`missing host: expected ${expected}, got "${input}"`)
    return { ok: true, value: { host: '', kind: 'any', port } }
  }
  const kind = input.startsWith('[') ? 'ipv6' : hostKind(hostText)
  if (kind === undefined) return bad(`"${hostText}" is not a valid hostname or IP address`)
  return { ok: true, value: { host: hostText, kind, port } }
}

/** `host:port` with IPv6 in brackets; '' host → `:port`. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function bad<T>(reason: string): Parsed<T> {
  return { ok: false, reason }
}
