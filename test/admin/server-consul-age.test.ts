/**
 * How old lb's Consul view is, where an operator looks: /api/explain (JSON `consul`, and the text form's last
 * line, which `lb explain` prints) and /api/dashboard (overall and per Consul service); null without Consul.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startAdmin } from '../helpers/admin.js'
import { route, service } from '../helpers/lb.js'
import { startUpstream } from '../helpers/upstream.js'

test('admin: /api/explain and /api/dashboard say how old the Consul view is', async () => {
  const up = await startUpstream('up')
  const at = Date.now() - 42_000
  const a = await startAdmin(
    (c) => {
      c.services = [service('web@consul', [up.port])]
      c.routes = [route('', '/', 'web@consul')]
    },
    undefined,
    {},
    () => [
      { name: 'catalog', lastSuccess: at, errors: 2, lastError: 'connect ECONNREFUSED' },
      { name: 'web', lastSuccess: at + 40_000, errors: 0, lastError: '' },
    ],
  )
  try {
    const json = JSON.parse((await a.get('/api/explain?path=/')).body) as {
      consul: { lastUpdate: number; ageSeconds: number; errors: number }
    }
    assert.equal(json.consul.lastUpdate, at)
    assert.ok(json.consul.ageSeconds >= 42 && json.consul.ageSeconds < 60, String(json.consul.ageSeconds))
    assert.equal(json.consul.errors, 2)
    const text = (await a.get('/api/explain?path=/&format=text')).body
    assert.match(
      text.trimEnd().split('\n').at(-1) ?? '',
      /^consul view: last answer 4\d(\.\d)? s ago \(2 errors: connect ECONNREFUSED\)$/,
    )
    const dash = JSON.parse((await a.get('/api/dashboard')).body) as {
      consul: { ageSeconds: number }
      services: { service: string; consul: { lastUpdate: number; ageSeconds: number } | null }[]
    }
    assert.ok(dash.consul.ageSeconds >= 42)
    const web = dash.services.find((s) => s.service === 'web@consul')
    assert.equal(web?.consul?.lastUpdate, at + 40_000, "the service's own watch")
    assert.ok((web?.consul?.ageSeconds ?? 99) < 20)
  } finally {
    await a.close()
    await up.close()
  }
})
