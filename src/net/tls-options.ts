/**
 * TLS protocol settings shared by the config checks and the HTTPS listeners (src/proxy/tls-contexts.ts): the
 * defaults are Mozilla's "intermediate" profile (TLS 1.2 and 1.3, forward-secret AEAD ciphers only).
 */
import { createSecureContext } from 'node:tls'

/** Mozilla "intermediate" TLS 1.2 ciphers (TLS 1.3 uses OpenSSL's suites, all of which it accepts). */
export const intermediateCiphers = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':')

/** Why OpenSSL refuses a cipher list (no cipher in it that it knows), or undefined when it takes it. */
export function cipherListProblem(ciphers: string): string | undefined {
  try {
    createSecureContext({ ciphers })
    return undefined
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}
