/**
 * IP address and CIDR matching (pure, no I/O).
 *
 * `CidrSet.has` runs once or more per request (trusted-proxy check, X-Forwarded-For walk), so the address
 * parsers below read char codes into numbers: an IPv4 address becomes one uint32 and an IPv6 address four
 * int32 words in a module-level scratch array. Nothing is allocated per call. Networks are kept in flat
 * typed arrays and scanned linearly; trusted-proxy lists are a handful of entries, so a trie would not pay.
 *
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`, which Node reports for IPv4 peers of dual-stack sockets) is
 * treated as the IPv4 address everywhere: addresses are unmapped before matching, and IPv6 networks that
 * cover mapped space (`::ffff:10.0.0.0/104`, `::/0`) are mirrored into the IPv4 list at build time.
 */

export type IpFamily = 0 | 4 | 6

export type CidrParseResult =
  | {
      readonly ok: true
      readonly family: 4 | 6
      readonly prefix: number
      /** The network address with host bits cleared, canonical text (RFC 5952 for IPv6). */
      readonly network: string
      /** `${network}/${prefix}`. */
      readonly cidr: string
    }
  | { readonly ok: false; readonly reason: string }

/** Scratch for IPv6 parsing: 8 groups of 16 bits. Module level so parsing allocates nothing. */
const groups = new Uint16Array(8)
/** Scratch for IPv6 parsing: the same address as 4 int32 words (big-endian order). */
const words = new Int32Array(4)

/**
 * Parses dotted-quad IPv4 in `s[start, end)`. Returns the address as a uint32 (0 .. 2^32-1), or -1 when the
 * text is not exactly four decimal octets 0-255 without leading zeros (`010.0.0.1` is ambiguous, rejected).
 */
function parseV4(s: string, start: number, end: number): number {
  let acc = 0
  let octet = 0
  let digits = 0
  let dots = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return -1
      octet = octet * 10 + (c - 48)
      if (octet > 255) return -1
      digits++
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1
      acc = acc * 256 + octet
      octet = 0
      digits = 0
      dots++
    } else {
      return -1
    }
  }
  if (digits === 0 || dots !== 3) return -1
  return acc * 256 + octet
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/**
 * Parses IPv6 text in `s[start, end)` (RFC 4291 §2.2 forms, including `::` and a trailing dotted IPv4)
 * into the module-level `words`. Returns false on anything else. No zone index: callers cut at `%`.
 */
function parseV6(s: string, start: number, end: number): boolean {
  let n = 0
  let gap = -1
  let i = start
  if (end - start < 2) return false
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false
    gap = 0
    i += 2
  }
  while (i < end) {
    let value = 0
    let digits = 0
    let j = i
    while (j < end) {
      const h = hexValue(s.charCodeAt(j))
      if (h < 0) break
      if (++digits > 4) return false
      value = value * 16 + h
      j++
    }
    if (j < end && s.charCodeAt(j) === 46) {
      // Embedded IPv4 must be the last 32 bits.
      if (n > 6) return false
      const v4 = parseV4(s, i, end)
      if (v4 < 0) return false
      groups[n++] = v4 >>> 16
      groups[n++] = v4 & 0xffff
      i = end
      break
    }
    if (digits === 0 || n === 8) return false
    groups[n++] = value
    i = j
    if (i === end) break
    if (s.charCodeAt(i) !== 58) return false
    i++
    if (i === end) return false
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return false
      gap = n
      i++
    }
  }
  if (gap >= 0) {
    if (n > 7) return false
    const move = n - gap
    for (let k = 1; k <= move; k++) groups[8 - k] = groups[n - k] ?? 0
    for (let k = gap; k < 8 - move; k++) groups[k] = 0
  } else if (n !== 8) {
    return false
  }
  for (let w = 0; w < 4; w++) words[w] = ((groups[2 * w] ?? 0) << 16) | (groups[2 * w + 1] ?? 0)
  return true
}

/** Index of `%` (zone index start) in an IPv6 literal, or the string length. */
function zoneStart(s: string): number {
  const z = s.indexOf('%')
  return z < 0 ? s.length : z
}

/** True when `words` holds an IPv4-mapped address `::ffff:a.b.c.d`. */
function wordsAreMapped(): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff
}

