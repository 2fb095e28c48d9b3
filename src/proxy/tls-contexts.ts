/**
 * An HTTPS listener's certificates as OpenSSL contexts, chosen per handshake by the ClientHello's server name:
 * the exact name, then `*.parent` for a name one label below it, then the listener's first certificate.
 *
 * Certificates that serve the same names share one context: an RSA and an ECDSA certificate for a name are both
 * offered, and OpenSSL picks the one the client's signature algorithms allow (the context is chosen before the
 * TLSSocket is made, tls-accept.ts).
 *
 * The worker reads the files itself (the loader checked them, src/config/sections/tls.ts); a file that changed
 * in between and no longer parses fails `buildTlsContexts`, and the listener keeps its previous contexts.
 * Certificates from Consul KV (`consul_kv`) come with their PEM text in the config (src/process/cert-kv.ts).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls'
import type { DeepReadonly, ListenerTlsConfig } from '../config/types.js'
import { parseCaBundle, type ClientAuth } from './client-cert.js'

export interface TlsContexts {
  /** Server name (lower-case) → context. */
  readonly exact: ReadonlyMap<string, SecureContext>
  /** `example.com` for a `*.example.com` certificate → context. */
  readonly wildcard: ReadonlyMap<string, SecureContext>
  /**
   * The first certificate's context: no server name, or no certificate for it. null while the listener has no
   * certificate (only `consul_kv`, not read yet): every handshake is refused.
   */
  readonly fallback: SecureContext | null
  /** `client_auth` (mTLS): ask for a client certificate; null = none asked. */
  readonly clientAuth: ClientAuth | null
  /** `strict_sni`: a name no certificate covers gets no certificate (`contextFor` returns null). */
  readonly strict: boolean
}

/**
 * Read the certificate files of `tls` and build its contexts, all with the session ticket key `ticketKeys`
 * (ticket-keys.ts: the same in every worker); throws (naming the file) when one fails.
 */
export function buildTlsContexts(tls: DeepReadonly<ListenerTlsConfig>, ticketKeys: Buffer): TlsContexts {
  const options: SecureContextOptions = {
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ciphers: tls.ciphers,
    honorCipherOrder: true,
    ticketKeys,
  }
  const auth = tls.clientAuth
  if (auth !== null) options.ca = auth.ca
  // Certificates with the same names go in one context, in configuration order.
  const groups = new Map<string, { names: readonly string[]; cert: string[]; key: string[] }>()
  for (const c of tls.certificates) {
    const id = [...c.names].sort().join(' ')
    let g = groups.get(id)
    if (g === undefined) {
      g = { names: c.names, cert: [], key: [] }
      groups.set(id, g)
    }
    g.cert.push(c.pem?.cert ?? readPem(c.certFile))
    g.key.push(c.pem?.privateKey ?? readPem(c.keyFile))
  }
  const exact = new Map<string, SecureContext>()
  const wildcard = new Map<string, SecureContext>()
  let fallback: SecureContext | null = null
  for (const g of groups.values()) {
    let ctx: SecureContext
    try {
      // The session id context ties TLS 1.2 sessions to these certificates and CA (OpenSSL refuses to resume
      // without one when it asks for client certificates); the same in every worker.
      const sessionIdContext = createHash('sha256')
        .update(g.names.join(' ') + '\n' + (auth?.ca ?? ''))
        .digest('hex')
        .slice(0, 32)
      ctx = createSecureContext({ ...options, cert: g.cert, key: g.key, sessionIdContext })
    } catch (err) {
      throw new Error(`TLS certificate for ${g.names.join(', ')}: ${(err as Error).message}`, { cause: err })
    }
    fallback ??= ctx
    for (const name of g.names) {
      if (name.startsWith('*.')) {
        if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), ctx)
      } else if (!exact.has(name)) {
        exact.set(name, ctx)
      }
    }
  }
  const clientAuth =
    auth === null ? null : { required: auth.required, cas: parseCaBundle(auth.ca), header: tls.clientHeader }
  return { exact, wildcard, fallback, clientAuth, strict: tls.strictSni }
}

/**
 * The context for a ClientHello's server name ('' when the client sent none); null with `strict_sni` when no
 * certificate covers the name (or there is none).
 */
export function contextFor(t: TlsContexts, serverName: string): SecureContext | null {
  const fallback = t.strict ? null : t.fallback
  if (serverName === '') return fallback
  const name = serverName.toLowerCase()
  const hit = t.exact.get(name)
  if (hit !== undefined) return hit
  const dot = name.indexOf('.')
  if (dot > 0) {
    const w = t.wildcard.get(name.slice(dot + 1))
    if (w !== undefined) return w
  }
  return fallback
}

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
    })
  }
}
