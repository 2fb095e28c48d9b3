/**
 * A server that requires a PROXY protocol header (like a backend behind haproxy `send-proxy`): connections
 * that do not start with a valid v1/v2 header are dropped; after it, HTTP requests (over TLS when `tls`) get
 * `200`. Every header received is recorded with the connection's real peer port.
 */
import { TLSSocket } from 'node:tls'
import type { Server, Socket } from 'node:net'
import { parseProxyHeader, type ProxyHeader } from '../../src/net/proxy-protocol.js'
import { cert, key, startTcp, type Listening } from './tls.js'

export interface SeenHeader {
  readonly header: ProxyHeader
  readonly peerPort: number
}

export async function startProxyOnlyServer(
  tls: boolean,
): Promise<Listening<Server> & { seen: SeenHeader[]; dropped: { count: number } }> {
  const seen: SeenHeader[] = []
  const dropped = { count: 0 }
  const server = await startTcp((s: Socket) => {
    let buf = Buffer.alloc(0)
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d])
      const r = parseProxyHeader(buf)
      if (r.status === 'incomplete') return
      s.off('data', onData)
      if (r.status === 'invalid') {
        dropped.count++
        s.destroy()
        return
      }
      seen.push({ header: r.header, peerPort: s.remotePort ?? 0 })
      const rest = buf.subarray(r.length)
      const app: Socket = tls ? new TLSSocket(s, { isServer: true, cert, key }) : s
      app.on('error', () => {})
      app.on('data', () => app.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'))
      if (rest.length > 0) s.unshift(rest)
    }
    s.on('data', onData)
  })
  return { ...server, seen, dropped }
}
