/**
 * send_proxy to HTTP servers: every upstream connection starts with a PROXY header naming the client whose
 * request opened it, and a connection is reused only for that same client (never for another one).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Agent, request } from 'node:http'
import type { Socket } from 'node:net'
import { startLb, service, route, portOf } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { parseProxyHeader } from '../../src/net/proxy-protocol.js'

interface Seen {
  /** Upstream connection number (1, 2, …) as the server counted them. */
  conn: number
  version: number
  src: string
  srcPort: number
  dstPort: number
}

/**
 * A raw HTTP/1.1 server that requires a PROXY header first and answers each (bodiless) request with what the
 * header of its connection said, keeping the connection open.
 */
function proxyAwareServer(): ReturnType<typeof startTcp> {
  let connections = 0
  return startTcp((s: Socket) => {
    const conn = ++connections
    let buf = Buffer.alloc(0)
    let header: Omit<Seen, 'conn'> | null = null
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (header === null) {
        const r = parseProxyHeader(buf)
        if (r.status === 'incomplete') return
        if (r.status === 'invalid') {
          s.destroy()
          return
        }
        header = {
          version: r.header.version,
          src: r.header.srcAddress,
          srcPort: r.header.srcPort,
          dstPort: r.header.dstPort,
        }
        buf = buf.subarray(r.length)
      }
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        buf = buf.subarray(end + 4)
        const body = JSON.stringify({ conn, ...header })
        s.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
        )
      }
    })
  })
}

function get(port: number, agent: Agent): Promise<{ seen: Seen; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () =>
        resolve({
          seen: JSON.parse(Buffer.concat(chunks).toString()) as Seen,
          localPort: req.socket?.localPort ?? -1,
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

for (const version of ['v1', 'v2'] as const) {
  test(`send_proxy ${version} to an HTTP server: header per connection, connections reused only by the same client`, async () => {
    const backend = await proxyAwareServer()
    const lb = await startLb((c) => {
      c.services = [{ ...service('web', [backend.port]), sendProxy: version }]
      c.routes = [route('', '/', 'web')]
    })
    const alice = new Agent({ keepAlive: true, maxSockets: 1 })
    const bob = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const port = portOf(lb, 'test')
      const a1 = await get(port, alice)
      const a2 = await get(port, alice)
      const b1 = await get(port, bob)
      const a3 = await get(port, alice)
      assert.equal(a1.seen.version, version === 'v1' ? 1 : 2)
      assert.equal(a1.seen.src, '127.0.0.1')
      // The header names the client connection (its port) and the port it connected to (lb's listener).
      assert.equal(a1.seen.srcPort, a1.localPort)
      assert.equal(a1.seen.dstPort, port)
      // Alice's later requests reuse her upstream connection; Bob gets his own, with his port in the header.
      assert.equal(a2.seen.conn, a1.seen.conn)
      assert.equal(a3.seen.conn, a1.seen.conn)
      assert.notEqual(b1.seen.conn, a1.seen.conn)
      assert.equal(b1.seen.srcPort, b1.localPort)
      assert.notEqual(b1.localPort, a1.localPort)
    } finally {
      alice.destroy()
      bob.destroy()
      await lb.close()
      await backend.close()
    }
  })
}
