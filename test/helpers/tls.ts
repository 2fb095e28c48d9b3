/** The test-only TLS fixtures (test/fixtures/tls/) and small TLS/TCP servers built on them. */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls'
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net'

const dir = fileURLToPath(new URL('../../../test/fixtures/tls/', import.meta.url))
export const ca = readFileSync(dir + 'ca.pem', 'utf8')
export const cert = readFileSync(dir + 'server.pem', 'utf8')
export const key = readFileSync(dir + 'server.key', 'utf8')

export interface Listening<S> {
  readonly server: S
  readonly port: number
  readonly sockets: Set<Socket>
  close(): Promise<void>
}

async function listen<S extends Server>(server: S, port = 0): Promise<Listening<S>> {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port }, () => resolve())
  })
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * A TLS "apiserver": answers any HTTP request with `200 <name>` (so `/healthz` works), over the fixture cert.
 * `status` can be changed to make checks fail.
 */
export async function startTlsHttp(
  name: string,
  port = 0,
): Promise<Listening<TlsServer> & { status: { code: number } }> {
  const status = { code: 200 }
  const server = createTlsServer({ cert, key }, (s: TLSSocket) => {
    s.on('error', () => {})
    let buf = ''
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1')
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4)
        s.write(`HTTP/1.1 ${status.code} X\r\ncontent-length: ${name.length}\r\n\r\n${name}`)
      }
    })
  })
  const l = await listen(server as unknown as Server, port)
  return { ...l, server, status }
}

/** A plain TCP server running `onSocket` for each connection. */
export async function startTcp(onSocket: (s: Socket) => void, port = 0): Promise<Listening<Server>> {
  const server = createNetServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {})
    onSocket(s)
  })
  return listen(server, port)
}

/** Collect everything a socket sends until it ends. */
export function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    s.on('data', (d: Buffer) => chunks.push(d))
    s.on('end', () => resolve(Buffer.concat(chunks)))
    s.on('error', reject)
  })
}
