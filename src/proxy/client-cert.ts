/**
 * mTLS on an HTTPS listener (`listeners[].tls.client_auth`): the verdict on the certificate a client sent
 * (tls-accept.ts asks for it and refuses the connection on a bad one), and the header that carries the verified
 * certificate's subject upstream (`client_header`; headers.ts `buildUpstreamHeaders` adds it and always drops a
 * client-sent one).
 *
 * OpenSSL verifies the chain against the CA during the handshake; lb reads its verdict (src/net/node-internals.ts
 * `tlsVerifyError`). Without that internal the chain is checked here with X509Certificate: each certificate's
 * dates, and the signatures up to a certificate of the CA file, through intermediates the client sent.
 */
import { X509Certificate } from 'node:crypto'
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { tlsVerifyError } from '../net/node-internals.js'

/** A listener's client-certificate policy, built once per certificate set (tls-contexts.ts). */
export interface ClientAuth {
  readonly required: boolean
  /** The CA file's certificates (for the public-API fallback). */
  readonly cas: readonly X509Certificate[]
  /** `client_header` as configured ('' = none). */
  readonly header: string
}

/** The header and value a connection sends upstream with every request. */
interface CertHeader {
  readonly name: string
  readonly value: string
}

/** Sockets whose client sent a verified certificate, with the header for it (read once per connection). */
const verified = new WeakMap<Socket, CertHeader>()

/** The certificates of a PEM bundle. */
export function parseCaBundle(pem: string): X509Certificate[] {
  const out: X509Certificate[] = []
  for (const block of pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [])
    out.push(new X509Certificate(block))
  return out
}

/**
 * After the handshake: false when the connection must be refused (a certificate the CA does not verify, or none
 * while one is required); true otherwise, and then a verified certificate's header is remembered for the socket.
 */
export function acceptClientCertificate(tls: TLSSocket, auth: ClientAuth, now: number): boolean {
  const peer = tls.getPeerX509Certificate()
  if (peer === undefined) return !auth.required
  const verdict = tlsVerifyError(tls)
  const ok = verdict === undefined ? chainVerifies(peer, auth.cas, now) : verdict === null
  if (!ok) return false
  if (auth.header !== '') verified.set(tls, { name: auth.header, value: subjectDn(peer) })
  return true
}

/** Fill `fwd` with the client-certificate header of `socket`'s connection (none: both ''). */
export function clientCertInto(fwd: { certHeader: string; certValue: string }, socket: Socket): void {
  const h = verified.get(socket)
  fwd.certHeader = h === undefined ? '' : h.name
  fwd.certValue = h === undefined ? '' : h.value
}

/**
 * The subject as an RFC 2253 string, most specific first (`CN=client,O=Example\, Inc`): nginx's
 * `$ssl_client_s_dn`, haproxy's `ssl_c_s_dn(,,rfc2253)`. Control characters become spaces (a header value).
 */
export function subjectDn(x509: X509Certificate): string {
  // Node gives one RDN per line, least specific first, with RFC 2253 escapes.
  const dn = x509.subject.split('\n').reverse().join(',')
  let out = ''
  for (let i = 0; i < dn.length; i++) {
    const c = dn.charCodeAt(i)
    out += c < 32 || c === 127 ? ' ' : dn[i]
  }
  return out
}

function validAt(x: X509Certificate, now: number): boolean {
  return Date.parse(x.validFrom) <= now && now <= Date.parse(x.validTo)
}

/** The public-API check: dates, and signatures up to a CA certificate (at most 8 intermediates). */
function chainVerifies(leaf: X509Certificate, cas: readonly X509Certificate[], now: number): boolean {
  let cert = leaf
  for (let depth = 0; depth < 9; depth++) {
    if (!validAt(cert, now)) return false
    for (const ca of cas) {
      if (cert.checkIssued(ca) && cert.verify(ca.publicKey) && validAt(ca, now)) return true
    }
    const up = cert.issuerCertificate
    if (up === undefined || up.fingerprint256 === cert.fingerprint256 || !up.ca) return false
    if (!cert.checkIssued(up) || !cert.verify(up.publicKey)) return false
    cert = up
  }
  return false
}
