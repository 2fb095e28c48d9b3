/**
 * The seed scenario: three TLS "apiservers", lb in TCP mode in front with an HTTPS /healthz check, a TLS
 * client that verifies the certificate through lb (passthrough). One apiserver dies under load: zero failed
 * new connections (retries), and it is DOWN within fall × inter.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:tls'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf } from '../helpers/lb.js'
import { ca, startTlsHttp } from '../helpers/tls.js'
import { checkDefaults } from '../../src/config/defaults.js'
import { showServers } from '../../src/admin/servers.js'

async function healthz(port: number): Promise<string> {
  const s = connect({ host: '127.0.0.1', port, servername: 'apiserver.test', ca })
  await once(s, 'secureConnect') // certificate verified by the client: lb did not touch TLS
  const chunks: Buffer[] = []
  s.write('GET /healthz HTTP/1.1\r\nhost: apiserver.test\r\n\r\n')
  for (;;) {
    const [d] = (await once(s, 'data')) as [Buffer]
    chunks.push(d)
    const text = Buffer.concat(chunks).toString()
    const head = text.indexOf('\r\n\r\n')
    if (head >= 0 && text.length > head + 4) {
      s.destroy()
      assert.match(text, /^HTTP\/1\.1 200/)
      return text.slice(head + 4)
    }
  }
}

test('apiserver: passthrough, one apiserver killed under load, no failed connection, DOWN within fall × inter', async () => {
  const apis = [await startTlsHttp('cp1'), await startTlsHttp('cp2'), await startTlsHttp('cp3')]
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 })
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('apiserver', 'apiservers')]
    c.services = [
      {
        ...service(
          'apiservers',
          apis.map((a) => a.port),
        ),
        retries: 2,
        check: {
          ...checkDefaults,
          type: 'https',
          inter: 1_000,
          rise: 2,
          fall: 2,
          initState: 'fully-up',
          http: { ...checkDefaults.http, path: '/healthz', expectStatus: [{ lo: 200, hi: 200 }] },
          tls: { ca, skipVerify: false, sni: 'apiserver.test' },
        },
      },
    ]
  })
  const tick = async (ms: number): Promise<void> => {
    mock.timers.tick(ms)
    await lb.health.settled()
  }
  try {
    const port = portOf(lb, 'apiserver')
    await tick(1_000)
    const served: string[] = []
    for (let i = 0; i < 9; i++) served.push(await healthz(port))
    assert.deepEqual([...new Set(served)].sort(), ['cp1', 'cp2', 'cp3'])
    await apis[1]?.close() // cp2 dies; checks have not noticed yet
    const after: string[] = []
    for (let i = 0; i < 30; i++) after.push(await healthz(port)) // every new connection succeeds
    assert.deepEqual([...new Set(after)].sort(), ['cp1', 'cp3'])
    const killedAt = Date.now()
    await tick(1_000)
    assert.equal(showServers(lb.worker)[1]?.up, true, 'one failure: still UP 1/2')
    await tick(1_000)
    const row = showServers(lb.worker)[1]
    assert.equal(row?.up, false)
    assert.ok(Date.now() - killedAt <= 2 * 1_000)
    assert.equal(row?.lastCheck?.result, 'L4CON')
    assert.ok(
      lb.access.some((l) => l.mode === 'tcp' && Number(l.retries) > 0),
      'some connections were retried',
    )
  } finally {
    mock.timers.reset()
    await lb.close()
    await Promise.all(apis.map((a) => a.close()))
  }
})
