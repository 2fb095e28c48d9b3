/**
 * PROXY protocol v1 and v2 (haproxy's proxy-protocol.txt): parse the header a load balancer in front of lb
 * sends (nginx `proxy_protocol on`, haproxy `send-proxy[-v2]`), and build the header lb sends to servers.
 * Pure: buffers in, values out (no sockets here).
 *
 * Accepted: v1 `TCP4`/`TCP6`/`UNKNOWN`; v2 `PROXY` and `LOCAL` commands over TCP/IPv4 and TCP/IPv6 (UDP and
 * unix families are read as "unknown": the connection's own addresses are kept). v2 TLVs are skipped.
 */
import { isIPv4, isIPv6 } from 'node:net'

export interface ProxyHeader {
  readonly version: 1 | 2
  /** 'local' (v2 LOCAL, v1 UNKNOWN): a health check from the proxy itself; keep the socket's addresses. */
  readonly command: 'proxy' | 'local'
  readonly family: 'tcp4' | 'tcp6' | 'unknown'
  readonly srcAddress: string
  readonly srcPort: number
  readonly dstAddress: string
  readonly dstPort: number
}

export type ProxyParse =
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly reason: string }
  | { readonly status: 'ok'; readonly header: ProxyHeader; readonly length: number }

export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
])
const V1_PREFIX = Buffer.from('PROXY ', 'latin1')
/** v1: 107 bytes at most including CRLF. v2: 16 + up to 65535. */
const V1_MAX = 107
const INCOMPLETE: ProxyParse = { status: 'incomplete' }

/** Parse a PROXY header at the start of `buf` (v1 or v2, auto-detected). */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return INCOMPLETE
  if (buf[0] === 0x0d) return parseV2(buf)
  if (buf[0] === 0x50) return parseV1(buf)
  return { status: 'invalid', reason: 'no PROXY protocol header' }
}

function prefixMatches(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length)
  return buf.subarray(0, n).equals(prefix.subarray(0, n))
}

function parseV1(buf: Buffer): ProxyParse {
  if (!prefixMatches(buf, V1_PREFIX)) return { status: 'invalid', reason: 'no PROXY protocol header' }
  const end = buf.indexOf('\r\n', 0, 'latin1')
  if (end < 0) return buf.length >= V1_MAX ? { status: 'invalid', reason: 'v1 header too long' } : INCOMPLETE
  if (end + 2 > V1_MAX) return { status: 'invalid', reason: 'v1 header too long' }
  const parts = buf.toString('latin1', 0, end).split(' ')
  const length = end + 2
  if (parts[1] === 'UNKNOWN') {
    return { status: 'ok', length, header: local(1) }
  }
  if (parts.length !== 6) return { status: 'invalid', reason: 'v1 header must have 6 fields' }
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string]
  const family = proto === 'TCP4' ? 'tcp4' : proto === 'TCP6' ? 'tcp6' : ''
  if (family === '')
    return { status: 'invalid', reason: `v1 protocol must be TCP4, TCP6 or UNKNOWN, got ${proto}` }
  const okAddr = family === 'tcp4' ? isIPv4(src) && isIPv4(dst) : isIPv6(src) && isIPv6(dst)
  const sp = port(sport)
  const dp = port(dport)
  if (!okAddr || sp < 0 || dp < 0) return { status: 'invalid', reason: 'v1 addresses or ports are malformed' }
  return {
    status: 'ok',
    length,
    header: {
      version: 1,
      command: 'proxy',
      family,
      srcAddress: src,
      srcPort: sp,
      dstAddress: dst,
      dstPort: dp,
    },
  }
}

function port(s: string): number {
  if (!/^\d{1,5}$/.test(s) || (s.length > 1 && s.startsWith('0'))) return -1
  const n = Number(s)
  return n <= 65535 ? n : -1
}

function local(version: 1 | 2): ProxyHeader {
  return {
    version,
    command: 'local',
    family: 'unknown',
    srcAddress: '',
    srcPort: 0,
    dstAddress: '',
    dstPort: 0,
  }
}

