/**
 * The floor under lb's TCP relay: the least a Node process can do per relayed message, for bench/tcp-cpu.ts.
 * Each accepted connection gets one upstream connection. Server → client reads into one reused buffer (net's
 * `onread`), client → server uses 'data' events (one Buffer per read; lb reads that side through onread too),
 * and both write straight to the other socket's libuv handle (`writeBuffer`, as lb's relay does). No timeouts,
 * logs, metrics or backpressure handling (the bench's messages are small and strictly request/response).
 *
 *   node dist/bench/bare-relay.js LISTEN_PORT BACKEND_PORT
 */
import { connect, createServer, type Socket } from 'node:net'
import { streamWrap } from '../src/proxy/tcp.js'

interface Handle {
  writeBuffer(req: object, data: Buffer): number
}
type RelaySocket = Socket & { relayReq?: object }

function write(w: RelaySocket, data: Buffer): void {
  const handle = (w as unknown as { _handle: Handle | null })._handle
  if (handle === null || streamWrap === null) {
    w.write(data)
    return
  }
  let req = w.relayReq
  if (req === undefined) {
    const r = new streamWrap.WriteWrap()
    r.handle = handle as never
    r.oncomplete = noop
    req = w.relayReq = r
  }
  handle.writeBuffer(req, data)
}

function noop(): void {}

const [listenPort, backendPort] = process.argv.slice(2).map(Number)
if (!Number.isInteger(listenPort) || !Number.isInteger(backendPort)) {
  console.error('usage: node dist/bench/bare-relay.js LISTEN_PORT BACKEND_PORT')
  process.exit(2)
}

createServer({ noDelay: true }, (client: RelaySocket) => {
  const server: RelaySocket = connect({
    port: backendPort as number,
    host: '127.0.0.1',
    noDelay: true,
    onread: {
      buffer: Buffer.allocUnsafe(65_536),
      callback(n: number, buf: Uint8Array): boolean {
        write(client, n === buf.length ? (buf as Buffer) : (buf as Buffer).subarray(0, n))
        return true
      },
    },
  })
  client.on('data', (d: Buffer) => write(server, d))
  client.on('error', () => server.destroy())
  server.on('error', () => client.destroy())
  client.on('close', () => server.destroy())
  server.on('close', () => client.destroy())
}).listen(listenPort, '127.0.0.1')
