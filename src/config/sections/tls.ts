/**
 * `listeners[].tls`: an HTTPS listener's certificates and protocol settings.
 *
 * The loader has read every `cert_file`/`key_file` and listed every `directory` (load.ts); here each pair is
 * checked (a PEM certificate, a PEM key, the key matches the certificate) and described by the names it serves.
 * The config keeps the file paths: each worker reads the files again when it opens or refreshes a listener
 * (src/proxy/tls-contexts.ts). An expired certificate is not an error (`lb check` warns: `certificateWarnings`).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import type {
  ListenerTlsConfig,
  TlsCertificateConfig,
  TlsClientAuthConfig,
  TlsVersion,
  Config,
} from '../types.js'
import { cipherListProblem, intermediateCiphers } from '../../net/tls-options.js'
import { portStart } from '../../route/host.js'
import {
  type Checker,
  type Slot,
  section,
  readList,
  readString,
  readBool,
  readChecked,
  readDuration,
  required,
  tokenRe,
  ok,
  fail,
  expand,
  describe,
} from '../reader.js'

export const tlsKeys = [
  'certificates',
  'directory',
  'min_version',
  'max_version',
  'ciphers',
  'client_auth',
  'client_header',
  'ticket_rotation',
  'strict_sni',
  'refresh',
  'consul_kv',
] as const
export const tlsCertificateKeys = ['cert_file', 'key_file'] as const
export const tlsClientAuthKeys = ['ca', 'required'] as const

export const tlsDefaults = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: intermediateCiphers,
  clientAuth: null,
  clientHeader: '',
  ticketRotation: 12 * 3_600_000,
  strictSni: false,
  directory: '',
  refresh: 30_000,
  consulKv: '',
} as const satisfies Omit<ListenerTlsConfig, 'certificates'>

const versions: ReadonlyMap<string, TlsVersion | null> = new Map([
  ['tls1.2', 'TLSv1.2'],
  ['tlsv1.2', 'TLSv1.2'],
  ['1.2', 'TLSv1.2'],
  ['tls1.3', 'TLSv1.3'],
  ['tlsv1.3', 'TLSv1.3'],
  ['1.3', 'TLSv1.3'],
  ['tls1.0', null],
  ['tlsv1', null],
  ['tlsv1.0', null],
  ['1.0', null],
  ['tls1.1', null],
  ['tlsv1.1', null],
  ['1.1', null],
  ['ssl3', null],
  ['sslv3', null],
])

/** The `tls` section of listener `listenerPath`, or undefined when absent or broken (problems reported). */
export function readListenerTls(c: Checker, slot: Slot | undefined): ListenerTlsConfig | undefined {
  const f = section(c, slot, tlsKeys)
  if (f === undefined || slot === undefined) return undefined
  const certificates: TlsCertificateConfig[] = []
  const problems = c.problems.length
  for (const item of readList(c, f.get('certificates')) ?? []) {
    const cf = section(c, item, tlsCertificateKeys)
    if (cf === undefined) continue
    const certSlot = cf.get('cert_file')
    const keySlot = cf.get('key_file')
    if (certSlot === undefined || certSlot.value === null) c.add(`${item.path}.cert_file`, 'required')
    if (keySlot === undefined || keySlot.value === null) c.add(`${item.path}.key_file`, 'required')
    if (certSlot === undefined || keySlot === undefined) continue
    const certRef = readRef(c, certSlot)
    const keyRef = readRef(c, keySlot)
    if (certRef === undefined || keyRef === undefined) continue
    const cert = checkPair(c, certRef, certSlot.path, keyRef, keySlot.path, item.path)
    if (cert !== undefined) certificates.push(cert)
  }
  const dirSlot = f.get('directory')
  let directory = ''
  if (dirSlot !== undefined && dirSlot.value !== null) directory = readDirectory(c, dirSlot, certificates)
  const kvSlot = f.get('consul_kv')
  const consulKv = readChecked(c, kvSlot, tlsDefaults.consulKv, (s) =>
    /^[^/\s][^\s]*$/.test(s) && !s.includes('//')
      ? ok(s.replace(/\/+$/, ''))
      : fail(`expected a Consul KV prefix like lb/certs, got "${s}"`),
  )
  if (certificates.length === 0 && consulKv === '' && c.problems.length === problems)
    c.add(
      slot.path,
      'needs at least one certificate: `certificates`, a `directory` of name.crt/name.key pairs or `consul_kv`',
    )
  const minVersion = readVersion(c, f.get('min_version'), tlsDefaults.minVersion)
  const maxVersion = readVersion(c, f.get('max_version'), tlsDefaults.maxVersion)
  const maxSlot = f.get('max_version')
  if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2')
    c.add(maxSlot?.path ?? `${slot.path}.max_version`, 'max_version TLS1.2 is below min_version TLS1.3')
  const ciphersSlot = f.get('ciphers')
  const ciphers = readString(c, ciphersSlot, tlsDefaults.ciphers)
  if (ciphersSlot !== undefined && ciphers !== tlsDefaults.ciphers) {
    const why = cipherListProblem(ciphers)
    if (why !== undefined) c.add(ciphersSlot.path, `OpenSSL refuses the cipher list: ${why}`)
  }
  const clientAuth = readClientAuth(c, f.get('client_auth'))
  const headerSlot = f.get('client_header')
  const clientHeader =
    readChecked(c, headerSlot, tlsDefaults.clientHeader, (s) =>
      s === '' || tokenRe.test(s) ? ok(s) : fail(`"${s}" is not a valid header name`),
    ) ?? ''
  if (clientHeader !== '' && clientAuth === null && headerSlot !== undefined)
    c.add(headerSlot.path, 'needs client_auth: without it no client certificate is asked for')
  const refresh = readDuration(c, f.get('refresh'), tlsDefaults.refresh, 0)
  if (refresh > 86_400_000) c.add(`${slot.path}.refresh`, 'at most 24h (or 0: only on reload)')
  const ticketRotation = readDuration(c, f.get('ticket_rotation'), tlsDefaults.ticketRotation, 0)
  if (ticketRotation > 0 && ticketRotation < 60_000)
    c.add(`${slot.path}.ticket_rotation`, 'at least 1m (or 0: never rotate)')
  else if (ticketRotation > 7 * 86_400_000)
    c.add(`${slot.path}.ticket_rotation`, 'at most 168h (or 0: never rotate)')
  const strictSni = readBool(c, f.get('strict_sni'), tlsDefaults.strictSni)
  return {
    certificates,
    minVersion,
    maxVersion,
    ciphers,
    clientAuth,
    clientHeader,
    ticketRotation,
    strictSni,
    directory,
    refresh,
    consulKv: consulKv ?? '',
  }
}

