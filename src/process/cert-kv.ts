/**
 * Certificates from Consul KV (`listeners[].tls.consul_kv`, fabio's `cs=consul` certificate store).
 *
 * The primary watches each prefix with a blocking query on `/v1/kv/<prefix>?recurse` (client.ts `Watch`: backoff,
 * rate limit, index reset) through the `consul` section's agent, token and TLS. A listing holds pairs, by the
 * last segment of the key, in fabio's layouts and in lb's `directory` one:
 * - `<name>-cert.pem` and `<name>-key.pem`;
 * - `<name>.crt` and `<name>.key`;
 * - `<name>.pem` holding the certificate (chain after the leaf) and the key.
 * Other keys are ignored. Every pair is checked as a file pair is (src/config/sections/tls.ts `checkPem`), in
 * key order; the first is the listener's default after its file certificates. A listing with any bad pair (a
 * key of another certificate, a certificate without its key) changes nothing: the certificates serving stay and
 * the problems are logged with the keys, as fabio keeps its last good set. An empty or missing prefix is a
 * valid set of none.
 *
 * The certificates travel in the config as PEM text (`TlsCertificateConfig.pem`; the private key is redacted
 * from `/api/config` by its name and never logged) to the workers, which build contexts from it as from files.
 * At start and on reload the primary waits for each new prefix's first answer (or its first failure, or
 * `firstWait`) before the listeners open: a listener with no certificate yet refuses handshakes (an
 * unrecognized_name alert) until one arrives.
 */
import type { Logger } from 'pino'
import type { Config, ListenerConfig, TlsCertificateConfig } from '../config/types.js'
import { checkPem } from '../config/sections/tls.js'
import { ConsulHttp, Watch, type ConsulReply } from '../provider/consul/client.js'

/** How long start and reload wait for a new prefix's first answer. */
export const firstWait = 5_000

/** One pair as read from KV, before it is placed on a listener (`source` set by `withKvCertificates`). */
export type KvCertificate = Omit<TlsCertificateConfig, 'source'> & {
  pem: { cert: string; privateKey: string }
}

/** The prefixes of `config`'s TLS listeners, deduplicated, in listener order. */
export function kvPrefixes(config: Config): string[] {
  const out: string[] = []
  for (const l of config.listeners) {
    const p = l.tls?.consulKv ?? ''
    if (p !== '' && !out.includes(p)) out.push(p)
  }
  return out
}

/** Certificate key → key-file key of the pair it starts, or '' (not a certificate key). */
function keyOf(key: string): { key: string; combined: boolean } | null {
  const base = key.slice(key.lastIndexOf('/') + 1)
  if (base.endsWith('-cert.pem'))
    return { key: key.slice(0, -'-cert.pem'.length) + '-key.pem', combined: false }
  if (base.endsWith('-key.pem')) return null
  if (base.endsWith('.crt')) return { key: key.slice(0, -'.crt'.length) + '.key', combined: false }
  if (base.endsWith('.pem')) return { key, combined: true }
  return null
}

/**
 * The pairs of a `/v1/kv/<prefix>?recurse` answer (404 = none), in certificate key order, or every problem
 * found (each names its key as `consul:<key>`).
 */
export function parseKvCertificates(reply: {
  readonly status: number
  readonly text: string
}): { certificates: KvCertificate[] } | { problems: string[] } {
  if (reply.status === 404) return { certificates: [] }
  let list: unknown
  try {
    list = JSON.parse(reply.text)
  } catch {
    return { problems: ['the answer is not JSON'] }
  }
  if (!Array.isArray(list)) return { problems: ['the answer is not a JSON list'] }
  const values = new Map<string, string>()
  for (const item of list as { Key?: unknown; Value?: unknown }[]) {
    if (typeof item?.Key !== 'string' || typeof item.Value !== 'string') continue
    values.set(item.Key, Buffer.from(item.Value, 'base64').toString('utf8'))
  }
  const problems: string[] = []
  const certificates: KvCertificate[] = []
  const paired = new Set<string>()
  for (const k of [...values.keys()].sort()) {
    const pair = keyOf(k)
    if (pair === null) continue
    const cert = values.get(k) as string
    const key = values.get(pair.key)
    paired.add(pair.key)
    if (key === undefined) {
      problems.push(`consul:${k}: no consul:${pair.key} next to it`)
      continue
    }
    const r = checkPem(cert, key, `consul:${k}`, `consul:${pair.key}`)
    if ('problem' in r) problems.push(r.problem)
    else
      certificates.push({
        certFile: `consul:${k}`,
        keyFile: `consul:${pair.key}`,
        ...r,
        pem: { cert, privateKey: key },
      })
  }
  for (const k of values.keys()) {
    const base = k.slice(k.lastIndexOf('/') + 1)
    if ((base.endsWith('-key.pem') || base.endsWith('.key')) && !paired.has(k))
      problems.push(`consul:${k}: a key without its certificate`)
  }
  return problems.length > 0 ? { problems } : { certificates }
}

/**
 * `config` with the KV certificates of `sets` after the file certificates of every TLS listener with
 * `consul_kv` (a listener's earlier KV certificates replaced). Unchanged listeners stay the same objects.
 */
