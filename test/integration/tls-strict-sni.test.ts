/**
 * `tls.strict_sni` (fabio `strictmatch=true`, haproxy `strict-sni`): a server name no certificate covers, or none,
 * gets a fatal unrecognized_name alert instead of the first certificate; covered names (exact and wildcard)
 * still handshake. Without it the first certificate answers, as before.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { connect } from 'node:tls'
import { startLb } from '../helpers/lb.js'
import { certDir, makeCert, peerCertificate, tlsConfig, useTls } from '../helpers/certs.js'

/** The handshake's outcome for `servername` ('' = none): the certificate's CN, or the error's code. */
function outcome(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(servername === '' ? {} : { servername }),
    })
    s.once('secureConnect', () => {
      resolve(String(s.getPeerCertificate().subject.CN))
      s.destroy()
    })
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
}

test('strict_sni: unknown or missing names get unrecognized_name; known names their certificate', async () => {
  const d = certDir()
  const a = makeCert(d.dir, { names: ['a.test'] })
  const w = makeCert(d.dir, { names: ['*.w.test'], type: 'ec' })
  const lb = await startLb((c) => useTls(c, tlsConfig([a, w], { strict_sni: true })))
  try {
    assert.equal(await outcome(lb.port, 'a.test'), 'a.test')
    assert.equal(await outcome(lb.port, 'x.w.test'), '*.w.test')
    assert.equal(await outcome(lb.port, 'other.test'), 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME')
    assert.equal(await outcome(lb.port, ''), 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME')
    // The alert as OpenSSL's own client reports it.
    const out = await new Promise<string>((resolve) => {
      const args = ['s_client', '-connect', `127.0.0.1:${lb.port}`, '-servername', 'other.test']
      const p = execFile('openssl', args, (_err, stdout, stderr) => resolve(stdout + stderr))
      p.stdin?.end()
    })
    assert.match(out, /alert unrecognized name|alert number 112/)
  } finally {
    await lb.close()
    d.remove()
  }
})

test('without strict_sni an unknown name gets the first certificate', async () => {
  const d = certDir()
  const a = makeCert(d.dir, { names: ['a.test'] })
  const lb = await startLb((c) => useTls(c, tlsConfig([a])))
  try {
    assert.equal((await peerCertificate(lb.port, 'other.test')).subject.CN, 'a.test')
  } finally {
    await lb.close()
    d.remove()
  }
})