/** `client_auth`: the CA certificates (PEM, usually `ca_file`) and whether a certificate is required. */
function readClientAuth(c: Checker, slot: Slot | undefined): TlsClientAuthConfig | null {
  const f = section(c, slot, tlsClientAuthKeys)
  if (f === undefined || slot === undefined) return null
  const caSlot = required(c, f, slot, 'ca')
  const ca = readString(c, caSlot, '')
  const req = readBool(c, f.get('required'), true)
  if (caSlot === undefined || ca === '') {
    if (caSlot !== undefined) c.add(caSlot.path, 'expected PEM CA certificates (or ca_file)')
    return null
  }
  const blocks = ca.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0) {
    c.add(caSlot.path, 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it')
    return null
  }
  for (const pem of blocks) {
    try {
      new X509Certificate(pem)
    } catch (err) {
      c.add(caSlot.path, `not a PEM certificate (${message(err)})`)
      return null
    }
  }
  return { ca, required: req }
}

/** `cert_file`/`key_file` as configured (after `${VAR}`): the key of its contents in `c.files`. */
function readRef(c: Checker, slot: Slot): string | undefined {
  if (typeof slot.value !== 'string' || slot.value === '') {
    c.add(slot.path, `expected a file path, got ${describe(slot)}`)
    return undefined
  }
  return expand(c, slot, slot.value)?.value
}

