/**
 * No secret in any log line: a real Primary with an admin token and a Consul token (Consul unreachable), driven
 * through the admin API with wrong and right tokens, a reload (which logs the config change) and a stop. Every
 * log line at debug level is captured and searched for the secrets.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { Primary } from '../../src/process/primary.js'
import { bearer } from '../helpers/admin.js'
import { get } from '../helpers/client.js'
import { writeConfig } from '../helpers/process.js'
import { deadPort } from '../helpers/upstream.js'

const adminToken = 'admin-LOGSECRET-4b7e'
const consulToken = 'consul-LOGSECRET-91ac'

test('admin: no secret in any log line', async () => {
  const adminPort = await deadPort()
  const consulPort = await deadPort()
  const file = await writeConfig(`
listeners:
  - { name: web, address: 127.0.0.1:0 }
admin:
  address: 127.0.0.1:${adminPort}
  token: ${adminToken}
consul:
  addresses: [127.0.0.1:${consulPort}]
  token: ${consulToken}
  backoff: { min: 10ms, max: 50ms }
services:
  - name: web
    servers: [{ address: 127.0.0.1:1 }]
routes:
  - { path: /, service: web }
`)
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'))
      cb()
    },
  })
  const log = pino({ level: 'debug' }, sink)
  const primary = await Primary.start({
    configPath: file,
    env: {},
    log,
    accessLog: pino({ level: 'silent' }),
  })
  try {
    const url = `http://127.0.0.1:${adminPort}`
    assert.equal(
      (
        await get(url, '/api/servers/web/127.0.0.1:1/state', {
          method: 'POST',
          body: 'drain',
          headers: bearer('wrong'),
        })
      ).status,
      401,
    )
    const ok = await get(url, '/api/servers/web/127.0.0.1%3A1/state', {
      method: 'POST',
      body: 'drain',
      headers: bearer(adminToken),
    })
    assert.equal(ok.status, 200, ok.body)
    assert.equal((await get(url, '/api/reload', { method: 'POST', headers: bearer(adminToken) })).status, 200)
    assert.equal((await get(url, '/api/config')).status, 200)
  } finally {
    await primary.stop(0)
  }
  const all = lines.join('')
  assert.ok(lines.length > 3, 'something was logged')
  assert.ok(!all.includes(adminToken), 'admin token in a log line')
  assert.ok(!all.includes(consulToken), 'consul token in a log line')
})
