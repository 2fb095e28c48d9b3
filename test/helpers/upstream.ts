/**
 * Test upstreams on 127.0.0.1 port 0 that record what they receive.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createServer as createNetServer } from 'node:net'

export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly rawHeaders: string[]
  readonly remotePort: number
}

export interface TestUpstream {
  readonly name: string
  readonly port: number
  readonly server: Server
  readonly requests: Recorded[]
  /** Sockets ever accepted (to check connection reuse). */
  readonly sockets: Set<Socket>
  close(): Promise<void>
}

export type Handler = (req: IncomingMessage, res: ServerResponse, name: string) => void

/** Default handler: answers `name` as text so tests can see who served the request. */
export const answerName: Handler = (req, res, name) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name })
    res.end(name)
  })
}

export async function startUpstream(name: string, handler: Handler = answerName): Promise<TestUpstream> {
  const requests: Recorded[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      remotePort: req.socket.remotePort ?? 0,
    })
    handler(req, res, name)
  })
  server.on('connection', (s: Socket) => sockets.add(s))
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const port = (server.address() as AddressInfo).port
  return {
    name,
    port,
    server,
    requests,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A port on which nothing listens (bound then released). */
export async function deadPort(): Promise<number> {
  const s = createNetServer()
  await new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

/** The port of upstream `i` of `ups` (throws when it does not exist). */
export function portOfUpstream(ups: readonly TestUpstream[], i: number): number {
  const u = ups[i]
  if (u === undefined) throw new Error(`no upstream ${i}`)
  return u.port
}
