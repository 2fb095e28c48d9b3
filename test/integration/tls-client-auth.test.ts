/**
 * mTLS on an HTTPS listener (`tls.client_auth`, `tls.client_header`): a certificate the CA signed is accepted and
 * its subject goes upstream; none (when required) or one from another CA is refused; optional mode passes
 * without one (and without the header); a client-sent header of that name never reaches the upstream.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'
import {
  certDir,
  httpsGet,
  makeCa,
  makeCert,
  makeSigned,
  tlsConfig,
  useTls,
  type CertFiles,
} from '../helpers/certs.js'

const d = certDir()
const server = makeCert(d.dir, { names: ['site.test'], type: 'ec' })
const ca = makeCa(d.dir, 'clients-ca')
const otherCa = makeCa(d.dir, 'other-ca')
const good = makeSigned(d.dir, ca, 'good', '/O=Example, Inc/CN=client one')
const stranger = makeSigned(d.dir, otherCa, 'stranger', '/CN=stranger')
let up: TestUpstream
let required: TestLb
let optional: TestLb

async function mtlsLb(req: boolean): Promise<TestLb> {
  return startLb((c) => {
    useTls(
      c,
      tlsConfig([server], { client_auth: { ca: ca.pem, required: req }, client_header: 'X-Client-DN' }),
    )
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
}

before(async () => {
  up = await startUpstream('u')
  required = await mtlsLb(true)
  optional = await mtlsLb(false)
})

after(async () => {
  await required.close()
  await optional.close()
  await up.close()
  d.remove()
})

/** The status of one request, or the error's code when the connection failed. */
async function attempt(
  lb: TestLb,
  client?: CertFiles,
  headers?: Record<string, string>,
): Promise<number | string> {
  try {
    const r = await httpsGet(lb.port, '/', {
      host: 'site.test',
      ...(client === undefined ? {} : { client }),
      ...(headers === undefined ? {} : { headers }),
    })
    return r.status
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error'
  }
}

test('required: a certificate the CA signed is accepted; its subject goes upstream, RFC 2253 order', async () => {
  up.requests.length = 0
  assert.equal(await attempt(required, good, { 'x-client-dn': 'CN=forged' }), 200)
  assert.equal(up.requests.at(-1)?.headers['x-client-dn'], 'CN=client one,O=Example\\, Inc')
})

test('required: no certificate, or one from another CA, gets no response', async () => {
  up.requests.length = 0
  assert.equal(typeof (await attempt(required)), 'string')
  assert.equal(typeof (await attempt(required, stranger)), 'string')
  assert.equal(up.requests.length, 0)
})

test('optional: passes without a certificate, and a client-sent header is stripped', async () => {
  up.requests.length = 0
  assert.equal(await attempt(optional, undefined, { 'X-Client-DN': 'CN=forged' }), 200)
  assert.equal(up.requests.at(-1)?.headers['x-client-dn'], undefined)
})

test('optional: a good certificate is verified and sent upstream; another CA is refused', async () => {
  up.requests.length = 0
  assert.equal(await attempt(optional, good), 200)
  assert.equal(up.requests.at(-1)?.headers['x-client-dn'], 'CN=client one,O=Example\\, Inc')
  assert.equal(typeof (await attempt(optional, stranger)), 'string')
  assert.equal(up.requests.length, 1)
})
