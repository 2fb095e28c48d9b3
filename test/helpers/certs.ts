/**
 * Test-only certificates, made at test time with the `openssl` CLI into a temporary directory (self-signed,
 * unencrypted keys), and the `listeners[].tls` config for them as the loader builds it.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https'
import { connect as tlsConnect, type PeerCertificate } from 'node:tls'
import type { ListenerTlsConfig, MutableConfig } from '../../src/config/types.js'
import { validate } from '../../src/config/validate.js'
import { configHead } from './daemon.js'
import { pino, type Logger } from 'pino'
import { Primary } from '../../src/process/primary.js'
import { writeConfig } from './process.js'

export interface CertFiles {
  readonly cert: string
  readonly key: string
  /** The certificate's PEM text. */
  readonly pem: string
}

export interface CertOptions {
  /** DNS subjectAltNames; the first is also the CN. */
  readonly names: readonly string[]
  readonly type?: 'rsa' | 'ec'
  /** Validity from now, in days; negative: expired that many days ago. */
  readonly days?: number
  /** The file name (without extension) in the directory; default the first name with `*` as `_`. */
  readonly base?: string
}

/** A fresh temporary directory, and a function removing it. */
export function certDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lb-tls-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Write `<base>.crt` and `<base>.key` into `dir`. */
export function makeCert(dir: string, o: CertOptions): CertFiles {
  const base = o.base ?? (o.names[0] ?? 'cert').replace('*', '_')
  const cert = join(dir, `${base}.crt`)
  const key = join(dir, `${base}.key`)
  const csr = join(dir, `${base}.csr`)
  const keyArgs =
    o.type === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048']
  const san = o.names.map((n) => `DNS:${n}`).join(',')
  const subj = `/CN=${o.names[0] ?? 'cert'}`
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  }
  run(['req', '-new', ...keyArgs, '-nodes', '-keyout', key, '-out', csr, '-subj', subj])
  const ext = join(dir, `${base}.ext`)
  execFileSync('sh', ['-c', `printf 'subjectAltName=${san}\\n' > "${ext}"`])
  run(['x509', '-req', '-in', csr, '-key', key, '-out', cert, '-days', String(o.days ?? 30), '-extfile', ext])
  rmSync(csr)
  rmSync(ext)
  return { cert, key, pem: readFileSync(cert, 'utf8') }
}

/** `from` copied to `site.crt`/`site.key` in `dir`: the files a config names, replaced later by a test. */
export function servedCopy(dir: string, from: CertFiles): { cert: string; key: string } {
  const cert = join(dir, 'site.crt')
  const key = join(dir, 'site.key')
  copyFileSync(from.cert, cert)
  copyFileSync(from.key, key)
  return { cert, key }
}

/** A new unencrypted ECDSA P-256 key, as `openssl req` arguments. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'] as const

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** A CA: `<base>.crt`/`<base>.key` in `dir`, self-signed, with CA:true. */
export function makeCa(dir: string, base: string): CertFiles {
  const cert = join(dir, `${base}.crt`)
  const key = join(dir, `${base}.key`)
  const ext = ['-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign']
  const files = ['-keyout', key, '-out', cert]
  openssl(['req', '-x509', ...EC_KEY, ...files, '-days', '30', '-subj', `/CN=${base}`, ...ext])
  return { cert, key, pem: readFileSync(cert, 'utf8') }
}

/** A certificate with subject `subj` (`/O=Example/CN=client`) signed by `ca`, as `<base>.crt`/`<base>.key`. */
export function makeSigned(dir: string, ca: CertFiles, base: string, subj: string): CertFiles {
  const cert = join(dir, `${base}.crt`)
  const key = join(dir, `${base}.key`)
  const csr = join(dir, `${base}.csr`)
  openssl(['req', '-new', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', subj])
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-out', cert, '-days', '30'])
  rmSync(csr)
  return { cert, key, pem: readFileSync(cert, 'utf8') }
}

/** `listeners[].tls` for these pairs, as the loader checks and builds it (throws on any problem). */
export function tlsConfig(
  pairs: readonly CertFiles[],
  extra: Record<string, unknown> = {},
): ListenerTlsConfig {
  const files = new Map<string, string>()
  for (const p of pairs) {
    files.set(p.cert, readFileSync(p.cert, 'utf8'))
    files.set(p.key, readFileSync(p.key, 'utf8'))
  }
  const raw = {
    listeners: [
      {
        address: '127.0.0.1:0',
        tls: { certificates: pairs.map((p) => ({ cert_file: p.cert, key_file: p.key })), ...extra },
      },
    ],
  }
  const r = validate(raw, '/test/lb.yaml', {}, files)
  const l = r.config?.listeners[0]
  if (l === undefined || l.mode !== 'http' || l.tls === undefined)
    throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'))
  return structuredClone(l.tls) as ListenerTlsConfig
}

/** Make the test listener of a startLb config an HTTPS one. */
export function useTls(c: MutableConfig, tls: ListenerTlsConfig): void {
  const l = c.listeners[0]
  if (l === undefined || l.mode !== 'http') throw new Error('no http listener')
  l.tls = tls
}

/** Handshake with `servername` ('' = none) and return the certificate lb presented. */
export function peerCertificate(
  port: number,
  servername: string,
  extra: { ciphers?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } = {},
): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(servername === '' ? {} : { servername }),
      ...extra,
    })
    s.once('secureConnect', () => {
      const cert = s.getPeerCertificate()
      s.destroy()
      resolve(cert)
    })
    s.once('error', reject)
  })
}

