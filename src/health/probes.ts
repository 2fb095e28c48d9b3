/**
 * Active check probes: one TCP connect, or one HTTP(S) request whose status line is checked. I/O only — the
 * policy (rise/fall) is state.ts, the scheduling is checker.ts (STYLE §12).
 *
 * Every result carries haproxy's check status (reference/haproxy.md §1.12) and its duration:
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
import { connect as netConnect, isIP, Socket } from 'node:net'
import {
  checkServerIdentity,
  connect as tlsConnect,
  type ConnectionOptions,
  type PeerCertificate,
} from 'node:tls'
import { getSystemErrorName } from 'node:util'
import { encodeProxyV1, V2_SIGNATURE } from '../net/proxy-protocol.js'
import { nodeInternals, type RawConnectReq, type RawTcp, type TcpWrap } from '../net/node-internals.js'

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

/** Run one probe with its own timer. Never rejects. */
export function probe(spec: ProbeSpec, target: ProbeTarget, now: () => number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const p: PromiseProbe = { resolve, timer: null }
    const handle = startProbe(spec, target, now, p, resolvePromiseProbe)
    p.timer = setTimeout(expireHandle, spec.timeout, handle)
  })
}

interface PromiseProbe {
  resolve: (r: ProbeResult) => void
  timer: ReturnType<typeof setTimeout> | null
}
function resolvePromiseProbe(p: PromiseProbe, r: ProbeResult): void {
  if (p.timer !== null) clearTimeout(p.timer)
  p.resolve(r)
}
function expireHandle(h: ProbeHandle): void {
  h.expire()
}

/**
 * Run one probe and report through `done(owner, result)`: the scheduler's form, with no promise, closure or
 * timer per probe (socket events go to module-level handlers that find the run through a symbol on the socket).
 * The caller ends it at its `timeout` with `expire()`.
 */
export function startProbe<T>(
  spec: ProbeSpec,
  target: ProbeTarget,
  now: () => number,
  owner: T,
  done: ProbeDone<T>,
): ProbeHandle {
  if (spec.type === 'tcp' && (spec.proxy ?? 'none') === 'none') {
    if (tcpWrap !== null && isIP(target.address) !== 0) {
      const raw = idleRawChecks.pop() ?? new RawTcpCheck()
      raw.start(spec, target, now, owner as unknown, done as ProbeDone<unknown>)
      return raw
    }
    const c = idleTcpChecks.pop() ?? new TcpCheck()
    c.start(spec, target, now, owner as unknown, done as ProbeDone<unknown>)
    return c
  }
  const run = new ProbeRun(spec, target, now, owner as unknown, done as ProbeDone<unknown>)
  run.start()
  return run
}

/** What both plain TCP checks share: the running check's fields, and reporting its result exactly once. */
abstract class ConnectCheck implements ProbeHandle {
  spec: ProbeSpec | null
  now: () => number
  owner: unknown
  done: ProbeDone<unknown> | null
  t0: number
  /** The result was reported (a socket may still be closing). */
  finished: boolean

  constructor() {
    this.spec = null
    this.now = Date.now
    this.owner = null
    this.done = null
    this.t0 = 0
    this.finished = true
  }

  abstract expire(): void

  protected begin(spec: ProbeSpec, now: () => number, owner: unknown, done: ProbeDone<unknown>): void {
    this.spec = spec
    this.now = now
    this.owner = owner
    this.done = done
    this.t0 = now()
    this.finished = false
  }

  finish(ok: boolean, reason: CheckReason, detail: string): void {
    if (this.finished) return
    this.finished = true
    const done = this.done as ProbeDone<unknown>
    const owner = this.owner
    this.done = null
    this.owner = null
    this.spec = null
    const duration = Math.max(0, Math.round(this.now() - this.t0))
    this.reported()
    done(owner, { ok, reason, code: 0, detail, duration })
  }

  /** The result is in and about to be reported: the check may be reused from now on (hook). */
  protected reported(): void {}
}