export function withKvCertificates(
  config: Config,
  sets: ReadonlyMap<string, readonly KvCertificate[]>,
): Config {
  let changed = false
  const listeners = config.listeners.map((l, i) => {
    const tls = l.tls
    if (tls === undefined || tls.consulKv === '') return l
    const source = `listeners[${i}].tls.consul_kv`
    const files = tls.certificates.filter((c) => c.pem === undefined)
    const kv = (sets.get(tls.consulKv) ?? []).map((c) => ({ ...c, source }))
    changed = true
    return { ...l, tls: { ...tls, certificates: [...files, ...kv] } } as ListenerConfig
  })
  return changed ? { ...config, listeners } : config
}

interface PrefixWatch {
  readonly stop: AbortController
  /** Resolves at the first answer or failure. */
  readonly first: Promise<void>
}

export interface KvCertificatesOptions {
  readonly log: Logger
  /** A prefix's set changed after its first answer (the primary applies it). */
  readonly changed: () => void
  /** Ends every watch. */
  readonly signal: AbortSignal
}

/** The watches of the `consul_kv` prefixes and the last good set of each. */
export class KvCertificates {
  /** Prefix → its last good set (absent until the first good answer). */
  readonly sets: Map<string, readonly KvCertificate[]>
  readonly #o: KvCertificatesOptions
  readonly #watches: Map<string, PrefixWatch>
  #http: ConsulHttp | null
  /** The `consul` section the watches use, as JSON (a change restarts them). */
  #consul: string

  constructor(o: KvCertificatesOptions) {
    this.#o = o
    this.sets = new Map()
    this.#watches = new Map()
    this.#http = null
    this.#consul = ''
  }

  /**
   * Watch the prefixes of `config` (all again when its `consul` section changed; a prefix no longer named is
   * dropped) and wait up to `wait` ms for each new one's first answer.
   */
  async sync(config: Config, wait: number): Promise<void> {
    const prefixes = kvPrefixes(config)
    const consul = JSON.stringify(config.consul)
    if (consul !== this.#consul || prefixes.length === 0) this.close()
    for (const p of [...this.sets.keys()]) if (!prefixes.includes(p)) this.sets.delete(p)
    for (const p of [...this.#watches.keys()]) {
      if (prefixes.includes(p)) continue
      this.#watches.get(p)?.stop.abort()
      this.#watches.delete(p)
    }
    if (prefixes.length === 0) return
    this.#consul = consul
    this.#http ??= new ConsulHttp(config.consul)
    const firsts: Promise<void>[] = []
    for (const p of prefixes) {
      if (this.#watches.has(p)) continue
      const w = this.#watch(this.#http, config.consul, p)
      this.#watches.set(p, w)
      firsts.push(w.first)
    }
    if (firsts.length === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#o.log.warn({ wait }, 'TLS certificates in Consul KV: no answer yet, going on without them')
        resolve()
      }, wait)
    })
    await Promise.race([Promise.all(firsts), late])
    clearTimeout(timer)
  }

  #watch(http: ConsulHttp, c: Config['consul'], prefix: string): PrefixWatch {
    const stop = new AbortController()
    this.#o.signal.addEventListener('abort', () => stop.abort(), { once: true })
    // Start and reload wait for the first answer or failure; a set read after that is applied by `changed`.
    let settled = false
    let resolveFirst: () => void = () => {}
    const first = new Promise<void>((resolve) => {
      resolveFirst = resolve
    })
    const settle = (): void => {
      settled = true
      resolveFirst()
    }
    const path = `/v1/kv/${prefix.split('/').map(encodeURIComponent).join('/')}`
    const log = this.#o.log.child({ consul_kv: prefix })
    const watch = new Watch({
      name: `tls:${prefix}`,
      fetch: (index, signal) => http.get(path, { recurse: '' }, index, signal),
      onData: (reply: ConsulReply) => {
        const late = settled
        if (this.#take(prefix, reply, log) && late) this.#o.changed()
        settle()
      },
      onError: (err, state) => {
        log.warn({ err: String(err), errors: state.errors }, 'TLS certificates in Consul KV: read failed')
        settle()
      },
      rateLimit: c.rateLimit,
      backoff: c.backoff,
    })
    void watch.run(stop.signal)
    return { stop, first }
  }

  /** A new listing of `prefix`: true when it changed the prefix's set. */
  #take(prefix: string, reply: ConsulReply, log: Logger): boolean {
    const r = parseKvCertificates(reply)
    if ('problems' in r) {
      log.error({ problems: r.problems }, 'TLS certificates in Consul KV do not load: the ones serving stay')
      return false
    }
    const before = this.sets.get(prefix)
    const same =
      before !== undefined &&
      before.length === r.certificates.length &&
      before.every(
        (c, i) =>
          c.fingerprint === r.certificates[i]?.fingerprint && c.certFile === r.certificates[i]?.certFile,
      )
    if (same) return false
    this.sets.set(prefix, r.certificates)
    log.info({ certificates: r.certificates.map((c) => c.certFile) }, 'TLS certificates read from Consul KV')
    return true
  }

  /** End every watch. */
  close(): void {
    for (const w of this.#watches.values()) w.stop.abort()
    this.#watches.clear()
    const http = this.#http
    this.#http = null
    this.#consul = ''
    if (http !== null) void http.close()
  }
}
