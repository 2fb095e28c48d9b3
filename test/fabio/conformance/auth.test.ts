/**
 * fabio `auth/basic_test.go` (TestBasic_Authorised 4 rows, TestBasic_Authorized_should_set_www_realm_header) and
 * `route/auth_test.go` (TestTarget_Authorized 3 rows), through src/route/auth.ts. Not ported:
 * TestBasic_Authorised_should_fail_without_htpasswd_file (fabio re-reads the file every `refresh`; lb reads it
 * at start and on reload), TestNewBasicAuth and TestLoadAuthSchemes (config loading: test/config/auth.test.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import bcrypt from 'bcryptjs'
import { fabioCases } from './cases.js'
import { checkAuth, compileAuthScheme, matchPassword, type AuthScheme } from '../../../src/route/auth.js'

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

function scheme(htpasswd: string): AuthScheme {
  return compileAuthScheme({ name: 'testrealm', type: 'basic', realm: 'testrealm', htpasswd })
}

fabioCases(
  'TestBasic_Authorised',
  [
    {
      fabio: 'TestBasic_Authorised/correct credentials should be authorized',
      in: basic('foo', 'bar'),
      want: true,
    },
    {
      fabio: 'TestBasic_Authorised/incorrect credentials should not be authorized',
      in: basic('baz', 'blarg'),
      want: false,
    },
    {
      fabio: 'TestBasic_Authorised/missing Authorization header should not be authorized',
      in: undefined,
      want: false,
    },
    {
      fabio: 'TestBasic_Authorised/malformed Authorization header should not be authorized',
      in: 'malformed',
      want: false,
    },
  ],
  (header: string | undefined) => checkAuth(scheme('foo:bar'), header),
)

test('TestBasic_Authorized_should_set_www_realm_header', () => {
  assert.equal(scheme('foo:bar').challenge, 'Basic realm="testrealm"')
})

const schemes = new Map([['mybasic', scheme('foo:bar')]])
fabioCases(
  'TestTarget_Authorized',
  [
    { fabio: 'TestTarget_Authorized/matches correct auth scheme', in: 'mybasic', want: true },
    { fabio: 'TestTarget_Authorized/returns true when scheme is empty', in: '', want: true },
    { fabio: 'TestTarget_Authorized/returns false when scheme is unknown', in: 'foobar', want: false },
  ],
  // A route without auth (scheme '') is not checked at all (src/proxy/request-path.ts); an unknown one passes nobody.
  (name) => name === '' || checkAuth(schemes.get(name), basic('foo', 'bar')),
)

test('htpasswd hash formats fabio accepts: bcrypt, {SHA}, $apr1$, plain', () => {
  assert.ok(matchPassword('secret', bcrypt.hashSync('secret', 4)))
  assert.ok(!matchPassword('wrong', bcrypt.hashSync('secret', 4)))
  assert.ok(matchPassword('secret', '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ='))
  assert.ok(matchPassword('secret', '$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/'))
  assert.ok(!matchPassword('Secret', '$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/'))
  assert.ok(matchPassword('bar', 'bar'))
})

test('a verified credential is remembered by its hash only', () => {
  const s = scheme(`foo:${bcrypt.hashSync('bar', 4)}`)
  assert.ok(checkAuth(s, basic('foo', 'bar')))
  assert.equal(s.verified.size, 1)
  for (const k of s.verified) assert.match(k, /^[0-9a-f]{64}$/)
  assert.ok(checkAuth(s, basic('foo', 'bar')))
  assert.ok(!checkAuth(s, basic('foo', 'baz')))
  assert.equal(s.verified.size, 1)
})
