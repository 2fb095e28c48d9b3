/**
 * `listeners[].tls` through `lb check` (runCheck, real files made with openssl): every problem names the dotted
 * path and the file; an expired certificate is a warning, not an error.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { runCheck } from '../../src/cli/check.js'
import { certDir, makeCert } from '../helpers/certs.js'

const readText = (p: string): Promise<string> => readFile(p, 'utf8')
const d = certDir()
after(() => d.remove())
const good = makeCert(d.dir, { names: ['good.test', '*.good.test'] })
const other = makeCert(d.dir, { names: ['other.test'], type: 'ec' })
const expired = makeCert(d.dir, { names: ['old.test'], days: -1 })

/** Check a config whose only listener has this `tls` section (YAML flow text). */
async function check(tls: string): Promise<{ ok: boolean; lines: string[] }> {
  const path = join(d.dir, 'lb.yaml')
  await writeFile(path, `listeners:\n  - address: "127.0.0.1:0"\n    tls: ${tls}\n`)
  const r = await runCheck(path, {}, readText, readdir, Date.now())
  return { ok: r.ok, lines: r.output.split('\n').map((l) => l.replace(`${path}: `, '')) }
}

const pair = (cert: string, key: string): string => `{ cert_file: "${cert}", key_file: "${key}" }`

test('valid certificates pass, relative to the config file', async () => {
  const r = await check(`{ certificates: [${pair('good.test.crt', 'good.test.key')}], min_version: TLS1.3 }`)
  assert.deepEqual(r, {
    ok: true,
    lines: ['ok: listener http-0 (127.0.0.1:0); 0 services, 0 servers, 0 routes; admin 127.0.0.1:9998'],
  })
})

test('a key that does not match its certificate: the key_file path and both files', async () => {
  const r = await check(`{ certificates: [${pair(good.cert, good.key)}, ${pair(good.cert, other.key)}] }`)
  assert.equal(r.ok, false)
  assert.deepEqual(r.lines, [
    `listeners[0].tls.certificates[1].key_file: ${other.key}: the key does not match the certificate in ${good.cert}`,
  ])
})

test('a missing file, a key in place of a certificate', async () => {
  const missing = join(d.dir, 'missing.crt')
  const r = await check(`{ certificates: [${pair(missing, good.key)}, ${pair(good.key, good.key)}] }`)
  assert.equal(r.ok, false)
  // Two problems, then lb check's count of them.
  assert.equal(r.lines.length, 3)
  assert.equal(r.lines[2], 'invalid: 2 problems (listeners 2)')
  assert.equal(r.lines[0], `listeners[0].tls.certificates[0].cert_file: cannot read ${missing}: ENOENT`)
  assert.match(
    r.lines[1] ?? '',
    new RegExp(
      `^listeners\\[0\\]\\.tls\\.certificates\\[1\\]\\.cert_file: ${good.key}: not a PEM certificate`,
    ),
  )
})

test('bad versions and ciphers', async () => {
  const r = await check(
    `{ certificates: [${pair(good.cert, good.key)}], min_version: TLS1.1, max_version: TLS1.4, ciphers: "NOPE-CIPHER" }`,
  )
  assert.equal(r.ok, false)
  assert.deepEqual(r.lines.slice(0, 2), [
    'listeners[0].tls.min_version: "TLS1.1" is not accepted: lb speaks TLS1.2 and TLS1.3 only',
    'listeners[0].tls.max_version: expected TLS1.2 or TLS1.3, got "TLS1.4"',
  ])
  assert.match(r.lines[2] ?? '', /^listeners\[0\]\.tls\.ciphers: OpenSSL refuses the cipher list: /)
  const inverted = await check(
    `{ certificates: [${pair(good.cert, good.key)}], min_version: TLS1.3, max_version: TLS1.2 }`,
  )
  assert.deepEqual(inverted.lines, [
    'listeners[0].tls.max_version: max_version TLS1.2 is below min_version TLS1.3',
  ])
})

