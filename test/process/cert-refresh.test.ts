/**
 * Certificates replaced on disk (`tls.refresh`): under a bounded loop of HTTPS requests on new connections the
 * certificate is replaced (rename over the old files, as certbot-style tools do) and the primary's look at the
 * files (`refreshCertificates`, what its timer calls) applies it: no request fails, and new handshakes get the
 * new certificate. A broken replacement (a key of another certificate) keeps the serving one and is logged with
 * the file. In-process Primary with `workers: 0`; the steps are driven by calls, not timers.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rename } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { pino } from 'pino'
import { CapturedLog } from '../helpers/log-lines.js'
import { startUpstream } from '../helpers/upstream.js'
import {
  certDir,
  certificatesLine,
  httpsLoop,
  makeCert,
  peerCertificate,
  tlsDaemonYaml,
  startTlsPrimary,
} from '../helpers/certs.js'

/** `workers: 0`, listener `web` with `tls` (refresh 1h: the test looks itself) routing / to the upstream. */
function config(upstream: number, certificates: string): string {
  const rest = `services:\n  - name: a\n    servers: [{ address: "127.0.0.1:${upstream}" }]\nroutes:\n  - path: /\n    service: a\n`
  return tlsDaemonYaml(0, [certificates, 'refresh: 1h'], rest)
}

test('a replaced certificate serves new handshakes with no failed request; a broken one is refused', async () => {
  const live = certDir()
  const staged = certDir()
  const first = makeCert(live.dir, { names: ['site.test'], base: 'site' })
  const up = await startUpstream('a')
  const captured = new CapturedLog()
  const lines = captured.lines
  const yaml = config(up.port, certificatesLine(first.cert, first.key))
  const { primary, port, fingerprint } = await startTlsPrimary(yaml, captured.log)
  try {
    assert.equal(await primary.refreshCertificates(), 'unchanged')
    const before = await fingerprint()
    // A bounded loop of requests, each on a new connection, while the certificate changes.
    const load = httpsLoop(port, 'site.test', 150)
    const second = makeCert(staged.dir, { names: ['site.test'], base: 'site', type: 'ec' })
    await rename(second.key, first.key)
    await rename(second.cert, first.cert)
    assert.equal(await primary.refreshCertificates(), 'applied')
    const after = await fingerprint()
    const { ok, failed } = await load
    assert.equal(failed, 0, `${failed} failed, ${ok} ok`)
    assert.equal(ok, 150)
    assert.notEqual(after, before)
    assert.ok(lines.some((l) => l.msg === 'TLS certificates reloaded'))

    // A key that is not the certificate's: the serving certificate stays.
    const third = makeCert(staged.dir, { names: ['site.test'], base: 'third' })
    await rename(third.key, join(live.dir, 'site.key'))
    assert.equal(await primary.refreshCertificates(), 'kept')
    assert.equal(await fingerprint(), after)
    const refused = lines.find(
      (l) => l.msg === 'TLS certificates changed but do not load: the ones serving stay',
    )
    assert.match(JSON.stringify(refused?.problems), new RegExp(`${first.key}: the key does not match`))
    assert.equal(
      await primary.refreshCertificates(),
      'unchanged',
      'the same broken files are not loaded again',
    )
  } finally {
    await primary.stop(1_000)
    await up.close()
    live.remove()
    staged.remove()
  }
})

test('a pair added to tls.directory is served after the next look', async () => {
  const d = certDir()
  const store = join(d.dir, 'store')
  mkdirSync(store)
  makeCert(store, { names: ['a.test'], base: 'a' })
  const up = await startUpstream('a')
  const yaml = config(up.port, `directory: "${store}"`)
  const { primary, port } = await startTlsPrimary(yaml, pino({ level: 'silent' }))
  try {
    assert.equal((await peerCertificate(port, 'b.test')).subject.CN, 'a.test', 'no b.test yet: the first')
    makeCert(store, { names: ['b.test'], base: 'b' })
    assert.equal(await primary.refreshCertificates(), 'applied')
    assert.equal((await peerCertificate(port, 'b.test')).subject.CN, 'b.test')
  } finally {
    await primary.stop(1_000)
    await up.close()
    d.remove()
  }
})
