/**
 * Active check probes: one TCP connect, or one HTTP(S) request whose status line is checked. I/O only — the
 * policy (rise/fall) is state.ts, the scheduling is checker.ts.
 *
 * Every result carries haproxy's check status (docs/haproxy.md) and its duration:
 * L4OK / L4CON (refused, unreachable) / L4TOUT (no connection within the timeout) / SOCKERR (local socket
 * error) / L6TOUT / L6RSP (TLS handshake timed out / failed) / L7OK / L7STS (unexpected status, e.g. `L7STS 503`)
 * / L7RSP (not an HTTP response, or closed before the status line) / L7TOUT (no status line within the timeout).
 *
 * Differences from haproxy, on purpose:
 * - one `timeout` bounds the whole probe (connect + TLS + status line); haproxy splits it into
 *   min(timeout connect, inter) for the connect and `timeout check` for the read;
 * - HTTP checks send HTTP/1.1 with `Connection: close` and always a Host header (the configured one, or the
 *   server's address); haproxy sends none unless told and defaults to `OPTIONS / HTTP/1.0`. lb defaults to
 *   `GET /` because that is what health endpoints (kubelet, apiserver `/healthz`) expect;
 * - only the status line is read; the body is never waited for (haproxy reads up to tune.bufsize for
 *   `expect string`, which lb does not offer).
 *
 * Probes set no timers: whoever starts one enforces `timeout` by calling `expire()` on the handle `startProbe`
 * returns (the checker does it from its one schedule, so a check costs no timer of its own; `probe()` arms a
 * `setTimeout`, the global one read at call time, so node:test mock timers drive it).
 */
import type { Socket } from 'node:net'
import { connect as netConnect } from 'node:net'
import {
  checkServerIdentity,
  connect as tlsConnect,
  type ConnectionOptions,
  type PeerCertificate,
} from 'node:tls'
import { errorText } from '../model/errors.js'
import { encodeProxyV1, V2_SIGNATURE } from '../net/proxy-protocol.js'

export type CheckType = 'tcp' | 'http' | 'https'

export const checkTypes = ['tcp', 'http', 'https'] as const satisfies readonly CheckType[]

export type CheckReason =
  'L4OK' | 'L4CON' | 'L4TOUT' | 'SOCKERR' | 'L6TOUT' | 'L6RSP' | 'L7OK' | 'L7STS' | 'L7RSP' | 'L7TOUT'

/** An inclusive status range; a single code is `{ lo: 200, hi: 200 }`. */
export interface StatusRange {
  readonly lo: number
  readonly hi: number
}

/** PROXY protocol header a check sends first (the checker resolves it, see checker.ts `checkProxy`). */
export type ProxyVersion = 'none' | 'v1' | 'v2'

export interface ProbeSpec {
  readonly type: CheckType
  /** Bounds the whole probe, ms. */
  readonly timeout: number
  /**
   * Send a PROXY header right after connecting (before TLS), as haproxy does for checks: v2 sends the LOCAL
   * command (haproxy ≥ 2.2 for every locally initiated connection; `pp2-never-send-local` restores the old
   * PROXY command), v1 has no LOCAL and sends the check connection's own addresses (TCP4/TCP6). Absent = none.
   */
  readonly proxy?: ProxyVersion
  readonly http: {
    readonly method: string
    readonly path: string
    /** Host header; '' = the checked address and port. */
    readonly host: string
    /** Accepted statuses; any range matching passes. */
    readonly expect: readonly StatusRange[]
  }
  readonly tls: {
    /** PEM CA bundle to verify against; '' = the system store. */
    readonly ca: string
    readonly skipVerify: boolean
    /** Server name sent and verified; '' = the server's hostname (none for IP literals). */
    readonly sni: string
  }
}

export interface ProbeResult {
  readonly ok: boolean
  readonly reason: CheckReason
  /** HTTP status for L7OK/L7STS, else 0. */
  readonly code: number
  /** Human detail: the error message or the status line. */
  readonly detail: string
  /** ms from start to result. */
  readonly duration: number
}

/** haproxy's `check_status` text with the code: `L7STS 503`, `L4CON`. */
export function formatReason(r: Pick<ProbeResult, 'reason' | 'code'>): string {
  return r.code > 0 ? `${r.reason} ${r.code}` : r.reason
}

export function statusMatches(status: number, expect: readonly StatusRange[]): boolean {
  for (let i = 0; i < expect.length; i++) {
    const r = expect[i] as StatusRange
    if (status >= r.lo && status <= r.hi) return true
  }
  return false
}

/** Where to probe: the resolved address, the port, and the server's configured host (for Host/SNI). */
export interface ProbeTarget {
  readonly address: string
  readonly port: number
  readonly hostname: string
}