/**
 * A plain TCP check (no PROXY header) on a reused net.Socket: for host-name targets, and for every target where
 * Node's TCP handle binding is missing (else RawTcpCheck, below). net documents `socket.connect()` for reconnecting a
 * socket after its 'close', so a check costs a connect on an existing net.Socket instead of constructing one (a
 * Duplex with its two stream states and listeners) and letting it go: bench/checks.ts, 1,000 checks/s,
 * ~110 → ~80 µs CPU per check. Handlers are attached once, at construction; the socket goes back to the idle
 * list on its 'close', never before, so a late event can never reach the next check.
 */
class TcpCheck extends ConnectCheck {
  readonly socket: TcpCheckSocket
  /**
   * The target is an IP literal, so the socket can go back to the idle list after 'close'. A host name goes
   * through an asynchronous DNS lookup whose callback, after a timeout, can still arrive once the socket has
   * closed: net then connects the socket if it is connecting again, which a reused socket may well be. Such
   * sockets are used once.
   */
  reusable: boolean

  constructor() {
    super()
    const s = new Socket() as TcpCheckSocket
    s[kTcpCheck] = this
    s.on('connect', onTcpConnect)
    s.on('error', onTcpError)
    s.on('close', onTcpClose)
    this.socket = s
    this.reusable = false
  }

  start(
    spec: ProbeSpec,
    target: ProbeTarget,
    now: () => number,
    owner: unknown,
    done: ProbeDone<unknown>,
  ): void {
    this.begin(spec, now, owner, done)
    this.reusable = isIP(target.address) !== 0
    try {
      // A numeric address connects without a DNS lookup (net.connect skips lookup for IP literals).
      this.socket.connect(target.port, target.address)
    } catch (err) {
      // Never report synchronously (the scheduler is iterating its heap when it starts a probe). The socket
      // did not start connecting, so it gets no 'close': it is simply not reused.
      process.nextTick(onTcpStartFailed, this, errorText(err))
    }
  }

  expire(): void {
    if (this.finished) return
    const timeout = (this.spec as ProbeSpec).timeout
    this.socket.destroy()
    this.finish(false, 'L4TOUT', `timeout after ${timeout}ms`)
  }
}

/**
 * Node's TCP handle binding for plain TCP checks (src/net/node-internals.ts), or null where it is missing or
 * switched off (then checks use net.Socket).
 */
let tcpWrap: TcpWrap | null = nodeInternals.tcpWrap

/** Whether plain TCP checks of IP targets use Node's TCP handle (else net.Socket). */
export function rawTcpChecks(): boolean {
  return tcpWrap !== null
}

/** Tests: run plain TCP checks on net.Socket (false) or, where the binding is available, on the handle (true). */
export function useRawTcpChecks(on: boolean): void {
  tcpWrap = on ? nodeInternals.tcpWrap : null
}

/**
 * A plain TCP check on Node's TCP handle directly: a new handle and connect request per check, and when the
 * connect completes one reset (RST) close. Without net.Socket there is no stream state to reset, no
 * 'connect'/'close' events, no read started on the connected socket and no destroy chain. bench/checks.ts
 * `--bare reuse,internal` measures the difference per connect; IP targets only (a name needs net's lookup).
 */
class RawTcpCheck extends ConnectCheck {
  handle: RawTcp | null
  address: string
  port: number

  constructor() {
    super()
    this.handle = null
    this.address = ''
    this.port = 0
  }

  start(
    spec: ProbeSpec,
    target: ProbeTarget,
    now: () => number,
    owner: unknown,
    done: ProbeDone<unknown>,
  ): void {
    const wrap = tcpWrap as TcpWrap
    this.begin(spec, now, owner, done)
    this.address = target.address
    this.port = target.port
    const handle = new wrap.TCP(wrap.constants.SOCKET)
    const req = new wrap.TCPConnectWrap() as RawConnectReq<RawTcpCheck>
    req.oncomplete = onRawConnect
    req.check = this
    const err =
      isIP(target.address) === 6
        ? handle.connect6(req, target.address, target.port)
        : handle.connect(req, target.address, target.port)
    if (err !== 0) {
      req.check = null
      handle.close()
      // Never report synchronously (the scheduler is iterating its heap when it starts a probe).
      process.nextTick(onRawStartFailed, this, err)
      return
    }
    this.handle = handle
  }

