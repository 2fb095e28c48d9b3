/**
 * lb behind nginx's documented WebSocket configuration, with keep-alive connections from nginx to lb: after an
 * Upgrade that the server refused (200, not 101), nginx puts the connection back in its pool; another client's
 * request that rides it must be routed by its own Host, to its own service.
 *
 * Skipped only when nginx is missing and LB_REQUIRE_NGINX is not 1; .ci/run installs nginx and sets it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startRawUpstream, rawExchange } from '../hardening/raw.js'
import { startLb, service, route } from '../helpers/lb.js'
import { nginxMissing, startNginx } from '../helpers/nginx.js'

test(
  'behind nginx: a refused Upgrade does not route the next client to its server',
  { skip: nginxMissing },
  async () => {
    const a = await startRawUpstream()
    const b = await startRawUpstream()
    const lb = await startLb((c) => {
      c.services = [service('a', [a.port]), service('b', [b.port])]
      c.routes = [route('a.test', '/', 'a'), route('b.test', '/', 'b')]
    })
    const nginx = await startNginx(lb.port, 1)
    try {
      // The attacker: an Upgrade to its own host, answered 200 by the server.
      const upgrade = await rawExchange(
        nginx.port,
        'GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
        300,
      )
      assert.deepEqual(upgrade.statuses, [200], upgrade.data)
      const fromA = a.bytes().length
      // Other clients, each on its own connection to nginx, for host b.
      for (let i = 0; i < 5; i++) {
        const r = await rawExchange(
          nginx.port,
          `GET /victim${i} HTTP/1.1\r\nHost: b.test\r\nCookie: session=${i}\r\n\r\n`,
          300,
        )
        assert.deepEqual(r.statuses, [200], r.data)
      }
      assert.ok(!a.bytes().slice(fromA).includes('victim'), a.bytes().slice(fromA))
      assert.deepEqual(
        b.requestLines().filter((l) => l.includes('victim')),
        [0, 1, 2, 3, 4].map((i) => `GET /victim${i} HTTP/1.1`),
      )
    } finally {
      await nginx.close()
      await lb.close()
      await a.close()
      await b.close()
    }
  },
)
