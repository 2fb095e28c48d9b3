/**
 * lb registers itself in Consul (issue 20 feature 3, fabio registry.consul.register.*) with an HTTP check on
 * /health and a `register=` alias, and on shutdown deregisters before it stops listening: at the moment Consul
 * receives the deregistration, lb's listener still accepts requests.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { Primary } from '../../src/process/primary.js'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { startUpstream } from '../helpers/upstream.js'
import { get } from '../helpers/client.js'
import { waitFor } from '../helpers/consul-lb.js'

test('self-registration: register with aliases, deregister first on stop', async () => {
  const consul = await ConsulTestServer.start()
  const up = await startUpstream('web')
  const dir = await mkdtemp(join(tmpdir(), 'lb-register-'))
  const file = join(dir, 'lb.yaml')
  await writeFile(
    file,
    `listeners:
  - address: 127.0.0.1:0
admin:
  address: 127.0.0.1:0
log: { level: silent, access: { enabled: false } }
route_commands: |
  route add web api.example.com/ http://127.0.0.1:${up.port}/ opts "register=api-example"
consul:
  addresses: [${consul.address}]
  backoff: { min: 20ms, max: 100ms }
  throttle: 0ms
  register: { enabled: true, name: edge, address: 127.0.0.1:9998, tags: [a, b] }
`,
  )
  const silent = pino({ level: 'silent' })
  const primary = await Primary.start({ configPath: file, env: {}, log: silent, accessLog: silent })
  const port = [...primary.worker.ports().values()][0] ?? 0
  try {
    await waitFor(() => consul.agentServices.size === 2)
    const ids = [...consul.agentServices.keys()].sort()
    assert.match(ids[0] ?? '', /^api-example-.+-9998$/)
    assert.match(ids[1] ?? '', /^edge-.+-9998$/)
    const edge = [...consul.agentServices.values()].find((s) => s.Name === 'edge')
    assert.deepEqual(edge?.Tags, ['a', 'b'])
    assert.deepEqual(edge?.Check, {
      HTTP: 'http://127.0.0.1:9998/health',
      Interval: '1000ms',
      Timeout: '3000ms',
      DeregisterCriticalServiceAfter: '60000ms',
    })
    const servedDuringDeregistration: number[] = []
    consul.onAgent = async (op) => {
      if (op !== 'deregister') return
      const r = await get(`http://127.0.0.1:${port}`, '/', { host: 'api.example.com' })
      servedDuringDeregistration.push(r.status)
    }
    await primary.stop(1_000)
    assert.equal(consul.agentServices.size, 0, 'both registrations removed')
    assert.deepEqual(servedDuringDeregistration, [200, 200], 'lb still served while Consul was told')
  } finally {
    await consul.close()
    await up.close()
    await rm(dir, { recursive: true, force: true })
  }
})
