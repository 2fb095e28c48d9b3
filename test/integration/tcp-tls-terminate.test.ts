/**
 * A `mode: tcp` listener with `tls` terminates TLS (certificates by server name, as on HTTPS listeners) and relays
 * the plain bytes; `sni_routes` route by the handshake's server name. The upstreams are plain TCP servers that
 * record what they receive and answer with their name.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:tls'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { startLb, service, tcpListener, portOf } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { certDir, makeCert, tlsConfig } from '../helpers/certs.js'

/** A plain upstream that records the bytes of each connection and answers `<name>:<bytes>` at their end. */
async function recording(name: string): Promise<{ port: number; got: string[]; close(): Promise<void> }> {
  const got: string[] = []
  const l = await startTcp((s: Socket) => {
    const chunks: Buffer[] = []
    s.on('data', (d: Buffer) => chunks.push(d))
    s.on('end', () => {
      const text = Buffer.concat(chunks).toString()
      got.push(text)
      s.end(`${name}:${text}`)
    })
  })
  return { port: l.port, got, close: () => l.close() }
}

/** Send `text` over TLS with `servername`, half-close, return the answer and the certificate's CN. */
async function exchange(
  port: number,
  servername: string,
  text: string,
): Promise<{ answer: string; cn: string }> {
  const s = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false })
  await once(s, 'secureConnect')
  const cn = String(s.getPeerCertificate().subject.CN)
  const chunks: Buffer[] = []
  s.on('data', (d: Buffer) => chunks.push(d))
  s.end(text)
  await once(s, 'end')
  s.destroy()
  return { answer: Buffer.concat(chunks).toString(), cn }
}

test('tls on a tcp listener: plain bytes upstream, routed by the handshake server name', async () => {
  const d = certDir()
  const a = makeCert(d.dir, { names: ['a.test'] })
  const b = makeCert(d.dir, { names: ['b.test'], type: 'ec' })
  const upA = await recording('A')
  const upD = await recording('D')
  const lb = await startLb((c) => {
    c.listeners = [
      tcpListener('tls', 'd', {
        sniRoutes: [{ serverName: 'a.test', service: 'a' }],
        tls: tlsConfig([a, b]),
      }),
    ]
    c.services = [service('a', [upA.port]), service('d', [upD.port])]
  })
  try {
    const port = portOf(lb, 'tls')
    assert.deepEqual(await exchange(port, 'a.test', 'hello a'), { answer: 'A:hello a', cn: 'a.test' })
    assert.deepEqual(await exchange(port, 'b.test', 'hello b'), { answer: 'D:hello b', cn: 'b.test' })
    const big = 'x'.repeat(300_000)
    assert.equal((await exchange(port, 'a.test', big)).answer, `A:${big}`)
    assert.deepEqual(upA.got.slice(0, 1), ['hello a'], 'the upstream reads plain text')
    assert.deepEqual(upD.got, ['hello b'])
  } finally {
    await lb.close()
    await upA.close()
    await upD.close()
    d.remove()
  }
})
