/**
 * The write side of one connection of the HTTP engine: every write is "text, then bytes, then text" (a head and
 * body, a chunk with its size line and CRLF, an error answer), made with one system call.
 *
 * With Node's stream_wrap (src/net/node-internals.ts `writeDirect`) the parts go straight to the socket's libuv
 * handle with one reused write request; when the kernel takes them all, nothing is left behind. Otherwise, and
 * whenever net.Socket still has writes of its own queued, they go through `socket.write` (corked for a writev).
 * A TLSSocket always takes the second way (`directOk` false). Either way the caller learns two things: whether
 * to wait for `drained` before writing more (backpressure), and whether the bytes it passed are still referenced
 * (`lent`: a read buffer holding them must not be reused).
 */
import type { Socket } from 'node:net'
import {
  DIRECT_DONE,
  DIRECT_NO,
  DIRECT_QUEUED,
  directWrites,
  writeDirect,
  type DirectWrites,
} from '../../net/node-internals.js'

export class Out {
  socket: Socket
  readonly direct: DirectWrites
  /** The last write still refers to the bytes it was given. */
  lent: boolean

  /** Writes may go straight to the socket's handle (a TCP socket; not a TLSSocket, whose handle encrypts). */
  readonly directOk: boolean

  /** `drained`: a queued direct write completed (the socket's 'drain' event covers `socket.write`). */
  constructor(socket: Socket, drained: () => void, directOk = true) {
    this.socket = socket
    this.directOk = directOk
    this.direct = directWrites((status) => {
      if (status >= 0) drained()
    })
    this.lent = false
  }

  /** Write `text`, `data`, `tail` (latin1 text; empty parts skipped). false: wait for the drain before more. */
  send(text: string, data: Buffer | null, tail: string): boolean {
    const r = this.directOk ? writeDirect(this.socket, this.direct, text, data, tail) : DIRECT_NO
    if (r === DIRECT_DONE) {
      this.lent = false
      return true
    }
    if (r === DIRECT_QUEUED) {
      this.lent = data !== null
      return false
    }
    const s = this.socket
    let ok: boolean
    if (data === null) {
      ok = s.write(tail === '' ? text : text + tail, 'latin1')
    } else if (text === '' && tail === '') {
      ok = s.write(data)
    } else {
      s.cork()
      if (text !== '') s.write(text, 'latin1')
      s.write(data)
      if (tail !== '') s.write(tail, 'latin1')
      s.uncork()
      ok = !s.writableNeedDrain
    }
    this.lent = data !== null && s.writableLength > 0
    return ok
  }

  /** Writes are waiting to be taken by the kernel. */
  get blocked(): boolean {
    return this.direct.pending || this.socket.writableNeedDrain
  }
}