export interface HttpsAnswer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** One HTTPS request to lb (certificate not verified), with an optional body and agent. */
export function httpsGet(
  port: number,
  path: string,
  o: {
    host?: string
    method?: string
    body?: readonly string[]
    agent?: HttpsAgent
    headers?: Record<string, string>
    /** A client certificate (mTLS). */
    client?: CertFiles
  } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? 'GET',
        servername: o.host ?? 'localhost',
        rejectUnauthorized: false,
        headers: { host: o.host ?? 'localhost', ...o.headers },
        ...(o.agent === undefined ? {} : { agent: o.agent }),
        ...(o.client === undefined
          ? {}
          : { cert: readFileSync(o.client.cert), key: readFileSync(o.client.key), agent: false }),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (d: Buffer) => chunks.push(d))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    for (const chunk of o.body ?? []) req.write(chunk)
    req.end()
  })
}

/** `n` HTTPS GETs of `/` for `host`, one after another, each on a new connection: 200s and the rest. */
export async function httpsLoop(
  port: number,
  host: string,
  n: number,
): Promise<{ ok: number; failed: number }> {
  let ok = 0
  let failed = 0
  for (let i = 0; i < n; i++) {
    try {
      const r = await httpsGet(port, '/', { host, headers: { connection: 'close' } })
      if (r.status === 200) ok++
      else failed++
    } catch {
      failed++
    }
  }
  return { ok, failed }
}

export type TlsVersionName = 'TLSv1.2' | 'TLSv1.3'

/**
 * One handshake with server name site.test (and `session` to resume); resolves with whether it resumed and the
 * session to reuse (TLS 1.3: the ticket that follows the handshake).
 */
export function tlsHandshake(
  port: number,
  version: TlsVersionName,
  session?: Buffer,
): Promise<{ reused: boolean; session: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port,
      servername: 'site.test',
      rejectUnauthorized: false,
      maxVersion: version,
      minVersion: version,
      ...(session === undefined ? {} : { session }),
    })
    let reused = false
    s.once('secureConnect', () => {
      reused = s.isSessionReused()
      // TLS 1.2 sessions come with the handshake; TLS 1.3 tickets right after it ('session').
      if (version === 'TLSv1.2' || reused) finish(s.getSession())
    })
    const finish = (got: Buffer | undefined): void => {
      s.destroy()
      if (got === undefined) reject(new Error('no session'))
      else resolve({ reused, session: got })
    }
    s.once('session', (got: Buffer) => {
      if (version === 'TLSv1.3' && !reused) finish(got)
    })
    s.once('error', reject)
  })
}

/** Listener `web`'s `tls` block (`configHead`'s last listener; `ClusterConfig.listener`) from its lines. */
export function tlsListenerLines(tls: readonly string[]): string {
  return `    tls:\n${tls.map((l) => `      ${l}\n`).join('')}`
}

/**
 * A config file for a daemon test: daemon.ts `configHead` with `workers` (admin off, no access log, listener
 * `web` on 127.0.0.1:0) and the `tls` keys `tls` (YAML lines at that depth), then `rest` (top-level YAML).
 */
export function tlsDaemonYaml(workers: number, tls: readonly string[], rest = ''): string {
  return configHead({ workers }) + tlsListenerLines(tls) + rest
}

/** The `tls` line listing one certificate pair. */
export function certificatesLine(cert: string, key: string): string {
  return `certificates: [{ cert_file: "${cert}", key_file: "${key}" }]`
}

/** An in-process Primary on config `yaml` (with `workers: 0`), listener `web`'s port, and what it presents. */
export interface TlsPrimary {
  readonly primary: Primary
  readonly port: number
  /** The fingerprint of the certificate a new handshake for site.test gets (rejects when there is none). */
  readonly fingerprint: () => Promise<string>
}

export async function startTlsPrimary(yaml: string, log: Logger): Promise<TlsPrimary> {
  const primary = await Primary.start({
    configPath: await writeConfig(yaml),
    env: {},
    log,
    accessLog: pino({ level: 'silent' }),
  })
  const port = primary.worker.ports().get('web') ?? 0
  const fingerprint = async (): Promise<string> => (await peerCertificate(port, 'site.test')).fingerprint256
  return { primary, port, fingerprint }
}
