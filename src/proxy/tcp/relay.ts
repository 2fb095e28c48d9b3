/**
 * The relay of an established TCP session: bytes are copied, never altered.
 *
 * Each direction reads into one reusable buffer per session (`onread`) and writes what it read to the other
 * socket (measured faster than `pipe`, see bench/RESULTS.md); once both sockets are connected, a `Relay` per
 * direction takes over the handle's reads and writes to the other handle directly. While that write is not fully
 * handed to the kernel, the pending write still references the buffer, so the reader stops until the write
 * completes (or the writer's 'drain') and then reads into the same buffer again, or, when no 'drain' will come
 * (write() returned true), reads on into a fresh buffer (afterRelay). A buffer starts at 16 KiB (an idle session
 * holds 32 KiB, like haproxy's two 16 KiB buffers) and becomes 64 KiB after a read that filled it (bulk
 * transfers: fewer reads). The reusable buffer removes the per-read allocation (and the page faults of fresh
 * 64 KiB chunks) that dominated bulk transfers. Node offers `onread` only to sockets it connects; accepted
 * sockets get it through Node's own onread slots (see src/proxy/tcp/session.ts `onreadSlots`), else they fall
 * back to 'data' events.
 *
 * Backpressure: both ways, a write that returns false pauses the reader until the writer's 'drain'.
 */
import type { Socket } from 'node:net'
import { getSystemErrorName } from 'node:util'
import {
  nodeInternals,
  socketHandle,
  touch,
  type StreamHandle,
  type StreamWrap,
  type WriteReq as NodeWriteReq,
} from '../../net/node-internals.js'
import type { TcpSession } from './session.js'

export const kSession = Symbol('lb.tcpSession')
/** A direct write (see `directWrite`) is queued in libuv on this socket. */
const kDirectPending = Symbol('lb.directPending')
/** The socket's reusable write request for direct writes. */
const kWriteReq = Symbol('lb.writeReq')
export interface SessionSocket extends Socket {
  [kSession]?: TcpSession | undefined
  [kDirectPending]?: boolean
  [kWriteReq]?: WriteReq | undefined
}

/**
 * Bytes per read, per direction: a session starts with READ_BUFFER_SMALL and moves to READ_BUFFER after a read
 * that filled its buffer. 64 KiB is what libuv suggests for its own reads (a smaller buffer costs more read()
 * calls on bulk transfers).
 */
export const READ_BUFFER_SMALL = 16 * 1024
const READ_BUFFER = 64 * 1024

export const EMPTY = Buffer.alloc(0)

/** A direct write's request; its socket is the session socket it writes to. */
type WriteReq = NodeWriteReq<SessionSocket>

/**
 * Direct writes: the relay hands a read straight to the other socket's libuv handle (`handle.writeBuffer`, what
 * net.Socket's own write ends in) instead of going through Writable: no per-write WriteWrap (one request object
 * per socket is reused while writes complete at once), no write callback, no nextTick. Used only while the
 * socket's Writable side holds nothing (so order is kept: libuv queues writes in call order) and is open; a
 * write that libuv queues marks the socket pending until it completes, like a write that returned false. Node's
 * stream_wrap binding (src/net/node-internals.ts), with `_unrefTimer` to count a write as activity; null when
 * either is missing or switched off, and the relay then uses socket.write().
 */
const streamWrap: StreamWrap | null = nodeInternals.unrefTimer ? nodeInternals.streamWrap : null

/**
 * Write `n` bytes of the read buffer `buf` to `w`: directly to its handle when possible (see `streamWrap`),
 * else with write(). Returns the buffer for the next read, or null to stop reading until `w`'s 'drain'.
 */
