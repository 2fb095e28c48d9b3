/**
 * Raw-socket tools for the hardening tests: a TCP upstream that records exactly the bytes it receives, and a
 * client that writes exact bytes and collects every byte of the answer until lb closes or goes quiet.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

export interface RawUpstream {
  readonly port: number
  /** Everything received, over all connections, in arrival order (latin1). */
  bytes(): string
  /** First line of every request this upstream framed and answered (`GET /x HTTP/1.1`), in order. */
  requestLines(): string[]
  /** Connections currently open to this upstream that have carried at least one byte. */
  openConnections(): number
  close(): Promise<void>
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok'

/**
 * Answers `200 ok` to every request it can frame (Content-Length or chunked bodies; lb only ever sends those),
 * so keep-alive and pipelining through lb work. Framing here is deliberately minimal: the tests check the
 * recorded bytes, not this parser's opinion of them.
 */
export async function startRawUpstream(): Promise<RawUpstream> {
  let all = ''
  const lines: string[] = []
  const sockets = new Set<Socket>()
  const used = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    let pending = ''
    socket.on('error', () => undefined)
    socket.on('close', () => {
      sockets.delete(socket)
      used.delete(socket)
    })
    socket.on('data', (chunk: Buffer) => {
      const s = chunk.toString('latin1')
      used.add(socket)
      all += s
      pending += s
      for (;;) {
        const length = frameLength(pending)
        if (length < 0) break
        lines.push(pending.slice(0, pending.indexOf('\r\n')))
        pending = pending.slice(length)
        socket.write(OK)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  return {
    port: (server.address() as AddressInfo).port,
    bytes: () => all,
    requestLines: () => lines.slice(),
    openConnections: () => used.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Length of the first complete request in `s`, or -1. */
function frameLength(s: string): number {
  const end = s.indexOf('\r\n\r\n')
  if (end < 0) return -1
  const head = s.slice(0, end).toLowerCase()
  const bodyStart = end + 4
  const cl = /\r\ncontent-length:[ \t]*(\d+)/.exec(head)
  if (cl !== null) {
    const total = bodyStart + Number(cl[1])
    return s.length >= total ? total : -1
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    // The last chunk, then trailer lines (if any) up to the empty line.
    const zero = s.indexOf('\r\n0\r\n', bodyStart - 2)
    if (zero < 0) return -1
    const term = s.indexOf('\r\n\r\n', zero + 3)
    return term < 0 ? -1 : term + 4
  }
  return bodyStart
}

export interface RawReply {
  /** Everything lb sent back (latin1). */
  readonly data: string
  /** Status codes of every response in `data`, in order. */
  readonly statuses: number[]
  /** lb closed the connection (as opposed to going quiet). */
  readonly closed: boolean
}

/**
 * Writes `payload` (parts are written in order, each in its own write) and reads until lb closes the
 * connection or `quietMs` pass without a byte after the last write (the keep-alive case).
 */
export async function rawExchange(
  port: number,
  payload: string | string[],
  quietMs = 1_000,
): Promise<RawReply> {
  const socket = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let data = ''
  let closed = false
  let timer: NodeJS.Timeout | undefined
  const done = new Promise<void>((resolve) => {
    const arm = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => resolve(), quietMs)
    }
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1')
      arm()
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      closed = true
      clearTimeout(timer)
      resolve()
    })
    const parts = typeof payload === 'string' ? [payload] : payload
    for (const p of parts) socket.write(p, 'latin1')
    arm()
  })
  await done
  socket.destroy()
  return { data, statuses: statuses(data), closed }
}

function statuses(data: string): number[] {
  const out: number[] = []
  const re = /HTTP\/1\.[01] (\d{3}) /g
  for (let m = re.exec(data); m !== null; m = re.exec(data)) out.push(Number(m[1]))
  return out
}