/** Relative paths are relative to the config file's directory (as load.ts reads them). */
function absolute(c: Checker, ref: string): string {
  return isAbsolute(ref) ? ref : resolve(dirname(c.file), ref)
}

/** The contents of file `ref` (read by the loader), or a problem at `path`. */
function contents(c: Checker, ref: string, path: string): string | undefined {
  const text = c.files.get(ref)
  if (text === undefined) c.add(path, `file "${ref}" was not read`)
  else if (text instanceof Error) c.add(path, text.message)
  else return text
  return undefined
}

/** One certificate and its key: both parse, the key is the certificate's. */
function checkPair(
  c: Checker,
  certRef: string,
  certPath: string,
  keyRef: string,
  keyPath: string,
  source: string,
): TlsCertificateConfig | undefined {
  const certPem = contents(c, certRef, certPath)
  const keyPem = contents(c, keyRef, keyPath)
  if (certPem === undefined || keyPem === undefined) return undefined
  const certFile = absolute(c, certRef)
  const keyFile = absolute(c, keyRef)
  const r = checkPem(certPem, keyPem, certFile, keyFile)
  if ('problem' in r) {
    c.add(r.inKey ? keyPath : certPath, r.problem)
    return undefined
  }
  return { certFile, keyFile, source, ...r }
}

/** What `checkPem` finds out about a good pair. */
export interface PemFacts {
  names: string[]
  fingerprint: string
  notAfter: number
}

/**
 * A PEM certificate (chain after the leaf) and its unencrypted PEM key, named `certName`/`keyName` in
 * problems: the names it serves, or what is wrong (`inKey`: the problem is the key's).
 */
export function checkPem(
  certPem: string,
  keyPem: string,
  certName: string,
  keyName: string,
): PemFacts | { problem: string; inKey: boolean } {
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(certPem)
  } catch (err) {
    return { problem: `${certName}: not a PEM certificate (${message(err)})`, inKey: false }
  }
  let key: KeyObject
  try {
    key = createPrivateKey(keyPem)
  } catch (err) {
    const why = message(err)
    const hint = /passphrase/i.test(why) ? 'an encrypted key (lb takes unencrypted keys)' : why
    return { problem: `${keyName}: not a PEM private key (${hint})`, inKey: true }
  }
  if (!x509.checkPrivateKey(key))
    return { problem: `${keyName}: the key does not match the certificate in ${certName}`, inKey: true }
  const names = certificateNames(x509)
  if (names.length === 0)
    return {
      problem: `${certName}: the certificate names no host (no DNS subjectAltName, no CN)`,
      inKey: false,
    }
  return { names, fingerprint: x509.fingerprint256, notAfter: Math.floor(Date.parse(x509.validTo) / 1000) }
}

/** `directory`: every `name.crt` with its `name.key`, in name order. Returns its absolute path ('' if broken). */
function readDirectory(c: Checker, slot: Slot, out: TlsCertificateConfig[]): string {
  const ref = readRef(c, slot)
  if (ref === undefined) return ''
  const listing = c.dirs.get(ref)
  if (listing === undefined) {
    c.add(slot.path, `directory "${ref}" was not listed`)
    return ''
  }
  if (listing instanceof Error) {
    c.add(slot.path, listing.message)
    return ''
  }
  const names = new Set(listing)
  let pairs = 0
  for (const name of [...listing].sort()) {
    if (!name.endsWith('.crt')) continue
    const base = name.slice(0, -'.crt'.length)
    if (!names.has(base + '.key')) {
      c.add(slot.path, `${join(absolute(c, ref), name)} has no ${base}.key next to it`)
      continue
    }
    pairs++
    const cert = checkPair(c, join(ref, name), slot.path, join(ref, base + '.key'), slot.path, slot.path)
    if (cert !== undefined) out.push(cert)
  }
  if (pairs === 0) c.add(slot.path, `${absolute(c, ref)}: no name.crt/name.key pairs in the directory`)
  return absolute(c, ref)
}