const MAX_HEAD = 16_384

const statusLineRe = /^HTTP\/1\.[01] (\d{3})(?: |\r|$)/

/**
 * Called once per probe with its owner (the checker's server) and the result: never synchronously from
 * `startProbe`, synchronously from `expire()`.
 */
export type ProbeDone<T> = (owner: T, r: ProbeResult) => void

/** A running probe. */
export interface ProbeHandle {
  /**
   * The probe's `timeout` is over: end it now with L4TOUT / L6TOUT / L7TOUT (by the phase it is in), reporting
   * through `done` before returning. No-op once the probe has reported. Call it only until `done` was called:
   * the handle may be reused for another probe after that.
   */
  expire(): void
}

type Phase = 'connect' | 'tls' | 'response'

const kRun = Symbol('probeRun')

type ProbeSocket = Socket & { [kRun]?: ProbeRun }

function onConnect(this: ProbeSocket): void {
  const run = this[kRun]
  if (run === undefined) return
  if (run.spec.proxy === 'v1' || run.spec.proxy === 'v2') run.sendProxy(this, run.spec.proxy)
  else if (run.spec.type === 'https') run.phase = 'tls'
  else run.onReady()
}

function onSecureConnect(this: ProbeSocket): void {
  this[kRun]?.onReady()
}

function onSocketData(this: ProbeSocket, chunk: Buffer): void {
  this[kRun]?.onData(chunk)
}

function onSocketError(this: ProbeSocket, err: Error): void {
  this[kRun]?.onError(err)
}

function onSocketClose(this: ProbeSocket): void {
  this[kRun]?.onClose()
}

function onStartFailed(run: ProbeRun, detail: string): void {
  run.finish(false, 'SOCKERR', 0, detail)
}

export class ProbeRun implements ProbeHandle {
  readonly spec: ProbeSpec
  readonly target: ProbeTarget
  readonly now: () => number
  readonly owner: unknown
  readonly done: ProbeDone<unknown>
  readonly t0: number
  socket: ProbeSocket | null
  phase: Phase
  head: Buffer
  finished: boolean

  constructor(
    spec: ProbeSpec,
    target: ProbeTarget,
    now: () => number,
    owner: unknown,
    done: ProbeDone<unknown>,
  ) {
    this.spec = spec
    this.target = target
    this.now = now
    this.owner = owner
    this.done = done
    this.t0 = now()
    this.socket = null
    this.phase = 'connect'
    this.head = EMPTY
    this.finished = false
  }

  start(): void {
    const { spec, target } = this
    let s: ProbeSocket
    try {
      if (spec.type === 'https' && (spec.proxy ?? 'none') === 'none') {
        s = tlsConnect(this.tlsOptions({ host: target.address, port: target.port }))
        s.once('secureConnect', onSecureConnect)
      } else {
        // A numeric address connects without a DNS lookup (net.connect skips lookup for IP literals).
        s = netConnect(target.port, target.address)
      }
    } catch (err) {
      // Never report synchronously (the scheduler is iterating its heap when it starts a probe).
      process.nextTick(onStartFailed, this, errorText(err))
      return
    }
    // TCP checks write nothing, so they skip the setsockopt. HTTP checks keep it: without it bench/checks.ts
    // saw ~5 % L7TOUT at 1,000 HTTP checks/s on a loaded machine (0 with it), cause not pinned down.
    if (spec.type !== 'tcp') s.setNoDelay(true)
    this.listen(s)
    s.once('connect', onConnect)
  }

  listen(s: ProbeSocket): void {
    s[kRun] = this
    this.socket = s
    s.on('error', onSocketError)
    s.on('close', onSocketClose)
  }

  tlsOptions(base: ConnectionOptions): ConnectionOptions {
    const { spec, target } = this
    const sni = spec.tls.sni !== '' ? spec.tls.sni : isIpLiteral(target.hostname) ? '' : target.hostname
    return {
      ...base,
      rejectUnauthorized: !spec.tls.skipVerify,
      ...(spec.tls.ca === '' ? {} : { ca: spec.tls.ca }),
      ...(sni === '' ? {} : { servername: sni }),
      // Verify against the name the operator configured, not the resolved address.
      ...(sni === '' && target.hostname !== '' ? { checkServerIdentity: identityFor(target.hostname) } : {}),
    }
  }

