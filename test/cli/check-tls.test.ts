/**
 * `lb check` on TLS: a static route whose host no certificate of an HTTPS listener covers is a warning (the check
 * still passes); `host:80` routes (plain listeners only) and the catch-all are not looked at. Expiry and key
 * mismatch are covered by test/config/tls.test.ts.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { runCheck } from '../../src/cli/check.js'
import { certDir, makeCert } from '../helpers/certs.js'

const d = certDir()
after(() => d.remove())
const cert = makeCert(d.dir, { names: ['good.test', '*.good.test'] })

async function check(hosts: readonly string[], tls = true): Promise<{ ok: boolean; lines: string[] }> {
  const path = join(d.dir, 'lb.yaml')
  const tlsBlock = tls
    ? `    tls: { certificates: [{ cert_file: "${cert.cert}", key_file: "${cert.key}" }] }\n`
    : ''
  const routes = hosts
    .map((h) => `  - host: "${h}"\n    path: /${hosts.indexOf(h)}\n    service: s\n`)
    .join('')
  await writeFile(
    path,
    `listeners:\n  - address: "127.0.0.1:0"\n${tlsBlock}services:\n  - name: s\n    servers: [{ address: "127.0.0.1:1" }]\nroutes:\n${routes}`,
  )
  const r = await runCheck(path, {}, (p) => readFile(p, 'utf8'), readdir, Date.now())
  return { ok: r.ok, lines: r.output.split('\n').map((l) => l.replace(`${path}: `, '')) }
}

test('routes whose host no certificate covers are warnings', async () => {
  const r = await check([
    'good.test',
    'a.good.test',
    '*.good.test',
    'other.test',
    'b.a.good.test:443',
    'x.test:80',
    '',
  ])
  assert.equal(r.ok, true)
  assert.deepEqual(r.lines.slice(0, -1), [
    'warning: routes[3].host: other.test: no certificate of an HTTPS listener covers this name',
    'warning: routes[4].host: b.a.good.test:443: no certificate of an HTTPS listener covers this name',
  ])
  assert.match(r.lines.at(-1) ?? '', /^ok: /)
})

test('no HTTPS listener: no coverage warnings', async () => {
  const r = await check(['other.test'], false)
  assert.deepEqual(r.lines.length, 1)
  assert.equal(r.ok, true)
})
