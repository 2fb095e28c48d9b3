/** reusePort needs Node ≥ 22.12 (or ≥ 23.1) on Linux; older Node uses cluster's shared handle. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { listenExtras, supportsReusePort } from '../../src/net/listen.js'

const cases: { version: string; platform: string; want: boolean }[] = [
  { version: '20.20.2', platform: 'linux', want: false },
  { version: '22.11.0', platform: 'linux', want: false },
  { version: '22.12.0', platform: 'linux', want: true },
  { version: '23.0.0', platform: 'linux', want: false },
  { version: '23.1.0', platform: 'linux', want: true },
  { version: '24.4.1', platform: 'linux', want: true },
  { version: '24.4.1', platform: 'darwin', want: false },
  { version: '24.4.1', platform: 'win32', want: false },
]

for (const c of cases) {
  test(`listen: reusePort on Node ${c.version} ${c.platform}: ${c.want}`, () => {
    assert.equal(supportsReusePort(c.version, c.platform), c.want)
  })
}

test('listen: no extra options outside a cluster worker, and never for port 0', () => {
  assert.deepEqual(listenExtras(8080), {})
  assert.deepEqual(listenExtras(0), {})
})