/** The files `directory` names the loader must read: `name.crt` and `name.key` of each pair in `listing`. */
export function directoryFiles(dir: string, listing: readonly string[]): string[] {
  const names = new Set(listing)
  const out: string[] = []
  for (const name of listing) {
    if (!name.endsWith('.crt')) continue
    const key = name.slice(0, -'.crt'.length) + '.key'
    if (names.has(key)) out.push(join(dir, name), join(dir, key))
  }
  return out
}

function readVersion(c: Checker, slot: Slot | undefined, fallback: TlsVersion): TlsVersion {
  const s = readString(c, slot, fallback)
  if (slot === undefined || s === fallback) return fallback
  const v = versions.get(s.toLowerCase())
  if (v === undefined) c.add(slot.path, `expected TLS1.2 or TLS1.3, got "${s}"`)
  else if (v === null) c.add(slot.path, `"${s}" is not accepted: lb speaks TLS1.2 and TLS1.3 only`)
  return v ?? fallback
}

/** DNS names from the subjectAltName, else the subject's CN; lower-cased, deduplicated. */
export function certificateNames(x509: X509Certificate): string[] {
  const out: string[] = []
  const san = x509.subjectAltName
  if (san !== undefined) {
    for (const part of san.split(', ')) {
      if (part.startsWith('DNS:')) out.push(part.slice(4).toLowerCase())
    }
  }
  if (out.length === 0) {
    for (const line of x509.subject.split('\n')) {
      if (line.startsWith('CN=')) out.push(line.slice(3).toLowerCase())
    }
  }
  return [...new Set(out)]
}

/**
 * `lb check` warnings (also logged at start and reload): certificates expired at `now` (ms) or within `soon` ms
 * of it, then static routes whose host no certificate of an HTTPS listener covers (`coverageWarnings`).
 */
export function certificateWarnings(config: Config, now: number, soon = 14 * 86_400_000): string[] {
  const out: string[] = []
  for (const l of config.listeners) {
    if (l.tls === undefined) continue
    for (const cert of l.tls.certificates) {
      const left = cert.notAfter * 1000 - now
      const when = new Date(cert.notAfter * 1000).toISOString()
      if (left <= 0) out.push(`${cert.source}: ${cert.certFile}: the certificate expired at ${when}`)
      else if (left < soon) out.push(`${cert.source}: ${cert.certFile}: the certificate expires at ${when}`)
    }
  }
  out.push(...coverageWarnings(config))
  return out
}

/**
 * Static routes (`routes[]`) whose host no certificate of any HTTPS listener covers, when there is one: such a
 * client gets the listener's first certificate (a name mismatch), or with `strict_sni` no handshake. Routes for
 * `host:80` match plain listeners only and are skipped, as is the catch-all host.
 */
export function coverageWarnings(config: Config): string[] {
  const names: string[] = []
  for (const l of config.listeners)
    if (l.mode === 'http' && l.tls !== undefined) for (const c of l.tls.certificates) names.push(...c.names)
  if (names.length === 0) return []
  const out: string[] = []
  for (let i = 0; i < config.routes.length; i++) {
    const host = (config.routes[i] as Config['routes'][number]).host.toLowerCase()
    const at = portStart(host)
    if (host === '' || host.slice(at) === ':80') continue
    const name = host.slice(0, at)
    if (!names.some((n) => certificateCovers(n, name)))
      out.push(`routes[${i}].host: ${host}: no certificate of an HTTPS listener covers this name`)
  }
  return out
}

/** Certificate name `cert` (`a.example`, `*.example`) covers host `host` (itself maybe `*.example`). */
function certificateCovers(cert: string, host: string): boolean {
  if (cert === host) return true
  if (!cert.startsWith('*.') || host.startsWith('*.')) return false
  const dot = host.indexOf('.')
  return dot > 0 && host.slice(dot + 1) === cert.slice(2)
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