/** `::ffff:` prefix, case-insensitive, followed by at least one character. */
function hasMappedPrefix(s: string): boolean {
  return (
    s.length > 7 &&
    s.charCodeAt(0) === 58 &&
    s.charCodeAt(1) === 58 &&
    (s.charCodeAt(2) | 0x20) === 102 &&
    (s.charCodeAt(3) | 0x20) === 102 &&
    (s.charCodeAt(4) | 0x20) === 102 &&
    (s.charCodeAt(5) | 0x20) === 102 &&
    s.charCodeAt(6) === 58
  )
}

/** 0 when `s` is not an IP literal, else 4 or 6. IPv6 may carry a zone (`fe80::1%eth0`). No allocation. */
export function ipFamily(s: string): IpFamily {
  if (parseV4(s, 0, s.length) >= 0) return 4
  const zone = zoneStart(s)
  if (zone === s.length - 1) return 0 // `%` with an empty zone
  return parseV6(s, 0, zone) ? 6 : 0
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; any other string is returned as is. Allocation-free for non-mapped input. */
export function unmapIPv4(ip: string): string {
  return hasMappedPrefix(ip) && parseV4(ip, 7, ip.length) >= 0 ? ip.slice(7) : ip
}

function maskV4(prefix: number): number {
  return prefix === 0 ? 0 : (-1 << (32 - prefix)) | 0
}

/** Mask for word `w` (0..3) of an IPv6 prefix. */
function maskWord(prefix: number, w: number): number {
  const bits = prefix - 32 * w
  if (bits <= 0) return 0
  if (bits >= 32) return -1
  return (-1 << (32 - bits)) | 0
}

function formatV4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`
}

/** RFC 5952 text of the address in `words`; IPv4-mapped addresses keep the dotted tail. */
function formatWords(): string {
  if (wordsAreMapped()) return `::ffff:${formatV4(words[3] ?? 0)}`
  const g: number[] = []
  for (let w = 0; w < 4; w++) {
    const v = words[w] ?? 0
    g.push((v >>> 16) & 0xffff, v & 0xffff)
  }
  // Longest run of at least two zero groups, the first one on a tie.
  let bestStart = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (from: number, to: number): string => {
    let out = ''
    for (let i = from; i < to; i++) out += (i > from ? ':' : '') + (g[i] ?? 0).toString(16)
    return out
  }
  if (bestStart < 0) return hex(0, 8)
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`
}

/** Strict decimal 0..max without leading zeros; -1 otherwise. */
function parsePrefix(s: string, max: number): number {
  if (s.length === 0 || s.length > 3 || (s.length > 1 && s.charCodeAt(0) === 48)) return -1
  let v = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    v = v * 10 + (c - 48)
  }
  return v <= max ? v : -1
}

/**
 * Parses `a.b.c.d/n`, `x:y::z/n` or a bare address (→ /32 or /128). Host bits may be set (`10.1.2.3/8`
 * means 10.0.0.0/8, as Go's net.ParseCIDR does); the canonical network is reported back. Zone indexes are
 * rejected: a trusted network is not tied to an interface.
 */
export function parseCidr(input: string): CidrParseResult {
  const s = input.trim()
  if (s === '') return { ok: false, reason: 'empty' }
  const slash = s.indexOf('/')
  const addr = slash < 0 ? s : s.slice(0, slash)
  if (addr.includes('%')) return { ok: false, reason: `zone index not allowed: ${JSON.stringify(input)}` }
  const v4 = parseV4(addr, 0, addr.length)
  const family = v4 >= 0 ? 4 : parseV6(addr, 0, addr.length) ? 6 : 0
  if (family === 0) return { ok: false, reason: `not an IP address: ${JSON.stringify(addr)}` }
  const max = family === 4 ? 32 : 128
  const prefix = slash < 0 ? max : parsePrefix(s.slice(slash + 1), max)
  if (prefix < 0) return { ok: false, reason: `prefix length must be 0..${max}: ${JSON.stringify(input)}` }
  let network: string
  if (family === 4) {
    network = formatV4((v4 & maskV4(prefix)) >>> 0)
  } else {
    for (let w = 0; w < 4; w++) words[w] = (words[w] ?? 0) & maskWord(prefix, w)
    network = formatWords()
  }
  return { ok: true, family, prefix, network, cidr: `${network}/${prefix}` }
}

