/** routes[].allow / routes[].deny: CIDR lists in canonical form, reaching the snapshot; bad entries are problems. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { problemLines, valid } from './helpers.js'
import { configToSnapshot } from '../../src/provider/file.js'

const services = 'services: [{ name: web, servers: [{ address: 127.0.0.1:9001 }] }]\n'

test('route ACL: lists are canonicalised and carried into the snapshot', () => {
  const config = valid(
    services +
      'routes:\n' +
      '  - { path: /admin, service: web, allow: [10.1.2.3/8, 192.168.0.7], deny: ["::1"] }\n' +
      '  - { path: /, service: web }\n',
  )
  const [admin, root] = configToSnapshot(config).routes
  assert.deepEqual(admin?.allow, ['10.0.0.0/8', '192.168.0.7/32'])
  assert.deepEqual(admin?.deny, ['::1/128'])
  assert.equal(root?.allow, undefined)
  assert.equal(root?.deny, undefined)
})

test('route ACL: every bad entry is reported with its path', () => {
  assert.deepEqual(
    problemLines(
      services + 'routes:\n  - { path: /, service: web, allow: [10.0.0.0/33, ok], deny: 10.0.0.0/8 }\n',
    ),
    [
      'routes[0].allow[0]: invalid CIDR: prefix length must be 0..32: "10.0.0.0/33"',
      'routes[0].allow[1]: invalid CIDR: not an IP address: "ok"',
      'routes[0].deny: expected a list, got "10.0.0.0/8"',
    ],
  )
})
