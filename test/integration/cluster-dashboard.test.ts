/**
 * The dashboard in cluster mode: the primary samples the worker processes' counters (the replies /metrics
 * aggregates), so requests served by either worker show up in /api/dashboard's rates. Waits on the primary's
 * `dashboard sampled` debug lines, never on time.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon, fetchOnce } from '../helpers/daemon.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'

interface Dash {
  times: number[]
  services: { service: string; traffic: { rps: number } | null }[]
  servers: { service: string; server: string; traffic: { rps: number; r2xx: number } | null }[]
  series: Record<string, { rps: (number | null)[]; r2xx: (number | null)[] }>
}

test('cluster: the dashboard counts the requests every worker served', async () => {
  const up = await startUpstream('a')
  const admin = await deadPort()
  const lb = await Daemon.start(`workers: 2
log:
  level: debug
  access:
    enabled: false
admin:
  address: 127.0.0.1:${admin}
  sample_interval: 200ms
listeners:
  - name: web
    address: 127.0.0.1:0
services:
  - name: a
    servers:
      - address: 127.0.0.1:${up.port}
routes:
  - path: /
    service: a
`)
  try {
    const port = await lb.port('web')
    const ready = await lb.waitFor((l) => l.msg === 'workers ready', 'ready')
    assert.equal((ready.pids as number[]).length, 2)
    // New connections per request: the kernel spreads them over both workers.
    for (let i = 0; i < 30; i++) assert.equal((await fetchOnce(port, '/')).status, 200)
    const before = lb.count((l) => l.msg === 'dashboard sampled')
    // Two more samples: the second one has every request in its counters' difference.
    await lb.waitFor((l) => l.msg === 'dashboard sampled', 'two samples after the traffic', before + 2)
    const d = JSON.parse((await fetchOnce(admin, '/api/dashboard?series=a')).body) as Dash
    const rps = d.series['a']?.rps ?? []
    assert.equal(rps.length, d.times.length)
    // Requests = Σ rate × seconds between samples (the rates are per second, rounded to 0.01).
    let requests = 0
    for (let i = 1; i < d.times.length; i++)
      requests += (rps[i] ?? 0) * (((d.times[i] as number) - (d.times[i - 1] as number)) / 1000)
    assert.equal(Math.round(requests), 30, JSON.stringify(d.series))
    const server = d.servers.find((s) => s.service === 'a')
    assert.ok(server !== undefined, 'the server is listed')
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await up.close()
  }
})
