/**
 * Plain TCP checks (no PROXY header): connect, then close with a RST. Two forms, with one result: on Node's TCP
 * handle for IP targets (`RawTcpCheck`, no net.Socket at all), and on a reused net.Socket for host names and
 * wherever the handle binding is missing (`TcpCheck`). Both are pooled and report through the probe callback.
 */
import { isIP, Socket } from 'node:net'
import { getSystemErrorName } from 'node:util'
import { nodeInternals, type RawConnectReq, type RawTcp, type TcpWrap } from '../net/node-internals.js'
import {
  type CheckReason,
  type ProbeSpec,
  type ProbeTarget,
  type ProbeDone,
  type ProbeHandle,
  l4Codes,
} from './probes.js'
import { errorText } from '../model/errors.js'

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
export class TcpCheck extends ConnectCheck {
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
export let tcpWrap: TcpWrap | null = nodeInternals.tcpWrap

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
export class RawTcpCheck extends ConnectCheck {
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

export const idleRawChecks: RawTcpCheck[] = []

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

export const idleTcpChecks: TcpCheck[] = []

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