  /** Connected with a PROXY header to send: write it, then TLS (https), the request (http) or success (tcp). */
  sendProxy(s: ProbeSocket, version: 'v1' | 'v2'): void {
    if (this.finished) return
    const header =
      version === 'v2'
        ? PROXY_V2_LOCAL
        : encodeProxyV1({
            srcAddress: s.localAddress ?? '',
            srcPort: s.localPort ?? 0,
            dstAddress: s.remoteAddress ?? '',
            dstPort: s.remotePort ?? 0,
          })
    if (this.spec.type === 'tcp') {
      // The check passes once the header is handed to the kernel (haproxy: the highest configured layer).
      s.write(header, (err) => (err === undefined || err === null ? this.onReady() : this.onError(err)))
      return
    }
    s.write(header)
    if (this.spec.type === 'http') {
      this.onReady()
      return
    }
    this.phase = 'tls'
    let t: ProbeSocket
    try {
      t = tlsConnect(this.tlsOptions({ socket: s }))
    } catch (err) {
      this.finish(false, 'L6RSP', 0, errorText(err))
      return
    }
    this.listen(t)
    t.once('secureConnect', onSecureConnect)
  }

  onReady(): void {
    const s = this.socket
    if (s === null || this.finished) return
    if (this.spec.type === 'tcp') {
      this.finish(true, 'L4OK', 0, 'connected')
      return
    }
    this.phase = 'response'
    const h = this.spec.http
    const host = h.host !== '' ? h.host : hostPort(this.target)
    s.on('data', onSocketData)
    s.write(
      `${h.method} ${h.path} HTTP/1.1\r\nhost: ${host}\r\nuser-agent: lb-check\r\naccept: */*\r\nconnection: close\r\n\r\n`,
    )
  }

  onData(chunk: Buffer): void {
    if (this.finished) return
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk])
    const eol = this.head.indexOf('\r\n')
    if (eol < 0) {
      if (this.head.length > MAX_HEAD) this.finish(false, 'L7RSP', 0, 'status line too long')
      return
    }
    const line = this.head.toString('latin1', 0, eol)
    const m = statusLineRe.exec(line)
    if (m === null) {
      this.finish(false, 'L7RSP', 0, `not an HTTP response: ${JSON.stringify(line.slice(0, 60))}`)
      return
    }
    const status = Number(m[1])
    const ok = statusMatches(status, this.spec.http.expect)
    this.finish(ok, ok ? 'L7OK' : 'L7STS', status, line)
  }

  onError(err: Error): void {
    if (this.finished) return
    const code = (err as NodeJS.ErrnoException).code ?? ''
    if (this.phase === 'connect') {
      this.finish(false, l4Codes.has(code) ? 'L4CON' : 'SOCKERR', 0, errorText(err))
    } else if (this.phase === 'tls') {
      this.finish(false, 'L6RSP', 0, errorText(err))
    } else {
      this.finish(false, 'L7RSP', 0, errorText(err))
    }
  }

  onClose(): void {
    if (this.finished) return
    if (this.phase === 'connect') this.finish(false, 'L4CON', 0, 'connection closed')
    else if (this.phase === 'tls') this.finish(false, 'L6RSP', 0, 'closed during the TLS handshake')
    else this.finish(false, 'L7RSP', 0, 'closed before a status line')
  }

  expire(): void {
    if (this.finished) return
    const reason = this.phase === 'connect' ? 'L4TOUT' : this.phase === 'tls' ? 'L6TOUT' : 'L7TOUT'
    this.finish(false, reason, 0, `timeout after ${this.spec.timeout}ms`)
  }

  finish(ok: boolean, reason: CheckReason, code: number, detail: string): void {
    if (this.finished) return
    this.finished = true
    const s = this.socket
    if (s !== null) {
      // Like haproxy (checks close with lingering off): a plain TCP connection that is up ends with a RST,
      // so 1,000 checks a second leave no TIME_WAIT sockets behind and the server sees no FIN handshake.
      if (ok && this.spec.type !== 'https' && (this.spec.proxy ?? 'none') === 'none' && !s.destroyed)
        s.resetAndDestroy()
      else s.destroy()
    }
    this.done(this.owner, {
      ok,
      reason,
      code,
      detail,
      duration: Math.max(0, Math.round(this.now() - this.t0)),
    })
  }
}

const EMPTY = Buffer.alloc(0)

/** PROXY v2 LOCAL, family UNSPEC, no addresses: what haproxy sends on its own (check) connections. */
const PROXY_V2_LOCAL = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])])

export const l4Codes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ETIMEDOUT',
  'EPIPE',
])

function isIpLiteral(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':')
}

function hostPort(t: ProbeTarget): string {
  const h = t.hostname !== '' ? t.hostname : t.address
  return h.includes(':') ? `[${h}]:${t.port}` : `${h}:${t.port}`
}

function identityFor(hostname: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => checkServerIdentity(hostname, cert)
}
