/** `check.send_proxy` (haproxy `check-send-proxy`): absent = follow the service's send_proxy, else a boolean. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { problemLines, valid, yaml } from './helpers.js'

test('check.send_proxy: absent stays absent, true/false kept, defaults.check passes it on', () => {
  const c = valid(yaml`
    defaults:
      check: { send_proxy: true }
    services:
      - name: inherits
        servers: [{ address: 127.0.0.1:1 }]
      - name: off
        send_proxy: v2
        check: { port: 9000, send_proxy: false }
        servers: [{ address: 127.0.0.1:2 }]
      - name: plain
        check: true
        servers: [{ address: 127.0.0.1:3 }]
  `)
  assert.equal(c.services[0]?.check?.sendProxy, true)
  assert.equal(c.services[1]?.check?.sendProxy, false)
  assert.equal(c.services[1]?.sendProxy, 'v2')
  assert.equal(c.services[2]?.check?.sendProxy, true)
  assert.equal(
    'sendProxy' in
      (valid('services: [{ name: a, check: true, servers: [{ address: "127.0.0.1:1" }] }]').services[0]
        ?.check ?? {}),
    false,
  )
})

test('check.send_proxy: not a boolean is a problem with its path', () => {
  assert.deepEqual(
    problemLines(yaml`
      services:
        - name: api
          check: { send_proxy: v2 }
          servers: [{ address: 127.0.0.1:1 }]
    `),
    ['services[0].check.send_proxy: expected true or false, got "v2"'],
  )
})
