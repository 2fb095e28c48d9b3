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

/**
 * A port where a TCP connect never completes: a listener with the smallest backlog whose thread never accepts
 * (a worker blocked in Atomics.wait), its accept queue filled by connections of its own. A connect to it hangs
 * until the connecting side gives up (connect timeouts).
 */
export async function blackholePort(): Promise<{ port: number; close(): Promise<void> }> {
  const { Worker } = await import('node:worker_threads')
  const { connect } = await import('node:net')
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads')
     const server = require('node:net').createServer()
     server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
       parentPort.postMessage(server.address().port)
       // Block this thread's event loop for good: nothing is ever accepted.
       setImmediate(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0))
     })`,
    { eval: true },
  )
  const port = await new Promise<number>((resolve) => worker.once('message', resolve))
  const fillers: Socket[] = []
  for (let i = 0; i < 4; i++) {
    const s = connect({ host: '127.0.0.1', port })
    s.on('error', () => undefined)
    fillers.push(s)
  }
  // Let the fillers take the accept queue (those that fit complete at once, the rest hang).
  await new Promise((r) => setTimeout(r, 50))
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy()
      await worker.terminate()
    },
  }
}
