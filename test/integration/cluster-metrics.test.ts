/**
 * Admin /metrics in cluster mode: the workers' request counters summed by the primary; a worker that does not
 * answer (SIGSTOP) is left out and counted in lb_metrics_workers_missing instead of failing the scrape.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Daemon, fetchOnce, clusterConfig } from '../helpers/daemon.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'

function value(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1))
  }
  return undefined
}

test('cluster: /metrics aggregates the workers and survives a stuck one', async () => {
  const a = await startUpstream('a')
  const admin = await deadPort()
  const lb = await Daemon.start(clusterConfig({ upstream: a.port, admin: `127.0.0.1:${admin}` }))
  try {
    const port = await lb.port('web')
    const ready = await lb.waitFor((l) => l.msg === 'workers ready', 'ready')
    for (let i = 0; i < 20; i++) assert.equal((await fetchOnce(port, '/')).status, 200)
    const series = 'lb_http_requests_total{service="a",code="2xx"}'
    const full = (await fetchOnce(admin, '/metrics')).body
    assert.equal(value(full, series), 20, full)
    assert.equal(value(full, 'lb_metrics_workers_missing'), 0)
    // Gauges aggregate by their own rule: two workers with a 1-route table report 1 route (max), not 2.
    assert.equal(value(full, 'lb_route_table_routes'), 1, full)
    assert.ok((value(full, 'lb_route_table_version') ?? 0) >= 1, full)
    // Control-plane families come from the primary alone (not once per worker).
    assert.equal(value(full, 'lb_config_reloads_total{result="ok"}'), 0, full)
    assert.ok(full.includes('\nprocess_resident_memory_bytes '), full)

    const stuck = (ready.pids as number[])[0] as number
    process.kill(stuck, 'SIGSTOP')
    try {
      const t0 = Date.now()
      const partial = await fetchOnce(admin, '/metrics')
      assert.equal(partial.status, 200)
      assert.equal(value(partial.body, 'lb_metrics_workers_missing'), 1)
      assert.ok(Date.now() - t0 < 4_000, `scrape took ${Date.now() - t0} ms`)
    } finally {
      process.kill(stuck, 'SIGCONT')
    }
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await a.close()
  }
})
