/**
 * Just enough RFC 6455 for tests: an echo server on 'upgrade' and a client that sends one masked text frame.
 */
import { createServer, request, type Server } from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64')
}

/** Encode a single unfragmented text frame (masked when sent by a client). */
export function encodeFrame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text)
  const len = payload.length
  const header =
    len < 126
      ? Buffer.from([0x81, (masked ? 0x80 : 0) | len])
      : Buffer.from([0x81, (masked ? 0x80 : 0) | 126, len >> 8, len & 0xff])
  if (!masked) return Buffer.concat([header, payload])
  const mask = randomBytes(4)
  const body = Buffer.alloc(len)
  for (let i = 0; i < len; i++) body[i] = (payload[i] as number) ^ (mask[i % 4] as number)
  return Buffer.concat([header, mask, body])
}

/** Decode one complete frame from `buf`, or undefined when more bytes are needed. */
export function decodeFrame(buf: Buffer): { text: string; size: number } | undefined {
  if (buf.length < 2) return undefined
  const b1 = buf[1] as number
  const masked = (b1 & 0x80) !== 0
  let len = b1 & 0x7f
  let off = 2
  if (len === 126) {
    if (buf.length < 4) return undefined
    len = buf.readUInt16BE(2)
    off = 4
  }
  const maskLen = masked ? 4 : 0
  if (buf.length < off + maskLen + len) return undefined
  const payload = Buffer.from(buf.subarray(off + maskLen, off + maskLen + len))
  if (masked)
    for (let i = 0; i < len; i++) payload[i] = (payload[i] as number) ^ (buf[off + (i % 4)] as number)
  return { text: payload.toString(), size: off + maskLen + len }
}

export interface EchoServer {
  readonly server: Server
  readonly port: number
  readonly upgrades: { url: string; headers: Record<string, string | string[] | undefined> }[]
  close(): Promise<void>
}

/** Echoes every text frame back, prefixed with `echo:`. */
export async function startEchoServer(): Promise<EchoServer> {
  const upgrades: EchoServer['upgrades'] = []
  const sockets = new Set<Socket>()
  const server = createServer((_req, res) => res.end('not a websocket'))
  server.on('upgrade', (req, socket: Socket) => {
    sockets.add(socket)
    upgrades.push({ url: req.url ?? '', headers: req.headers })
    const key = String(req.headers['sec-websocket-key'])
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    )
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      for (;;) {
        const frame = decodeFrame(pending)
        if (frame === undefined) break
        pending = pending.subarray(frame.size)
        socket.write(encodeFrame('echo:' + frame.text, false))
      }
    })
  })
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    upgrades,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

export interface WsClient {
  readonly socket: Socket
  readonly accept: string
  readonly expectedAccept: string
  send(text: string): Promise<string>
}

/** Open a WebSocket through `port` with the given Host. Rejects on a non-101 answer. */
export function openWebSocket(port: number, host: string, path: string): Promise<WsClient> {
  const key = randomBytes(16).toString('base64')
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': key,
      },
    })
    req.on('response', (res) => reject(new Error(`expected 101, got ${res.statusCode}`)))
    req.on('error', reject)
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      let pending = head
      let waiter: ((text: string) => void) | null = null
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk])
        const frame = decodeFrame(pending)
        if (frame !== undefined && waiter !== null) {
          pending = pending.subarray(frame.size)
          const w = waiter
          waiter = null
          w(frame.text)
        }
      })
      resolve({
        socket,
        accept: String(res.headers['sec-websocket-accept']),
        expectedAccept: acceptKey(key),
        send: (text: string) =>
          new Promise<string>((r) => {
            waiter = r
            socket.write(encodeFrame(text, true))
          }),
      })
    })
    req.end()
  })
}