  expire(): void {
    if (this.finished) return
    const timeout = (this.spec as ProbeSpec).timeout
    // Closing a connecting handle cancels its connect: the request then completes with ECANCELED, and
    // onRawConnect finds this check no longer waiting for that handle.
    this.handle?.close()
    this.handle = null
    this.finish(false, 'L4TOUT', `timeout after ${timeout}ms`)
  }

  /** Nothing of a finished check outlives it (each check has its own handle), so it is reusable at once. */
  protected override reported(): void {
    if (idleRawChecks.length < MAX_IDLE_TCP_CHECKS) idleRawChecks.push(this)
  }
}

const idleRawChecks: RawTcpCheck[] = []

function onRawConnect(this: RawConnectReq<RawTcpCheck>, status: number, handle: RawTcp): void {
  const c = this.check
  this.check = null
  if (c === null || c.finished || c.handle !== handle) return
  c.handle = null
  if (status === 0) {
    // A RST, as for net sockets (see onTcpConnect).
    if (handle.reset(noop) !== 0) handle.close()
    c.finish(true, 'L4OK', 'connected')
    return
  }
  handle.close()
  const code = uvCode(status)
  c.finish(false, l4Codes.has(code) ? 'L4CON' : 'SOCKERR', `connect ${code} ${c.address}:${c.port}`)
}
function onRawStartFailed(c: RawTcpCheck, err: number): void {
  c.finish(false, 'SOCKERR', `connect ${uvCode(err)} ${c.address}:${c.port}`)
}
function uvCode(err: number): string {
  try {
    return getSystemErrorName(err)
  } catch {
    return String(err)
  }
}
function noop(): void {}

const kTcpCheck = Symbol('tcpCheck')
type TcpCheckSocket = Socket & { [kTcpCheck]: TcpCheck }
/** Idle check sockets kept for reuse; beyond this many (after a burst of slow checks) they are dropped. */
const MAX_IDLE_TCP_CHECKS = 256
const idleTcpChecks: TcpCheck[] = []

function onTcpConnect(this: TcpCheckSocket): void {
  // Like haproxy, the check ends with a RST: its src/checks.c closes a check connection with SO_LINGER off
  // ("We absolutely want to perform a hard close ... otherwise we end up with many TIME_WAITs and eat all the
  // source port range quickly"). 1,000 checks a second leave no TIME_WAIT behind; the server sees ECONNRESET.
  // (haproxy first drains pending data to avoid the RST when it can; a TCP check never has any.)
  this.resetAndDestroy()
  this[kTcpCheck].finish(true, 'L4OK', 'connected')
}
function onTcpError(this: TcpCheckSocket, err: Error): void {
  const code = (err as NodeJS.ErrnoException).code ?? ''
  this[kTcpCheck].finish(false, l4Codes.has(code) ? 'L4CON' : 'SOCKERR', errorText(err))
}
function onTcpClose(this: TcpCheckSocket): void {
  const c = this[kTcpCheck]
  c.finish(false, 'L4CON', 'connection closed')
  if (c.reusable && idleTcpChecks.length < MAX_IDLE_TCP_CHECKS) idleTcpChecks.push(c)
}
function onTcpStartFailed(c: TcpCheck, detail: string): void {
  c.finish(false, 'SOCKERR', detail)
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
class ProbeRun implements ProbeHandle {
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

const l4Codes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ETIMEDOUT',
  'EPIPE',
])

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return code !== undefined && !err.message.includes(code) ? `${code} ${err.message}` : err.message
  }
  return String(err)
}

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