function parseV2(buf: Buffer): ProxyParse {
  if (!prefixMatches(buf, V2_SIGNATURE)) return { status: 'invalid', reason: 'no PROXY protocol header' }
  if (buf.length < 16) return INCOMPLETE
  const verCmd = buf[12] as number
  if (verCmd >> 4 !== 2) return { status: 'invalid', reason: `v2 version must be 2, got ${verCmd >> 4}` }
  const cmd = verCmd & 0x0f
  if (cmd > 1) return { status: 'invalid', reason: `v2 command must be LOCAL or PROXY, got ${cmd}` }
  const fam = buf[13] as number
  const len = buf.readUInt16BE(14)
  const length = 16 + len
  if (buf.length < length) return INCOMPLETE
  if (cmd === 0) return { status: 'ok', length, header: local(2) }
  if (fam === 0x11) {
    if (len < 12) return { status: 'invalid', reason: 'v2 TCP4 address block too short' }
    return {
      status: 'ok',
      length,
      header: {
        version: 2,
        command: 'proxy',
        family: 'tcp4',
        srcAddress: ipv4(buf, 16),
        dstAddress: ipv4(buf, 20),
        srcPort: buf.readUInt16BE(24),
        dstPort: buf.readUInt16BE(26),
      },
    }
  }
  if (fam === 0x21) {
    if (len < 36) return { status: 'invalid', reason: 'v2 TCP6 address block too short' }
    return {
      status: 'ok',
      length,
      header: {
        version: 2,
        command: 'proxy',
        family: 'tcp6',
        srcAddress: ipv6(buf, 16),
        dstAddress: ipv6(buf, 32),
        srcPort: buf.readUInt16BE(48),
        dstPort: buf.readUInt16BE(50),
      },
    }
  }
  // UNSPEC, UDP, unix sockets: accepted, addresses not used.
  return { status: 'ok', length, header: { ...local(2), command: 'proxy' } }
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`
}

function ipv6(b: Buffer, at: number): string {
  const groups: string[] = []
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + 2 * i).toString(16))
  // Canonical compression of the longest zero run (RFC 5952).
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === '0') j++
    if (j - i > bestLen) {
      bestAt = i
      bestLen = j - i
    }
    i = j
  }
  if (bestAt < 0) return groups.join(':')
  return `${groups.slice(0, bestAt).join(':')}::${groups.slice(bestAt + bestLen).join(':')}`
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so a dual-stack socket still produces TCP4 headers. */
function unmap(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address
}

export interface ProxyAddresses {
  readonly srcAddress: string
  readonly srcPort: number
  readonly dstAddress: string
  readonly dstPort: number
}

/** v1 header; mixed or unknown families give `PROXY UNKNOWN`. */
export function encodeProxyV1(a: ProxyAddresses): Buffer {
  const src = unmap(a.srcAddress)
  const dst = unmap(a.dstAddress)
  const fam = isIPv4(src) && isIPv4(dst) ? 'TCP4' : isIPv6(src) && isIPv6(dst) ? 'TCP6' : ''
  if (fam === '') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1')
  return Buffer.from(`PROXY ${fam} ${src} ${dst} ${a.srcPort} ${a.dstPort}\r\n`, 'latin1')
}

/** v2 header (PROXY command, no TLVs); mixed or unknown families give a LOCAL header. */
export function encodeProxyV2(a: ProxyAddresses): Buffer {
  const src = unmap(a.srcAddress)
  const dst = unmap(a.dstAddress)
  if (isIPv4(src) && isIPv4(dst)) {
    const b = Buffer.alloc(28)
    V2_SIGNATURE.copy(b, 0)
    b[12] = 0x21
    b[13] = 0x11
    b.writeUInt16BE(12, 14)
    writeV4(b, 16, src)
    writeV4(b, 20, dst)
    b.writeUInt16BE(a.srcPort, 24)
    b.writeUInt16BE(a.dstPort, 26)
    return b
  }
  if (isIPv6(src) && isIPv6(dst)) {
    const b = Buffer.alloc(52)
    V2_SIGNATURE.copy(b, 0)
    b[12] = 0x21
    b[13] = 0x21
    b.writeUInt16BE(36, 14)
    writeV6(b, 16, src)
    writeV6(b, 32, dst)
    b.writeUInt16BE(a.srcPort, 48)
    b.writeUInt16BE(a.dstPort, 50)
    return b
  }
  const b = Buffer.alloc(16)
  V2_SIGNATURE.copy(b, 0)
  b[12] = 0x20
  return b
}

function writeV4(b: Buffer, at: number, ip: string): void {
  const p = ip.split('.')
  for (let i = 0; i < 4; i++) b[at + i] = Number(p[i])
}

function writeV6(b: Buffer, at: number, ip: string): void {
  let text = ip
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4 !== null) {
    const p = (v4[1] as string).split('.').map(Number)
    text =
      text.slice(0, -(v4[1] as string).length) +
      `${(((p[0] as number) << 8) | (p[1] as number)).toString(16)}:${(((p[2] as number) << 8) | (p[3] as number)).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined]
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t]
  for (let i = 0; i < 8; i++) b.writeUInt16BE(Number.parseInt(groups[i] ?? '0', 16), at + 2 * i)
}

export function encodeProxy(version: 'v1' | 'v2', a: ProxyAddresses): Buffer {
  return version === 'v1' ? encodeProxyV1(a) : encodeProxyV2(a)
}