export function relay(w: SessionSocket, n: number, buf: Buffer): Buffer | null {
  const data = n === buf.length ? buf : buf.subarray(0, n)
  const sw = streamWrap
  const handle = sw === null ? null : socketHandle<StreamHandle>(w)
  if (sw === null || handle === null || w[kDirectPending] === true || w.writableLength > 0) {
    return afterRelay(w, w.write(data), n, buf)
  }
  if (w.connecting || w.writableEnded || w.destroyed) return afterRelay(w, w.write(data), n, buf)
  let req = w[kWriteReq]
  if (req === undefined || req.handle !== handle) {
    req = newWriteReq(sw, handle, w)
    w[kWriteReq] = req
  }
  const err = handle.writeBuffer(req as NodeWriteReq<Socket>, data)
  // A write is activity on `w` for its inactivity timeout, as Node's own writes count.
  touch(w)
  if (err !== 0) {
    w.destroy(new Error(`write failed: ${uvErrorName(err)}`))
    return null
  }
  if (sw.streamBaseState[sw.kLastWriteWasAsync] === 0)
    return n === buf.length && buf.length < READ_BUFFER ? Buffer.allocUnsafe(READ_BUFFER) : buf
  // Queued in libuv: the request now belongs to that write (and holds `data`); the reader waits for it.
  req.buffer = data
  w[kWriteReq] = undefined
  w[kDirectPending] = true
  return null
}

/** `relay` without direct writes: for a TLSSocket, whose handle encrypts what TLSSocket.write hands it. */
export function relayWrite(w: Socket, n: number, buf: Buffer): Buffer | null {
  return afterRelay(w, w.write(n === buf.length ? buf : buf.subarray(0, n)), n, buf)
}

/** A TCP handle as the established relay drives it (see `Relay`). */
interface RelayHandle extends StreamHandle {
  onread: (this: RelayHandle, arrayBuffer: unknown) => unknown
  reading: boolean
  readStop(): number
  lbRelay?: Relay
}

/**
 * One direction of an established session: what `from`'s handle reads goes to `to`'s handle. Once both sockets
 * are connected, a Relay takes over `from`'s handle.onread (`onRelayRead`): a read of n > 0 bytes is written
 * to the other handle there, without Node's onStreamRead and its lookups of net.Socket's private slots, and
 * without the per-read symbol lookups on sockets of differing shapes (measured: see bench/tcp-cpu.ts). All
 * other reads (end of stream, errors) still go to Node's own onread, so 'end', 'error' and 'close' are
 * net.Socket's as before. Reads keep going into the session's reusable buffers; while a write to `to` is
 * queued, `from` stops reading (the queued write references the buffer) until onDirectWritten resumes it.
 */
export class Relay {
  readonly session: TcpSession
  readonly to: SessionSocket
  readonly toHandle: RelayHandle
  /** Node's onread of `from`'s handle (onStreamRead): gets every read that is not data. */
  readonly nodeOnread: (this: RelayHandle, arrayBuffer: unknown) => unknown
  /** The buffer `from` reads into (from the session's buffer at the takeover on, the Relay's alone). */
  buf: Buffer
  /** The request for the next direct write (null after one was queued: it belongs to that write). */
  req: WriteReq | null
  /** Writes may go to toHandle directly (see `streamWrap`); rechecked after a queued or a Writable write. */
  direct: boolean
  /** The last write's view of `viewOf` (kept: request/response traffic repeats lengths, one view serves). */
  view: Buffer
  viewOf: Buffer

  constructor(session: TcpSession, fromHandle: RelayHandle, to: SessionSocket, buf: Buffer) {
    this.session = session
    this.to = to
    this.toHandle = socketHandle<RelayHandle>(to) as RelayHandle
    this.nodeOnread = fromHandle.onread
    this.buf = buf
    this.req = null
    this.direct = false
    this.view = EMPTY
    this.viewOf = EMPTY
  }

  /** Whether the next write may go to the handle directly: nothing queued on `to`, which is open and writable. */
  recheck(): boolean {
    const w = this.to
    const handle = socketHandle<RelayHandle>(w)
    const sw = streamWrap
    this.direct =
      sw !== null &&
      handle === this.toHandle &&
      w[kDirectPending] !== true &&
      w.writableLength === 0 &&
      !w.connecting &&
      !w.writableEnded &&
      !w.destroyed
    if (this.direct && this.req === null && sw !== null) this.req = newWriteReq(sw, handle, w)
    return this.direct
  }
}

/**
 * Take over the reads of `from` for the relay to `to` (see `Relay`): only when `from` reads into the session's
 * buffer (onread) and Node's stream_wrap binding is there; else `from` keeps its onread callback.
 */
