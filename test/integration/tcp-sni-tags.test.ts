/**
 * fabio's tcp+sni routes from tags (issue 20 feature 7): `urlprefix-<host>/ proto=tcp` (here the same route
 * as a route command) routes TLS connections whose ClientHello names that host, on a TCP listener, without
 * terminating TLS.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:tls'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf } from '../helpers/lb.js'
import { ca, startTlsHttp } from '../helpers/tls.js'

async function fetchVia(port: number, servername: string): Promise<string> {
  const s = connect({ host: '127.0.0.1', port, servername, ca })
  await once(s, 'secureConnect')
  const chunks: Buffer[] = []
  s.on('data', (d: Buffer) => chunks.push(d))
  s.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n')
  await new Promise<void>((resolve) => {
    const check = (): void => {
      const text = Buffer.concat(chunks).toString()
      if (/\r\n\r\n.+$/s.test(text)) resolve()
      else s.once('data', check)
    }
    check()
  })
  s.destroy()
  const text = Buffer.concat(chunks).toString()
  return text.slice(text.indexOf('\r\n\r\n') + 4)
}

test('tcp+sni: a host/ proto=tcp route picks TLS connections by server name', async () => {
  const a = await startTlsHttp('A')
  const d = await startTlsHttp('D')
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('tls', 'd')]
    c.services = [service('d', [d.port])]
    c.routes = []
    c.routeCommands = `route add a a.test/ tcp://127.0.0.1:${a.port}`
  })
  try {
    const port = portOf(lb, 'tls')
    assert.equal(await fetchVia(port, 'a.test'), 'A')
    assert.equal(await fetchVia(port, 'localhost'), 'D')
  } finally {
    await lb.close()
    await Promise.all([a.close(), d.close()])
  }
})
