/** ALPN on HTTPS listeners: h2 offered before http/1.1 by default, no ALPN with `http2: false`; curl. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { connect } from 'node:tls'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'

function alpn(port: number, offer: string[]): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: offer })
    s.once('secureConnect', () => {
      const p = s.alpnProtocol ?? false
      s.destroy()
      resolve(p)
    })
    s.once('error', reject)
  })
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sk', '--max-time', '10', ...args], (err, stdout) => {
      if (err !== null) reject(err)
      else resolve(stdout)
    })
  })
}

test('ALPN: h2 by default, none (HTTP/1.1) with http2: false; curl --http2 speaks HTTP/2', async () => {
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const up = await startUpstream('u')
  const edit = (http2: boolean | undefined) => (c: Parameters<Parameters<typeof startLb>[0]>[0]) => {
    useTls(c, tlsConfig([cert]))
    const l = c.listeners[0]
    if (http2 !== undefined && l !== undefined && l.mode === 'http') l.http2 = http2
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  }
  const on = await startLb(edit(undefined))
  const off = await startLb(edit(false))
  try {
    assert.equal(await alpn(on.port, ['h2', 'http/1.1']), 'h2')
    assert.equal(await alpn(on.port, ['http/1.1', 'h2']), 'h2', 'the server prefers h2')
    assert.equal(await alpn(on.port, ['http/1.1']), 'http/1.1')
    // http2: false is the listener as before HTTP/2: no ALPN at all, so clients speak HTTP/1.1.
    assert.equal(await alpn(off.port, ['h2', 'http/1.1']), false)
    const url = (port: number): string => `https://site.test:${port}/x`
    const resolve = (port: number): string => `site.test:${port}:127.0.0.1`
    const viaH2 = await curl([
      '--http2',
      '--resolve',
      resolve(on.port),
      '-w',
      '%{http_version} %{http_code}',
      '-o',
      '/dev/null',
      url(on.port),
    ])
    assert.equal(viaH2, '2 200')
    const body = await curl(['--http2', '--resolve', resolve(on.port), url(on.port)])
    assert.equal(body, 'u')
    const viaH1 = await curl([
      '--http2',
      '--resolve',
      resolve(off.port),
      '-w',
      '%{http_version} %{http_code}',
      '-o',
      '/dev/null',
      url(off.port),
    ])
    assert.equal(viaH1, '1.1 200')
  } finally {
    await on.close()
    await off.close()
    await up.close()
    d.remove()
  }
})
