/**
 * A huge catalog: up to 10,000 routed services (one long-poll each) from a Consul test server in its own process (so
 * both ends' 10k sockets do not share this process's fd limit). lb syncs all of them while a static route keeps
 * answering, follows one change among them, and keeps all 10,000 when Consul then disappears.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startConsulLb } from '../helpers/consul-lb.js'
import { route, service } from '../helpers/lb.js'
import { startUpstream } from '../helpers/upstream.js'
import { get } from '../helpers/client.js'
import type { Snapshot } from '../../src/model/snapshot.js'

// npm test: 1,000 (about 15 s here); the 10,000 of the issue on demand with HUGE_SERVICES=10000 (2–5 min on a
// loaded 2-core machine: the initial sync runs at ~80 services/s; see docs/reliability.md).
const SERVICES = Number(process.env.HUGE_SERVICES ?? 1_000)
const childJs = fileURLToPath(new URL('../../bench/consul-server-child.js', import.meta.url))

function consulServices(s: Snapshot): number {
  let n = 0
  for (const svc of s.services) if (svc.name.endsWith('@consul')) n++
  return n
}

test(
  `${SERVICES} Consul services: synced, a change followed, all kept when Consul goes away`,
  { timeout: 400_000 },
  async () => {
    const child = fork(childJs, [], { stdio: 'inherit' })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const port = await new Promise<number>((resolve) => {
      child.once('message', (m: { port: number }) => resolve(m.port))
      child.send({ setup: { services: SERVICES, instances: 1 } })
    })
    const a = await startUpstream('static')
    const t = await startConsulLb(`127.0.0.1:${port}`, {
      edit: (c) => {
        c.services = [service('static', [a.port])]
        c.routes = [route('static.test', '/', 'static')]
      },
      consul: (c) => {
        c.wait = 60_000
        // Production backoff: with 10k watches the test helper's 20–200 ms would be a retry storm of its own.
        c.backoff = { min: 250, max: 30_000 }
      },
    })
    try {
      // The static route answers from the start, while 10k watches fill in.
      assert.equal((await get(t.lb.url, '/', { host: 'static.test' })).body, 'static')
      const t0 = performance.now()
      const progress = setInterval(() => {
        const w = t.provider.watches()
        if (process.env.HUGE_DEBUG !== undefined)
          console.log(
            `# watches ${w.length} ok ${w.filter((x) => x.lastSuccess > 0).length} err ${w.filter((x) => x.errors > 0).length} ${w.find((x) => x.errors > 0)?.lastError ?? ''} applies ${t.snapshots.length}`,
          )
      }, 2_000)
      const synced = await t.applied((s) => consulServices(s) === SERVICES, 300_000)
      const syncMs = performance.now() - t0
      clearInterval(progress)
      assert.equal(consulServices(synced), SERVICES)
      assert.ok(synced.routes.some((r) => r.host === `svc-${SERVICES - 1}.example.com`))
      console.log(
        `# ${SERVICES}-service initial sync: ${syncMs.toFixed(0)} ms, ${synced.routes.length} routes`,
      )

      // One change among 10k: a second instance of svc-42.
      child.send({
        register: {
          id: 'svc-42-new',
          service: 'svc-42',
          node: 'node-new',
          address: '10.99.0.1',
          port: 9000,
          tags: ['urlprefix-svc-42.example.com/', 'urlprefix-/svc-42', 'version-1'],
        },
      })
      const changed = await t.applied(
        (s) => (s.services.find((x) => x.name === 'svc-42@consul')?.servers.length ?? 0) === 2,
        30_000,
      )
      assert.equal(consulServices(changed), SERVICES)

      // Consul gone: every watch fails and backs off; nothing is withdrawn.
      const applies = t.snapshots.length
      child.disconnect()
      await exited
      const deadline = Date.now() + 10_000
      while (!t.provider.watches().some((w) => w.errors >= 1)) {
        if (Date.now() > deadline) throw new Error('watches never noticed Consul was gone')
        await new Promise((r) => setImmediate(r))
      }
      assert.equal(t.snapshots.length, applies, 'no snapshot applied from a failing Consul')
      assert.equal(consulServices(t.snapshots.at(-1) as Snapshot), SERVICES)
      const r = await get(t.lb.url, '/', { host: 'static.test' })
      assert.equal(r.body, 'static', `${r.status} ${JSON.stringify(t.lb.access.at(-1))}`)
    } finally {
      if (child.connected) child.disconnect()
      await t.close()
      await a.close()
    }
  },
)
