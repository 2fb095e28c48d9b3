/** SNI routing on a tcp listener: the ClientHello picks the service; TLS passes through (client verifies). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:tls'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf, until } from '../helpers/lb.js'
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

test('sni: a.test and b.test go to their services, anything else to the default', async () => {
  const a = await startTlsHttp('A')
  const b = await startTlsHttp('B')
  const d = await startTlsHttp('D')
  const lb = await startLb((c) => {
    c.listeners = [
      tcpListener('tls', 'd', {
        sniRoutes: [
          { serverName: 'a.test', service: 'a' },
          { serverName: '*.test', service: 'b' },
        ],
      }),
    ]
    c.services = [service('a', [a.port]), service('b', [b.port]), service('d', [d.port])]
  })
  try {
    const port = portOf(lb, 'tls')
    assert.equal(await fetchVia(port, 'a.test'), 'A')
    assert.equal(await fetchVia(port, 'b.test'), 'B')
    assert.equal(await fetchVia(port, 'localhost'), 'D')
    await until(() => lb.access.filter((l) => l.mode === 'tcp').length === 3, 'three log lines')
    assert.deepEqual(
      lb.access.filter((l) => l.mode === 'tcp').map((l) => `${String(l.sni)}→${String(l.service)}`),
      ['a.test→a', 'b.test→b', 'localhost→d'],
    )
  } finally {
    await lb.close()
    await Promise.all([a.close(), b.close(), d.close()])
  }
})
