/**
 * Consul unreachable when lb starts (through Primary, as `lb --config` runs): lb starts and serves its static
 * routes, retries with backoff, and converges on Consul's routes once Consul answers.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Primary } from '../../src/process/primary.js'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startUpstream, deadPort, type TestUpstream, portOfUpstream } from '../helpers/upstream.js'
import { get } from '../helpers/client.js'
import { waitFor } from '../helpers/consul-lb.js'

let dir: string
let ups: TestUpstream[]
let primary: Primary
let consul: ConsulTestServer | null = null
let consulPort: number

before(async () => {
  ups = await Promise.all(['static', 'discovered'].map((n) => startUpstream(n)))
  consulPort = await deadPort()
  dir = await mkdtemp(join(tmpdir(), 'lb-consul-'))
  const file = join(dir, 'lb.yaml')
  await writeFile(
    file,
    `listeners:
  - address: 127.0.0.1:0
admin:
  address: "off"
log:
  level: silent
  access: { enabled: false }
services:
  - name: static
    servers: [{ address: 127.0.0.1:${portOfUpstream(ups, 0)} }]
routes:
  - { path: /static, service: static }
consul:
  addresses: [127.0.0.1:${consulPort}]
  backoff: { min: 20ms, max: 100ms }
  throttle: 0ms
`,
  )
  const silent = pino({ level: 'silent' })
  primary = await Primary.start({ configPath: file, env: {}, log: silent, accessLog: silent })
})

after(async () => {
  await primary.stop(1_000)
  await consul?.close()
  await Promise.all(ups.map((u) => u.close()))
  await rm(dir, { recursive: true, force: true })
})

test('starts and serves static routes while Consul is down, retrying', async () => {
  const port = [...primary.worker.ports().values()][0] ?? 0
  const r = await get(`http://127.0.0.1:${port}`, '/static')
  assert.equal(r.status, 200)
  assert.equal(r.body, 'static')
  await waitFor(() => (primary.consul?.stats.agentErrors ?? 0) >= 2)
})

test('converges once Consul answers', async () => {
  consul = await ConsulTestServer.start(consulPort)
  consul.register({ id: 'd-1', service: 'disc', port: portOfUpstream(ups, 1), tags: ['urlprefix-/disc'] })
  const port = [...primary.worker.ports().values()][0] ?? 0
  await waitFor(() => primary.worker.state.table.routes.some((r) => r.path === '/disc'))
  assert.equal((await get(`http://127.0.0.1:${port}`, '/disc')).body, 'discovered')
  assert.equal((await get(`http://127.0.0.1:${port}`, '/static')).body, 'static')
})