test('an expired certificate is a warning in lb check, not an error', async () => {
  const path = join(d.dir, 'expired.yaml')
  await writeFile(
    path,
    `listeners:\n  - address: "127.0.0.1:0"\n    tls: { certificates: [${pair(expired.cert, expired.key)}] }\n`,
  )
  const r = await runCheck(path, {}, readText, readdir)
  assert.equal(r.ok, true)
  const lines = r.output.split('\n')
  assert.equal(lines.length, 2)
  assert.match(
    lines[0] ?? '',
    new RegExp(
      `^${path}: warning: listeners\\[0\\]\\.tls\\.certificates\\[0\\]: ${expired.cert}: the certificate expired at 20`,
    ),
  )
  assert.match(lines[1] ?? '', /: ok: /)
})

test('a directory of name.crt/name.key pairs; a .crt without its key', async () => {
  const dir = join(d.dir, 'store')
  mkdirSync(dir)
  copyFileSync(good.cert, join(dir, 'a.crt'))
  copyFileSync(good.key, join(dir, 'a.key'))
  const ok = await check(`{ directory: store }`)
  assert.equal(ok.ok, true, ok.lines.join('\n'))
  copyFileSync(other.cert, join(dir, 'b.crt'))
  const lonely = await check(`{ directory: store }`)
  assert.deepEqual(lonely.lines, [
    `listeners[0].tls.directory: ${join(dir, 'b.crt')} has no b.key next to it`,
  ])
  const none = await check(`{ directory: nowhere }`)
  assert.deepEqual(none.lines, [`listeners[0].tls.directory: cannot list ${join(d.dir, 'nowhere')}: ENOENT`])
})

test('client_auth: a CA file without a certificate, client_header without client_auth', async () => {
  const base = `certificates: [${pair(good.cert, good.key)}]`
  const noCa = await check(`{ ${base}, client_auth: { ca_file: "${good.key}" } }`)
  assert.equal(noCa.ok, false)
  assert.equal(
    noCa.lines[0],
    'listeners[0].tls.client_auth.ca_file: no PEM certificate (-----BEGIN CERTIFICATE-----) in it',
  )
  const noAuth = await check(`{ ${base}, client_header: X-Client-DN }`)
  assert.equal(
    noAuth.lines[0],
    'listeners[0].tls.client_header: needs client_auth: without it no client certificate is asked for',
  )
  const bad = await check(`{ ${base}, client_auth: { ca_file: "${good.cert}" }, client_header: "X Client" }`)
  assert.equal(bad.lines[0], 'listeners[0].tls.client_header: "X Client" is not a valid header name')
  const fine = await check(
    `{ ${base}, client_auth: { ca_file: "${good.cert}", required: false }, client_header: X-Client-DN }`,
  )
  assert.equal(fine.ok, true)
})

test('tls on a tcp listener: accepted; client_header is named as http-only', async () => {
  const path = join(d.dir, 'lb-tcp.yaml')
  const listener = (extra: string): string =>
    `listeners:\n  - address: "127.0.0.1:0"\n    mode: tcp\n    service: s\n    tls: { certificates: [${pair(good.cert, good.key)}]${extra} }\n` +
    `services:\n  - name: s\n    servers: [{ address: "127.0.0.1:1" }]\n`
  await writeFile(path, listener(''))
  const ok = await runCheck(path, {}, readText, readdir, Date.now())
  assert.equal(ok.ok, true, ok.output)
  await writeFile(path, listener(`, client_auth: { ca_file: "${good.cert}" }, client_header: X-Client-DN`))
  const bad = await runCheck(path, {}, readText, readdir, Date.now())
  assert.equal(bad.ok, false)
  assert.match(
    bad.output,
    /listeners\[0\]\.tls\.client_header: only applies to mode: http listeners \(a TCP relay sends no headers\)/,
  )
})

test('ticket_rotation and refresh bounds', async () => {
  const base = `certificates: [${pair(good.cert, good.key)}]`
  const r = await check(`{ ${base}, ticket_rotation: 10s, refresh: 25h }`)
  assert.equal(r.ok, false)
  assert.deepEqual(r.lines.slice(0, 2), [
    'listeners[0].tls.refresh: at most 24h (or 0: only on reload)',
    'listeners[0].tls.ticket_rotation: at least 1m (or 0: never rotate)',
  ])
  assert.equal((await check(`{ ${base}, ticket_rotation: 0s, refresh: 0s, strict_sni: true }`)).ok, true)
})
