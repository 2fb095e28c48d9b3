/**
 * Every use of a Node.js internal in lb: looked up here, once, and nowhere else. Each is a fast path with a
 * public-API fallback that lb takes when the capability is null (missing on this Node, or shaped differently
 * than expected), so a Node upgrade that moves an internal makes lb slower, never wrong:
 *
 * - `tcpWrap`: `process.binding('tcp_wrap')` (deprecated, DEP0111). Plain TCP health checks of IP targets
 *   connect a bare TCP handle and reset it (src/health/probes.ts RawTcpCheck); fallback: a reused net.Socket.
 * - `streamWrap`: `process.binding('stream_wrap')`. The TCP relay writes a read straight to the other socket's
 *   handle (`handle.writeBuffer`) and takes over the handle's `onread` (src/proxy/tcp/relay.ts Relay); fallback:
 *   socket.write().
 * - `onreadSlots`: net.Socket's private `kBuffer`/`kBufferCb`/`kBufferGen` symbols, found by their
 *   descriptions. An accepted socket reads into the session's reusable buffer (`readIntoBuffers`), as the
 *   public `onread` option does for sockets Node connects; fallback: 'data' events, a fresh buffer per read.
 * - `unrefTimer`: net.Socket's `_unrefTimer()`, so a direct write counts as activity for the socket's
 *   inactivity timeout (`touch`). Needed only by the direct writes above.
 * - `gc()`: V8's `gc` without `--expose-gc`, through `v8.setFlagsFromString('--expose-gc')` and a new vm context
 *   (src/process/memory.ts); `releasingGc` runs its last-resort full GC, which gives freed pages back. Fallback: no
 *   memory release after bursts (V8 collects on its own schedule).
 * - `socketHandle`: a socket's `_handle`, for the fast paths above.
 * - `tlsVerifyError`: OpenSSL's verdict on a client certificate (`TLSSocket.ssl.verifyError()`), which Node reads
 *   only for sockets a tls.Server made; lb makes its server TLSSockets itself (src/proxy/tls-accept.ts). Fallback:
 *   src/proxy/client-cert.ts checks the chain with X509Certificate (issuer, signature, dates).
 *
 * `LB_NODE_INTERNALS=off` turns all of them off (every capability null, `socketHandle` null), so lb runs on
 * public APIs only; .ci/run runs the TCP, health and streaming suites that way on every change. Detection logs
 * nothing; the primary logs once at start which fast paths are on (`logNodeInternals`).
 */
import { Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Node's TCP handle binding (`process.binding('tcp_wrap')`), the part a connect-only check uses. */
export interface TcpWrap {
  readonly TCP: new (type: number) => RawTcp
  readonly TCPConnectWrap: new () => RawConnectReq<unknown>
  readonly constants: { readonly SOCKET: number }
}
export interface RawTcp {
  connect(req: RawConnectReq<unknown>, address: string, port: number): number
  connect6(req: RawConnectReq<unknown>, address: string, port: number): number
  /** Close with a RST (SO_LINGER 0), as `socket.resetAndDestroy()` does. */
  reset(cb: () => void): number
  close(cb?: () => void): void
}
/** A connect request; `check` is the caller's own field, for its completion callback. */
export interface RawConnectReq<C> {
  oncomplete: (status: number, handle: RawTcp) => void
  check: C | null
}

/** Node's stream_wrap binding: the write request class and the state a handle write leaves behind. */
export interface StreamWrap {
  readonly WriteWrap: new () => WriteReq<Socket>
  readonly streamBaseState: Int32Array
  readonly kLastWriteWasAsync: number
  readonly kReadBytesOrError: number
}

/** A libuv write request object (Node's WriteWrap), with the fields Node's own writes set on it. */
export interface WriteReq<S extends Socket> {
  handle: unknown
  oncomplete: (this: WriteReq<S>, status: number) => void
  socket: S | null
  buffer: Buffer | null
}

/** A socket's libuv stream handle (`socket._handle`), as the direct writes use it. */
export interface StreamHandle {
  writeBuffer(req: WriteReq<Socket>, data: Buffer): number
  writeLatin1String(req: WriteReq<Socket>, data: string): number
  writev(req: WriteReq<Socket>, chunks: (string | Buffer)[], allBuffers: boolean): number
}

/**
 * One socket's direct writes (`writeDirect`): the reused write request, whether a write is still queued in libuv,
 * and what to call when it completes (status < 0: it failed; the socket is destroyed then).
 */
export interface DirectWrites {
  req: WriteReq<Socket> | null
  pending: boolean
  readonly done: (status: number) => void
}

/** `writeDirect`: everything was handed to the kernel. */
export const DIRECT_DONE = 0
/** `writeDirect`: queued in libuv (the kernel took part of it); `DirectWrites.done` follows. */
export const DIRECT_QUEUED = 1
/** `writeDirect`: not possible now (internals off, a write still queued, the socket's own writes pending …). */
export const DIRECT_NO = -1

interface DirectReq extends WriteReq<Socket> {
  owner: DirectWrites | null
}

/**
 * Write `text` (latin1), then `data`, then `tail` (latin1), straight to the socket's libuv handle with one reused
 * write request: one write or writev system call, without net.Socket's Writable, its write request per call and
 * its completion callback on the next tick. Empty parts are skipped. Returns DIRECT_DONE, DIRECT_QUEUED (the
 * caller treats it as backpressure until `d.done`) or DIRECT_NO (the caller uses `socket.write`). Used only
 * while net.Socket's own writes are idle, so the bytes keep their order.
 */
export function writeDirect(
  socket: Socket,
  d: DirectWrites,
  text: string,
  data: Buffer | null,
  tail: string,
  i: NodeInternals = nodeInternals,
): number {
  const sw = i.streamWrap
  if (sw === null || d.pending || socket.writableLength > 0 || socket.connecting || socket.destroyed)
    return DIRECT_NO
  const handle = socketHandle<StreamHandle>(socket, i)
  if (handle === null || socket.writableEnded) return DIRECT_NO
  let req = d.req as DirectReq | null
  if (req === null || req.handle !== handle) {
    req = new sw.WriteWrap() as DirectReq
    req.handle = handle
    req.oncomplete = onDirectComplete as WriteReq<Socket>['oncomplete']
    req.socket = socket
    req.buffer = null
    req.owner = d
    d.req = req
  }
  let err: number
  if (data === null || data.length === 0) {
    err = handle.writeLatin1String(req, tail === '' ? text : text + tail)
  } else if (text === '' && tail === '') {
    err = handle.writeBuffer(req, data)
  } else {
    const chunks: (string | Buffer)[] = []
    if (text !== '') chunks.push(text, 'latin1')
    chunks.push(data, 'buffer')
    if (tail !== '') chunks.push(tail, 'latin1')
    err = handle.writev(req, chunks, false)
  }
  if (err !== 0) {
    socket.destroy(new Error(`write failed (${err})`))
    return DIRECT_DONE
  }
  if (sw.streamBaseState[sw.kLastWriteWasAsync] === 0) return DIRECT_DONE
  // Queued: the request belongs to that write now and keeps `data` alive until it completes.
  req.buffer = data
  d.req = null
  d.pending = true
  return DIRECT_QUEUED
}

function onDirectComplete(this: DirectReq, status: number): void {
  const d = this.owner
  const socket = this.socket
  this.buffer = null
  this.owner = null
  this.socket = null
  if (status < 0 && socket !== null && !socket.destroyed)
    socket.destroy(new Error(`write failed (${status})`))
  if (d === null) return
  d.pending = false
  d.done(status)
}

/** A new DirectWrites state whose completions go to `done`. */
export function directWrites(done: (status: number) => void): DirectWrites {
  return { req: null, pending: false, done }
}

/** The private slots behind net.Socket's `onread` option. */
export interface OnreadSlots {
  readonly buffer: symbol
  readonly callback: symbol
  readonly gen: symbol
}

/**
 * V8's `gc()`: with no argument a full, synchronous GC; `{ type: 'minor' }` is a scavenge of the young
 * generation only; `flavor: 'last-resort'` is V8's GC for memory pressure (`releasingGc`).
 */
export type GcFunction = (
  options?: { type: 'minor' } | { type: 'major'; execution: 'sync'; flavor: 'last-resort' },
) => unknown

export interface NodeInternals {
  /** false under LB_NODE_INTERNALS=off. */
  readonly enabled: boolean
  readonly tcpWrap: TcpWrap | null
  readonly streamWrap: StreamWrap | null
  readonly onreadSlots: OnreadSlots | null
  readonly unrefTimer: boolean
  /** V8's gc, or null. Looked up on the first call (it switches a V8 flag and creates a vm context). */
  gc(): GcFunction | null
}

/** Whether `env` allows Node internals (`LB_NODE_INTERNALS=off` does not). */
export function internalsWanted(env: NodeJS.ProcessEnv): boolean {
  return env.LB_NODE_INTERNALS !== 'off'
}

/** Look up every capability on this Node (all off when `enabled` is false). Logs nothing. */
export function detectNodeInternals(enabled: boolean): NodeInternals {
  let gc: GcFunction | null | undefined = enabled ? undefined : null
  return {
    enabled,
    tcpWrap: enabled ? loadTcpWrap() : null,
    streamWrap: enabled ? loadStreamWrap() : null,
    onreadSlots: enabled ? findOnreadSlots() : null,
    unrefTimer: enabled && typeof (Socket.prototype as { _unrefTimer?: unknown })._unrefTimer === 'function',
    gc(): GcFunction | null {
      if (gc === undefined) gc = findGc()
      return gc
    },
  }
}

/** This process's internals, per LB_NODE_INTERNALS. */
export const nodeInternals: NodeInternals = detectNodeInternals(internalsWanted(process.env))

/** Which fast paths are on, by name (what `logNodeInternals` writes). */
export function describeNodeInternals(i: NodeInternals = nodeInternals): Record<string, boolean> {
  return {
    tcpCheckHandle: i.tcpWrap !== null,
    tcpDirectWrite: i.streamWrap !== null && i.unrefTimer,
    tcpAcceptedOnread: i.onreadSlots !== null,
    memoryReleaseGc: i.gc() !== null,
  }
}

/** One info line at start: whether internals are allowed and which fast paths are on. */
export function logNodeInternals(
  log: { info(obj: object, msg: string): void },
  i: NodeInternals = nodeInternals,
): void {
  log.info(
    { nodeInternals: i.enabled ? 'on' : 'off', node: process.versions.node, ...describeNodeInternals(i) },
    i.enabled ? 'node internals: fast paths' : 'node internals off (LB_NODE_INTERNALS=off): public APIs only',
  )
}

/** `socket._handle` (null once closed), or null when internals are off. */
export function socketHandle<H>(socket: Socket, i: NodeInternals = nodeInternals): H | null {
  if (!i.enabled) return null
  return ((socket as unknown as { _handle?: H | null })._handle ?? null) as H | null
}

/**
 * OpenSSL's verification result for the peer certificate of a server TLSSocket: null when it verified, the
 * error's code otherwise; undefined when internals are off or this Node has no `ssl.verifyError`.
 */
export function tlsVerifyError(socket: Socket, i: NodeInternals = nodeInternals): string | null | undefined {
  if (!i.enabled) return undefined
  const ssl = (socket as unknown as { ssl?: { verifyError?: () => { code?: string } | null } | null }).ssl
  if (ssl === null || ssl === undefined || typeof ssl.verifyError !== 'function') return undefined
  const err = ssl.verifyError()
  return err === null ? null : (err.code ?? 'UNABLE_TO_VERIFY')
}

/** A direct write is activity on `socket` for its inactivity timeout, as Node's own writes count. */
export function touch(socket: Socket): void {
  ;(socket as unknown as { _unrefTimer?: () => void })._unrefTimer?.()
}

/**
 * Make an accepted, not yet reading socket read into `gen()`'s buffers and hand each read to `callback` (this =
 * the socket), as the `onread: { buffer: gen, callback }` option does for a socket Node connects: set the
 * private slots and call the handle's `useUserBuffer` before it reads, which is what Socket's constructor does
 * with `onread` (lib/net.js initSocketHandle). false when not possible (no slots, no handle, already reading,
 * or a handle without useUserBuffer): the caller then reads with 'data' events.
 */
export function readIntoBuffers<S extends Socket>(
  socket: S,
  gen: () => Buffer,
  callback: (this: S, n: number, buf: Buffer) => boolean,
  i: NodeInternals = nodeInternals,
): boolean {
  const slots = i.onreadSlots
  const handle = socketHandle<{ reading?: boolean; useUserBuffer?: unknown }>(socket, i)
  if (slots === null || handle === null || handle.reading === true) return false
  if (typeof handle.useUserBuffer !== 'function') return false
  const s = socket as unknown as Record<symbol, unknown>
  const first = gen()
  s[slots.buffer] = first
  s[slots.gen] = gen
  s[slots.callback] = callback
  ;(handle.useUserBuffer as (b: Buffer) => void).call(handle, first)
  return true
}

/**
 * V8's GC for memory pressure (`flavor: 'last-resort'`, the one V8 runs before giving up on an allocation):
 * full GCs with compaction until nothing more is freed, then the pages freed go back to the system. A plain or
 * compacting full GC keeps freed pages in V8's page pool, resident: measured on Node 24 after a 200 MB burst,
 * 243 MB of heap pages stayed resident for a 98 MB heap after a full GC, 331 MB after a compacting one (it moves
 * objects to new pages), 81 MB after this one; Node 22 the same (83 MB). A longer pause than one full GC.
 */
export function releasingGc(gc: GcFunction): void {
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
}

type Binding = (name: string) => unknown

function binding(name: string): unknown {
  return (process as unknown as { binding: Binding }).binding(name)
}

function loadTcpWrap(): TcpWrap | null {
  try {
    const b = binding('tcp_wrap') as Partial<TcpWrap> | null
    if (typeof b?.TCP !== 'function' || typeof b.TCPConnectWrap !== 'function') return null
    if (typeof b.constants?.SOCKET !== 'number') return null
    const proto = b.TCP.prototype as Partial<RawTcp>
    if (typeof proto.connect !== 'function' || typeof proto.connect6 !== 'function') return null
    if (typeof proto.reset !== 'function' || typeof proto.close !== 'function') return null
    return b as TcpWrap
  } catch {
    return null
  }
}

function loadStreamWrap(): StreamWrap | null {
  try {
    const b = binding('stream_wrap') as Partial<StreamWrap> | null
    if (b == null || typeof b.WriteWrap !== 'function' || !(b.streamBaseState instanceof Int32Array))
      return null
    if (typeof b.kLastWriteWasAsync !== 'number' || typeof b.kReadBytesOrError !== 'number') return null
    return b as StreamWrap
  } catch {
    return null
  }
}

/** The `onread` slots, found by their descriptions on a throwaway socket (all three, each still null). */
function findOnreadSlots(): OnreadSlots | null {
  const probe = new Socket()
  const bySymbol = new Map<string, symbol>()
  for (const sym of Object.getOwnPropertySymbols(probe)) bySymbol.set(sym.description ?? '', sym)
  const buffer = bySymbol.get('kBuffer')
  const callback = bySymbol.get('kBufferCb')
  const gen = bySymbol.get('kBufferGen')
  const s = probe as unknown as Record<symbol, unknown>
  if (buffer === undefined || callback === undefined || gen === undefined) return null
  if (s[buffer] !== null || s[callback] !== null || s[gen] !== null) return null
  return { buffer, callback, gen }
}

/**
 * V8's `gc` extension: `globalThis.gc` when Node runs with `--expose-gc`, else made available once through
 * `v8.setFlagsFromString('--expose-gc')` + a new vm context (the flag is read when a context is created; it is
 * switched off again right after, and the function does not leak into the global scope).
 */
function findGc(): GcFunction | null {
  const exposed = (globalThis as { gc?: unknown }).gc
  if (typeof exposed === 'function') return exposed as GcFunction
  try {
    setFlagsFromString('--expose-gc')
    const fn: unknown = runInNewContext('typeof gc === "function" ? gc : null')
    return typeof fn === 'function' ? (fn as GcFunction) : null
  } catch {
    return null
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
}
