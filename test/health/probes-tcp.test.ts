/**
 * Plain TCP checks against a real local server, on both implementations (Node's TCP handle, which IP targets use
 * where the binding exists, and net.Socket, the fallback and the path for host names): a passing check ends
 * with a RST (haproxy closes check connections with lingering off, so neither side keeps a TIME_WAIT), and
 * reused check objects give the right result whatever the previous check on them ended with. With
 * LB_NODE_INTERNALS=off (src/net/node-internals.ts) every check must take net.Socket.
 */
import { test, mock } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { Socket } from 'node:net'
import type { ProbeSpec } from '../../src/health/probes.js'
import { rawTcpChecks, useRawTcpChecks } from '../../src/health/tcp-checks.js'
import { probe, startProbe } from '../../src/health/run-probe.js'
import { deadPort } from '../helpers/upstream.js'
import { nodeInternals } from '../../src/net/node-internals.js'
import { startTcp } from '../helpers/tls.js'

const spec: ProbeSpec = {
  type: 'tcp',
  timeout: 2_000,
  http: { method: 'GET', path: '/', host: '', expect: [{ lo: 200, hi: 399 }] },
  tls: { ca: '', skipVerify: false, sni: '' },
}
const now = (): number => performance.now()
const at = (port: number) => ({ address: '127.0.0.1', port, hostname: '127.0.0.1' })
/** Let the finished check's socket emit 'close' (it is reused only after that). */
const settle = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))

const internals = nodeInternals.enabled

test(`plain TCP checks of IP targets use ${internals ? 'the TCP handle' : 'net.Socket (internals off)'}`, () => {
  assert.equal(rawTcpChecks(), internals, 'tcp_wrap binding found (TCP checks on the handle)')
  let reported = false
  const h = startProbe(spec, at(1), now, null, () => (reported = true))
  assert.equal('socket' in h, !internals, 'a net.Socket check was started')
  h.expire()
  assert.ok(reported)
})

// With LB_NODE_INTERNALS=off only the fallback exists.
for (const raw of internals ? [true, false] : [false]) {
  const mode = raw ? 'handle' : 'net.Socket'
  test(`probe tcp (${mode}): a passing check closes with a RST, the server sees ECONNRESET and no FIN`, async () => {
    useRawTcpChecks(raw)
    const seen: string[] = []
    const srv = await startTcp((s: Socket) => {
      s.on('error', (err: NodeJS.ErrnoException) => seen.push(err.code ?? err.message))
      s.on('end', () => seen.push('FIN'))
      s.resume()
    })
    try {
      const closed = once(srv.server, 'connection').then(
        (args) => new Promise((resolve) => (args[0] as Socket).on('close', resolve)),
      )
      const r = await probe(spec, at(srv.port), now)
      assert.equal(r.reason, 'L4OK')
      await closed
      assert.deepEqual(seen, ['ECONNRESET'])
    } finally {
      await srv.close()
    }
  })

  test(`probe tcp (${mode}): reused checks report each result right after refused, timed-out and passed checks`, async () => {
    useRawTcpChecks(raw)
    let accepted = 0
    const srv = await startTcp((s: Socket) => {
      accepted++
      s.resume()
    })
    const dead = await deadPort()
    const reasons: string[] = []
    const run = async (port: number): Promise<void> => {
      reasons.push((await probe(spec, at(port), now)).reason)
      await settle()
    }
    try {
      await run(dead)
      await run(srv.port)
      // Time out before the connect even starts (it is queued for the next tick): the socket is destroyed
      // mid-connect and must still be reusable.
      mock.timers.enable({ apis: ['setTimeout'] })
      try {
        const p = probe(spec, at(srv.port), now)
        mock.timers.tick(spec.timeout)
        reasons.push((await p).reason)
      } finally {
        mock.timers.reset()
      }
      await settle()
      await run(srv.port)
      await run(dead)
      await run(dead)
      await run(srv.port)
      // Several at once, so more than one socket is in use.
      const many = await Promise.all([srv.port, dead, srv.port, dead].map((p) => probe(spec, at(p), now)))
      reasons.push(many.map((r) => r.reason).join('+'))
      assert.deepEqual(reasons, [
        'L4CON',
        'L4OK',
        'L4TOUT',
        'L4OK',
        'L4CON',
        'L4CON',
        'L4OK',
        'L4OK+L4CON+L4OK+L4CON',
      ])
      await settle()
      // Every passing check connected (the timed-out one may or may not have reached the server).
      assert.ok(accepted >= 5, `accepted ${accepted}`)
    } finally {
      await srv.close()
    }
  })
}

test.after(() => useRawTcpChecks(true))
