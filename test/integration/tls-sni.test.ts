/** An HTTPS listener with several certificates picks one per handshake: exact name, then wildcard, then the first. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, peerCertificate, tlsConfig, useTls } from '../helpers/certs.js'

/** The subject CN `openssl s_client -servername NAME` sees. */
function sClientCn(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername]
    const child = execFile('openssl', args, { timeout: 20_000 }, (err, stdout) => {
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(stdout)?.[0]
      if (pem === undefined) reject(err ?? new Error(`no certificate in s_client output: ${stdout}`))
      else resolve(new X509Certificate(pem).subject.replace(/^CN=/, ''))
    })
    child.stdin?.end()
  })
}

test('SNI: exact name, then wildcard, then the first certificate as default', async () => {
  const d = certDir()
  const first = makeCert(d.dir, { names: ['default.test'] })
  const exact = makeCert(d.dir, { names: ['api.example.test'] })
  const wild = makeCert(d.dir, { names: ['*.example.test'] })
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    useTls(c, tlsConfig([first, exact, wild]))
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const cases = [
      { desc: 'exact', sni: 'api.example.test', cn: 'api.example.test' },
      { desc: 'exact, any case', sni: 'API.Example.TEST', cn: 'api.example.test' },
      { desc: 'wildcard', sni: 'www.example.test', cn: '*.example.test' },
      { desc: 'wildcard covers one label only', sni: 'a.b.example.test', cn: 'default.test' },
      { desc: 'unknown name', sni: 'other.test', cn: 'default.test' },
      { desc: 'no server name', sni: '', cn: 'default.test' },
    ]
    for (const c of cases) {
      const cert = await peerCertificate(lb.port, c.sni)
      assert.equal(cert.subject.CN, c.cn, `tls.connect: ${c.desc}`)
    }
    assert.equal(await sClientCn(lb.port, 'api.example.test'), 'api.example.test', 's_client: exact')
    assert.equal(await sClientCn(lb.port, 'x.example.test'), '*.example.test', 's_client: wildcard')
    assert.equal(await sClientCn(lb.port, 'nope.test'), 'default.test', 's_client: default')
  } finally {
    await lb.close()
    await up.close()
    d.remove()
  }
})
