/**
 * One client pipelines many requests for a large response and never reads: it must not take the server's
 * connections from other clients, and once it goes away its upstream connections are closed (fds back to where
 * they were).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, until } from '../helpers/lb.js'
import { Agent } from 'undici'
import { get } from '../helpers/client.js'
import { fdCount, settle } from './upstream-raw.js'

const BIG = Buffer.alloc(256 * 1024, 'x')

test('pipelined unread requests hold at most one upstream connection; closing frees it', async () => {
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    req.on('end', () => res.end(req.url === '/big' ? BIG : 'ok'))
  })
  const lb = await startLb((c) => {
    c.services = [service('svc', [up.port], { maxConnections: 8 })]
    c.routes = [route('', '/', 'svc')]
  })
  const attackers: Socket[] = []
  // Other clients give up after 5 s: a jammed pool shows as a timeout, not a hung test.
  const agent = new Agent({ headersTimeout: 5_000, bodyTimeout: 5_000 })
  const open = (): number => [...up.sockets].filter((s) => !s.destroyed).length
  try {
    assert.equal((await get(lb.url, '/warm')).status, 200)
    await settle()
    const fdsBefore = fdCount()
    // Three attackers, each pipelining 40 requests for 256 KiB and reading nothing.
    for (let i = 0; i < 3; i++) {
      const s = connect({ host: '127.0.0.1', port: lb.port })
      s.on('error', () => undefined)
      await once(s, 'connect')
      s.write('GET /big HTTP/1.1\r\nHost: a.test\r\n\r\n'.repeat(40))
      attackers.push(s)
    }
    await until(() => up.requests.filter((r) => r.url === '/big').length >= 3, 'attack requests upstream')
    // Each attacker has at most one request at the server (answers fill its socket buffers, then it stops being
    // read): at most one server connection each, besides the one the warm-up left idle.
    await settle(200)
    assert.ok(open() <= 3 + 1, `${open()} server connections open for 3 attackers`)
    // Other clients are served meanwhile.
    for (let i = 0; i < 10; i++) assert.equal((await get(lb.url, '/other', { agent })).status, 200)
    for (const s of attackers) s.destroy()
    await until(() => fdCount() <= fdsBefore + 4, `fds back near ${fdsBefore} (now ${fdCount()})`)
    // What stays open is what lb keeps idle in its pool for reuse, nothing the attackers held.
    const pool = lb.worker.upstreams.services.get('svc')?.upstreams[0]?.pool
    assert.ok(pool !== null && pool !== undefined)
    await until(() => open() === pool.idle.length, `server connections ${open()} = idle ${pool.idle.length}`)
    assert.equal(pool.conns.size, pool.idle.length, 'no busy server connection is left')
    assert.equal((await get(lb.url, '/after', { agent })).status, 200)
  } finally {
    for (const s of attackers) s.destroy()
    await agent.close()
    await lb.close()
    await up.close()
  }
})
