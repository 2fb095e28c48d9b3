/**
 * After HTTP and TCP traffic, a health check and a refused connect, every metric family of issue 6 is in the
 * scrape with the numbers the traffic produced.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import { startLb, service, route, tcpListener, portOf, until } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'
import { readAll, startTcp } from '../helpers/tls.js'
import { checkDefaults } from '../../src/config/defaults.js'
import { openWebSocket, startEchoServer } from '../helpers/websocket.js'

/** The value of one exact series line (`name{labels}`), undefined when absent. */
function seriesValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n'))
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1))
  return undefined
}

test('metrics: every family is present after traffic, with the counts it produced', async () => {
  const a = await startUpstream('a')
  const echo = await startTcp((s) => s.pipe(s))
  const dead = await deadPort()
  const ws = await startEchoServer()
  const lb = await startLb((c) => {
    c.listeners.push(tcpListener('db', 'db'))
    c.services = [
      { ...service('a', [a.port]), check: { ...checkDefaults, inter: 60_000, initState: 'fully-up' } },
      service('gone', [dead], { retries: 0 }),
      service('db', [echo.port]),
      service('ws', [ws.port]),
    ]
    c.routes = [route('', '/', 'a'), route('', '/dead', 'gone'), route('', '/ws', 'ws')]
  })
  try {
    for (let i = 0; i < 3; i++) assert.equal((await get(lb.url, '/x')).status, 200)
    assert.equal((await get(lb.url, '/dead')).status, 503)
    assert.equal((await get(lb.url, '/nope', { host: 'other' })).status, 200)
    const s = connect({ host: '127.0.0.1', port: portOf(lb, 'db') })
    await once(s, 'connect')
    const all = readAll(s)
    s.end('ping')
    assert.equal((await all).toString(), 'ping')
    await until(() => lb.access.some((l) => l.ts !== undefined && 'mode' in l), 'the tcp access line')
    const client = await openWebSocket(lb.port, 'x', '/ws')
    client.socket.destroy()
    await until(() => lb.access.some((l) => 'upgrade' in l), 'the tunnel access line')
    const checked = [...lb.worker.upstreams.all()].find((u) => u.label === 'a/s0')
    const h = checked?.health ?? undefined
    await until(() => (h?.checks ?? 0) > 0, 'a health check')

    const text = await lb.worker.metrics.text()
    const want: [string, number | null][] = [
      ['lb_http_requests_total{service="a",code="2xx"}', 4],
      ['lb_http_requests_total{service="gone",code="5xx"}', 1],
      ['lb_http_route_requests_total{route="/",code="2xx"}', 4],
      ['lb_http_route_requests_total{route="/dead",code="5xx"}', 1],
      ['lb_http_server_requests_total{service="a",server="s0",code="2xx"}', 4],
      ['lb_http_request_duration_seconds_count{service="a"}', 4],
      ['lb_http_upstream_duration_seconds_count{service="a"}', 4],
      ['lb_http_upstream_duration_seconds_count{service="gone"}', 0],
      ['lb_http_retries_total{service="a"}', 0],
      ['lb_http_bytes_total{service="a",direction="out"}', 4],
      ['lb_http_bytes_total{service="a",direction="in"}', null],
      ['lb_server_inflight{service="a",server="s0"}', 0],
      ['lb_service_queue_length{service="a"}', 0],
      ['lb_upstream_connect_errors_total{service="gone",server="s0",reason="refused"}', 1],
      ['lb_tcp_connections_total{listener="db"}', 1],
      ['lb_tcp_connections_active{listener="db"}', 0],
      ['lb_tcp_bytes_total{listener="db",direction="in"}', 4],
      ['lb_tcp_bytes_total{listener="db",direction="out"}', 4],
      ['lb_tcp_server_connections_total{service="db",server="s0"}', 1],
      ['lb_tcp_server_bytes_total{service="db",server="s0",direction="out"}', 4],
      ['lb_server_state{service="a",server="s0",state="up"}', 1],
      ['lb_server_state{service="a",server="s0",state="drain"}', 0],
      ['lb_server_weight{service="a",server="s0"}', 1],
      ['lb_server_health_checks_total{service="a",server="s0",result="ok"}', 1],
      ['lb_server_health_check_duration_seconds_count{service="a",server="s0"}', 1],
      ['lb_route_table_version', 1],
      ['lb_http_requests_total{service="ws",code="1xx"}', 1],
      ['lb_route_table_routes', 3],
      ['lb_route_table_services', 4],
    ]
    for (const [series, value] of want) {
      const got = seriesValue(text, series)
      assert.notEqual(got, undefined, `${series} missing from\n${text}`)
      if (value !== null) assert.equal(got, value, series)
    }
    assert.ok((seriesValue(text, 'lb_http_bytes_total{service="a",direction="in"}') ?? 0) > 0)
  } finally {
    await lb.close()
    await a.close()
    await echo.close()
    await ws.close()
  }
})
