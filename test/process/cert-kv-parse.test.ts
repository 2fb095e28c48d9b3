/**
 * A Consul KV listing of certificates (cert-kv.ts `parseKvCertificates`): fabio's `<name>-cert.pem` +
 * `<name>-key.pem` and `<name>.pem` layouts and lb's `<name>.crt` + `<name>.key`, in key order; any bad pair
 * makes the whole listing a list of problems naming the keys.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { readFileSync } from 'node:fs'
import { parseKvCertificates } from '../../src/process/cert-kv.js'
import { certDir, makeCert } from '../helpers/certs.js'

const d = certDir()
const a = makeCert(d.dir, { names: ['a.test'] })
const b = makeCert(d.dir, { names: ['b.test'], type: 'ec' })
const c = makeCert(d.dir, { names: ['*.c.test'], base: 'c' })
const text = (f: string): string => readFileSync(f, 'utf8')
after(() => d.remove())

/** A `?recurse` answer for `pairs` (key → value; null = a folder key without a value). */
function listing(pairs: Record<string, string | null>): { status: number; text: string } {
  const items = Object.entries(pairs).map(([Key, v]) => ({
    Key,
    Value: v === null ? null : Buffer.from(v).toString('base64'),
  }))
  return { status: 200, text: JSON.stringify(items) }
}

test('the three layouts, ordered by certificate key, other keys ignored', () => {
  const r = parseKvCertificates(
    listing({
      'lb/certs/': null,
      'lb/certs/zz-cert.pem': text(a.cert),
      'lb/certs/zz-key.pem': text(a.key),
      'lb/certs/b.crt': text(b.cert),
      'lb/certs/b.key': text(b.key),
      'lb/certs/c.pem': text(c.cert) + text(c.key),
      'lb/certs/README': 'not a certificate',
    }),
  )
  assert.ok('certificates' in r, JSON.stringify(r))
  assert.deepEqual(
    r.certificates.map((x) => [x.certFile, x.keyFile, x.names]),
    [
      ['consul:lb/certs/b.crt', 'consul:lb/certs/b.key', ['b.test']],
      ['consul:lb/certs/c.pem', 'consul:lb/certs/c.pem', ['*.c.test']],
      ['consul:lb/certs/zz-cert.pem', 'consul:lb/certs/zz-key.pem', ['a.test']],
    ],
  )
  assert.equal(r.certificates[0]?.pem.privateKey, text(b.key))
  assert.ok((r.certificates[0]?.notAfter ?? 0) > Date.now() / 1000)
})

test('a missing prefix (404) is no certificates', () => {
  assert.deepEqual(parseKvCertificates({ status: 404, text: '' }), { certificates: [] })
})

test('a wrong key, a certificate without its key and a lone key are all reported', () => {
  const r = parseKvCertificates(
    listing({
      'lb/certs/a-cert.pem': text(a.cert),
      'lb/certs/a-key.pem': text(b.key),
      'lb/certs/b.crt': text(b.cert),
      'lb/certs/c-key.pem': text(c.key),
    }),
  )
  assert.ok('problems' in r)
  assert.deepEqual(r.problems, [
    'consul:lb/certs/a-key.pem: the key does not match the certificate in consul:lb/certs/a-cert.pem',
    'consul:lb/certs/b.crt: no consul:lb/certs/b.key next to it',
    'consul:lb/certs/c-key.pem: a key without its certificate',
  ])
})

test('an answer that is not a JSON list is a problem', () => {
  assert.deepEqual(parseKvCertificates({ status: 200, text: '{"a":1}' }), {
    problems: ['the answer is not a JSON list'],
  })
})
