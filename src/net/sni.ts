/**
 * Read the server name (SNI) from a TLS ClientHello without consuming or altering it: the TCP listener peeks
 * the first bytes, routes on the name, and forwards every byte untouched (TLS passthrough). Pure.
 *
 * Only the first TLS record is read (the ClientHello fits one record in practice: a record holds 16 KiB);
 * a hello fragmented across records is reported as `none` and routed to the port's default.
 */

export type SniParse =
  | { readonly status: 'incomplete' }
  /** Not TLS, or TLS without a server_name extension. */
  | { readonly status: 'none'; readonly reason: string }
  | { readonly status: 'ok'; readonly serverName: string }

const INCOMPLETE: SniParse = { status: 'incomplete' }
const MAX_RECORD = 16_384 + 5

function none(reason: string): SniParse {
  return { status: 'none', reason }
}

export function parseClientHelloSni(buf: Buffer): SniParse {
  if (buf.length < 5) return buf.length > 0 && buf[0] !== 0x16 ? none('not a TLS handshake') : INCOMPLETE
  if (buf[0] !== 0x16) return none('not a TLS handshake')
  if (buf[1] !== 0x03) return none('not TLS')
  const recLen = buf.readUInt16BE(3)
  const end = 5 + recLen
  if (end > MAX_RECORD) return none('TLS record too long')
  if (buf.length < end) return INCOMPLETE
  let p = 5
  if (buf[p] !== 0x01) return none('not a ClientHello')
  const hsLen = ((buf[p + 1] as number) << 16) | ((buf[p + 2] as number) << 8) | (buf[p + 3] as number)
  p += 4
  const hsEnd = Math.min(end, p + hsLen)
  p += 2 + 32 // client version, random
  if (p + 1 > hsEnd) return none('truncated ClientHello')
  p += 1 + (buf[p] as number) // session id
  if (p + 2 > hsEnd) return none('truncated ClientHello')
  p += 2 + buf.readUInt16BE(p) // cipher suites
  if (p + 1 > hsEnd) return none('truncated ClientHello')
  p += 1 + (buf[p] as number) // compression methods
  if (p + 2 > hsEnd) return none('no extensions')
  const extEnd = Math.min(hsEnd, p + 2 + buf.readUInt16BE(p))
  p += 2
  while (p + 4 <= extEnd) {
    const type = buf.readUInt16BE(p)
    const len = buf.readUInt16BE(p + 2)
    p += 4
    if (p + len > extEnd) return none('truncated extension')
    if (type === 0) {
      // server_name: list length, then entries of (type 1 byte, length 2 bytes, name).
      let q = p + 2
      const listEnd = Math.min(p + len, p + 2 + buf.readUInt16BE(p))
      while (q + 3 <= listEnd) {
        const nameType = buf[q] as number
        const nameLen = buf.readUInt16BE(q + 1)
        q += 3
        if (q + nameLen > listEnd) return none('truncated server_name')
        if (nameType === 0)
          return { status: 'ok', serverName: buf.toString('latin1', q, q + nameLen).toLowerCase() }
        q += nameLen
      }
      return none('no host_name in server_name')
    }
    p += len
  }
  return none('no server_name extension')
}