/** The IPv4 mapped range ::ffff:0:0/96 as words. */
const MAPPED_W2 = 0xffff

/**
 * An immutable set of networks. Build once per config (the constructor throws `RangeError` on an invalid
 * entry: validate user input with `parseCidr` first), then call `has` per request.
 */
export class CidrSet {
  /** Number of entries given to the constructor. */
  readonly size: number
  readonly #v4Net: Int32Array
  readonly #v4Mask: Int32Array
  readonly #v4Count: number
  /** 4 words per network. */
  readonly #v6Net: Int32Array
  readonly #v6Mask: Int32Array
  readonly #v6Count: number

  constructor(cidrs: readonly string[]) {
    const v4Net: number[] = []
    const v4Mask: number[] = []
    const v6Net: number[] = []
    const v6Mask: number[] = []
    for (let i = 0; i < cidrs.length; i++) {
      const text = cidrs[i] ?? ''
      const parsed = parseCidr(text)
      if (!parsed.ok) throw new RangeError(`invalid CIDR ${JSON.stringify(text)}: ${parsed.reason}`)
      if (parsed.family === 4) {
        const mask = maskV4(parsed.prefix)
        v4Net.push(parseV4(parsed.network, 0, parsed.network.length) & mask)
        v4Mask.push(mask)
        continue
      }
      parseV6(parsed.network, 0, parsed.network.length)
      const p = parsed.prefix
      if (p >= 96 && wordsAreMapped()) {
        // ::ffff:a.b.c.d/n is the IPv4 network a.b.c.d/(n-96); mapped addresses are matched as IPv4.
        const mask = maskV4(p - 96)
        v4Net.push((words[3] ?? 0) & mask)
        v4Mask.push(mask)
        continue
      }
      let coversMapped = true
      for (let w = 0; w < 4; w++) {
        const m = maskWord(p, w)
        const mappedWord = w === 2 ? MAPPED_W2 : 0
        v6Net.push((words[w] ?? 0) & m)
        v6Mask.push(m)
        if (w < 3 && ((words[w] ?? 0) & m) !== (mappedWord & m)) coversMapped = false
      }
      if (coversMapped) {
        // A network wider than /96 that contains ::ffff:0:0/96 contains every IPv4 address.
        v4Net.push(0)
        v4Mask.push(0)
      }
    }
    this.size = cidrs.length
    this.#v4Net = Int32Array.from(v4Net)
    this.#v4Mask = Int32Array.from(v4Mask)
    this.#v4Count = v4Net.length
    this.#v6Net = Int32Array.from(v6Net)
    this.#v6Mask = Int32Array.from(v6Mask)
    this.#v6Count = v6Net.length / 4
  }

  /** True when `ip` (IPv4, IPv6 with optional zone, or IPv4-mapped IPv6) is in one of the networks. */
  has(ip: string): boolean {
    if (this.size === 0) return false
    let v4 = parseV4(ip, 0, ip.length)
    if (v4 < 0 && hasMappedPrefix(ip)) v4 = parseV4(ip, 7, ip.length)
    if (v4 < 0) {
      if (!parseV6(ip, 0, zoneStart(ip))) return false
      if (wordsAreMapped()) {
        v4 = words[3] ?? 0
      } else {
        return this.#hasV6()
      }
    }
    const nets = this.#v4Net
    const masks = this.#v4Mask
    for (let i = 0; i < this.#v4Count; i++) {
      const m = masks[i] ?? 0
      if ((v4 & m) === nets[i]) return true
    }
    return false
  }

  /** Matches the address currently in `words`. */
  #hasV6(): boolean {
    const nets = this.#v6Net
    const masks = this.#v6Mask
    const w0 = words[0] ?? 0
    const w1 = words[1] ?? 0
    const w2 = words[2] ?? 0
    const w3 = words[3] ?? 0
    for (let i = 0, b = 0; i < this.#v6Count; i++, b += 4) {
      if (
        (w0 & (masks[b] ?? 0)) === nets[b] &&
        (w1 & (masks[b + 1] ?? 0)) === nets[b + 1] &&
        (w2 & (masks[b + 2] ?? 0)) === nets[b + 2] &&
        (w3 & (masks[b + 3] ?? 0)) === nets[b + 3]
      ) {
        return true
      }
    }
    return false
  }
}
