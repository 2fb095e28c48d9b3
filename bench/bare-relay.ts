/**
 * The floor under lb's TCP relay: the least a Node process can do per relayed message, for bench/tcp-cpu.ts.
 * Each accepted connection gets one upstream connection. Once both are connected, each socket's libuv handle
 * reads into one reused buffer (`useUserBuffer`) and its `onread` writes each read straight to the other
 * handle (`writeBuffer`, one reused request) — what lb's established relay does (src/proxy/tcp/relay.ts Relay),
 * without its timeouts, logs, metrics, buffer growth or backpressure handling (the bench's messages are small
 * and strictly request/response).
 *
 *   node dist/bench/bare-relay.js LISTEN_PORT BACKEND_PORT
 */
import { connect, createServer, type Socket } from 'node:net'
import { nodeInternals } from '../src/net/node-internals.js'
import { printRuntime } from './runtime.js'

interface Handle {
  onread: (this: Handle) => unknown
  useUserBuffer(buf: Buffer): void
  readStart(): number
  writeBuffer(req: object, data: Buffer): number
  peer: Handle
  buf: Buffer
  req: object
  sock: Socket
}

printRuntime('stderr')
const sw = nodeInternals.streamWrap
if (sw === null) {
  console.error("bare-relay: Node's stream_wrap binding is not available (or LB_NODE_INTERNALS=off)")
  process.exit(2)
}
const state = sw.streamBaseState
const READ = sw.kReadBytesOrError

function onread(this: Handle): void {
  const n = state[READ] as number
  if (n > 0) {
    const buf = this.buf
    if (this.peer.writeBuffer(this.req, n === buf.length ? buf : buf.subarray(0, n)) !== 0)
      this.sock.destroy()
    return
  }
  this.sock.destroy()
}

function noop(): void {}

/** From now on `from`'s reads go to `to` (both connected). */
function wire(from: Socket, to: Socket): void {
  const h = (from as unknown as { _handle: Handle })._handle
  const peer = (to as unknown as { _handle: Handle })._handle
  const req = new (sw as NonNullable<typeof sw>).WriteWrap()
  req.handle = peer
  req.oncomplete = noop
  h.peer = peer
  h.req = req
  h.sock = from
  h.buf = Buffer.allocUnsafe(65_536)
  h.useUserBuffer(h.buf)
  h.onread = onread
  h.readStart()
}

const [listenPort, backendPort] = process.argv.slice(2).map(Number)
if (!Number.isInteger(listenPort) || !Number.isInteger(backendPort)) {
  console.error('usage: node dist/bench/bare-relay.js LISTEN_PORT BACKEND_PORT')
  process.exit(2)
}

createServer({ noDelay: true, pauseOnConnect: true }, (client: Socket) => {
  const server = connect({ port: backendPort as number, host: '127.0.0.1', noDelay: true })
  server.pause()
  server.on('connect', () => {
    wire(client, server)
    wire(server, client)
  })
  client.on('error', () => server.destroy())
  server.on('error', () => client.destroy())
  client.on('close', () => server.destroy())
  server.on('close', () => client.destroy())
}).listen(listenPort, '127.0.0.1')