export function startRelay(
  session: TcpSession,
  from: SessionSocket,
  to: SessionSocket,
  buf: Buffer,
): Relay | null {
  if (streamWrap === null) return null
  const handle = socketHandle<RelayHandle>(from)
  const toHandle = socketHandle<RelayHandle>(to)
  if (handle === null || toHandle === null || typeof handle.onread !== 'function') return null
  const r = new Relay(session, handle, to, buf)
  handle.lbRelay = r
  handle.onread = onRelayRead
  return r
}

/**
 * handle.onread of a relayed socket (this = its handle; see `Relay`). Returns a Buffer to switch the handle's
 * read buffer, as Node's onStreamRead does for `onread` sockets.
 */
function onRelayRead(this: RelayHandle, arrayBuffer: unknown): unknown {
  const r = this.lbRelay as Relay
  const sw = streamWrap as StreamWrap
  const n = sw.streamBaseState[sw.kReadBytesOrError] as number
  if (n <= 0) return r.nodeOnread.call(this, arrayBuffer)
  r.session.ioSeen = true
  const buf = r.buf
  let next: Buffer | null
  if (r.direct || r.recheck()) {
    let data = r.view
    if (data.length !== n || r.viewOf !== buf) {
      data = n === buf.length ? buf : buf.subarray(0, n)
      r.view = data
      r.viewOf = buf
    }
    const req = r.req as WriteReq
    const err = r.toHandle.writeBuffer(req as NodeWriteReq<Socket>, data)
    if (err !== 0) {
      r.to.destroy(new Error(`write failed: ${uvErrorName(err)}`))
      next = null
    } else if (sw.streamBaseState[sw.kLastWriteWasAsync] === 0) {
      next = n === buf.length && buf.length < READ_BUFFER ? Buffer.allocUnsafe(READ_BUFFER) : buf
    } else {
      // Queued in libuv: the request now belongs to that write (and holds `data`); reading waits for it.
      req.buffer = data
      r.req = null
      r.direct = false
      r.to[kDirectPending] = true
      next = null
    }
  } else {
    next = relay(r.to, n, buf)
    r.direct = false
  }
  if (next === null) {
    this.reading = false
    this.readStop()
    return undefined
  }
  if (next === buf) return undefined
  r.buf = next
  return next
}

/** A request for direct writes of `w` to its handle (completions go to onDirectWritten). */
function newWriteReq(sw: StreamWrap, handle: unknown, w: SessionSocket): WriteReq {
  const req = new sw.WriteWrap() as unknown as WriteReq
  req.handle = handle
  req.oncomplete = onDirectWritten
  req.socket = w
  req.buffer = null
  return req
}

/** A queued direct write completed (this = its request): resume the other socket's reads, as 'drain' does. */
function onDirectWritten(this: WriteReq, status: number): void {
  const w = this.socket
  this.buffer = null
  this.socket = null
  if (w === null) return
  w[kDirectPending] = false
  if (status < 0) {
    if (!w.destroyed) w.destroy(new Error(`write failed: ${uvErrorName(status)}`))
    return
  }
  const sess = w[kSession]
  if (sess === undefined) return
  sess.ioSeen = true
  if (sess.server === w) sess.client.resume()
  else sess.server?.resume()
}

function uvErrorName(code: number): string {
  try {
    return getSystemErrorName(code)
  } catch {
    return String(code)
  }
}

/**
 * After `n` bytes of the read buffer `buf` were written to `w` (`ok`: what write() returned): the buffer for the
 * next read, or null to stop reading until `w`'s 'drain'.
 * - all handed to the kernel: `buf` again, or a READ_BUFFER one when this read filled a small buffer;
 * - still queued and write() returned false: null ('drain' follows; the queued write holds `buf`);
 * - still queued although write() returned true (a chunk below the high-water mark; no 'drain' will come): a
 *   fresh buffer, since the queued write holds `buf`. The writer's own buffering stays bounded: once it reaches
 *   the high-water mark, write() returns false.
 */
function afterRelay(w: Socket, ok: boolean, n: number, buf: Buffer): Buffer | null {
  if (w.writableLength === 0)
    return n === buf.length && buf.length < READ_BUFFER ? Buffer.allocUnsafe(READ_BUFFER) : buf
  return ok ? Buffer.allocUnsafe(buf.length) : null
}
