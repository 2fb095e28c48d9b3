/** lb's own Consul registration (fabio registry.consul.register.*): payloads, aliases, re-registration. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import {
  registrations,
  SelfRegistration,
  type RegisterOptions,
} from '../../../src/provider/consul/register.js'
import type { ConsulReply } from '../../../src/provider/consul/client.js'

const options: RegisterOptions = {
  name: 'lb',
  host: '10.0.0.5',
  port: 9998,
  tags: ['edge'],
  checkInterval: 1_000,
  checkTimeout: 3_000,
  deregisterCriticalAfter: 60_000,
}

test('registrations: lb and each alias, with an HTTP check on /health', () => {
  const r = registrations(options, ['api-example', 'lb', 'api-example', 'www'], 'host1')
  assert.deepEqual(
    r.map((s) => [s.ID, s.Name]),
    [
      ['lb-host1-9998', 'lb'],
      ['api-example-host1-9998', 'api-example'],
      ['www-host1-9998', 'www'],
    ],
  )
  assert.deepEqual(r[0], {
    ID: 'lb-host1-9998',
    Name: 'lb',
    Address: '10.0.0.5',
    Port: 9998,
    Tags: ['edge'],
    Check: {
      HTTP: 'http://10.0.0.5:9998/health',
      Interval: '1000ms',
      Timeout: '3000ms',
      DeregisterCriticalServiceAfter: '60000ms',
    },
  })
})

class FakeAgent {
  readonly calls: string[] = []
  readonly services = new Set<string>()
  get(path: string): Promise<ConsulReply> {
    this.calls.push(`GET ${path}`)
    const id = path.slice('/v1/agent/service/'.length)
    return Promise.resolve({ status: this.services.has(id) ? 200 : 404, index: NaN, text: '' })
  }
  put(path: string, body: unknown): Promise<ConsulReply> {
    if (path === '/v1/agent/service/register') {
      const id = (body as { ID: string }).ID
      this.services.add(id)
      this.calls.push(`register ${id}`)
    } else {
      const id = path.slice('/v1/agent/service/deregister/'.length)
      this.services.delete(id)
      this.calls.push(`deregister ${id}`)
    }
    return Promise.resolve({ status: 200, index: NaN, text: '' })
  }
}

test('SelfRegistration: registers, follows aliases, re-registers what the agent lost, deregisters all', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] })
  const agent = new FakeAgent()
  const reg = new SelfRegistration({
    http: agent,
    options,
    hostname: 'h',
    log: pino({ level: 'silent' }),
    refresh: 10_000,
  })
  await reg.start()
  assert.deepEqual(agent.calls, ['register lb-h-9998'])
  await reg.sync(['api'])
  await reg.sync(['api'])
  assert.deepEqual(
    agent.calls.slice(1),
    ['register api-h-9998'],
    'an unchanged alias is not registered again',
  )
  await reg.sync([])
  assert.deepEqual(agent.calls.slice(2), ['deregister api-h-9998'])
  agent.services.clear() // the agent restarted and forgot lb
  agent.calls.length = 0
  t.mock.timers.tick(10_000)
  await reg.sync([]) // waits for the queued check
  assert.deepEqual(agent.calls, ['GET /v1/agent/service/lb-h-9998', 'register lb-h-9998'])
  await reg.deregisterAll(1_000)
  assert.equal(agent.calls.at(-1), 'deregister lb-h-9998')
  assert.equal(agent.services.size, 0)
})
