/**
 * The effective config for `/api/config`, with every secret replaced by `[redacted]`: the admin token, the
 * Consul token, TLS private keys, and any field named like a secret (token, key, password, secret,
 * authorization) or an Authorization/Cookie header value anywhere in the tree. Empty strings stay empty, so an
 * operator can still see that a secret is NOT set. Pure.
 */
export const REDACTED = '[redacted]'

const secretKey = /^(token|key|password|passwd|secret|authorization|cookie|privatekey|private_key)$/i
const secretSuffix = /(Token|Password|Secret|PrivateKey)$/

function isSecretKey(key: string): boolean {
  return secretKey.test(key) || secretSuffix.test(key)
}

/** A deep copy of `value` with secrets redacted. Maps become objects, so the result is JSON-ready. */
export function redactSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return value !== '' && isSecretKey(key) ? REDACTED : value
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, key))
  const entries = value instanceof Map ? [...(value as Map<unknown, unknown>)] : Object.entries(value)
  const out: Record<string, unknown> = {}
  for (const [k, v] of entries) {
    const name = String(k)
    // Header maps: `{ authorization: 'Bearer x' }` under any key.
    out[name] = redactSecrets(v, name)
  }
  return out
}
