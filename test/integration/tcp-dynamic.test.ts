/**
 * fabio's tcp-dynamic listener (issue 20 feature 7): with `tcp_dynamic: true`, a route
 * `<ip>:<port> proto=tcp` (here a route command; Consul tags build the same route) opens a TCP listener on
 * that address, and closes it when the route goes away.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startLb, until } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { deadPort } from '../helpers/upstream.js'

async function echo(port: number): Promise<string> {
  const c = connect({ host: '127.0.0.1', port })
  await once(c, 'connect')
  c.write('ping')
  const [d] = (await once(c, 'data')) as [Buffer]
  c.destroy()
  return d.toString()
}

test('tcp-dynamic: a listener per ip:port route, opened and closed with the route', async () => {
  const backend = await startTcp((s: Socket) => s.pipe(s))
  const port = await deadPort()
  const lb = await startLb((c) => {
    c.services = []
    c.routes = []
    c.tcpDynamic = true
    c.routeCommands = `route add db 127.0.0.1:${port} tcp://127.0.0.1:${backend.port}`
  })
  try {
    assert.ok(lb.worker.ports().has(`tcp-dynamic-127.0.0.1:${port}`))
    assert.equal(await echo(port), 'ping')
    await lb.apply({ services: [], routes: [], tcpRoutes: [] })
    await until(() => !lb.worker.ports().has(`tcp-dynamic-127.0.0.1:${port}`), 'listener closed')
    const c = connect({ host: '127.0.0.1', port })
    const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException]
    assert.equal(err.code, 'ECONNREFUSED')
  } finally {
    await lb.close()
    await backend.close()
  }
})

test('tcp-dynamic off (the default): the route opens no socket', async () => {
  const port = await deadPort()
  const lb = await startLb((c) => {
    c.services = []
    c.routes = []
    c.routeCommands = `route add db 127.0.0.1:${port} tcp://127.0.0.1:1`
  })
  try {
    assert.equal(lb.worker.ports().size, 1)
    assert.equal(lb.worker.tcpRoutes[0]?.bindHost, '127.0.0.1')
  } finally {
    await lb.close()
  }
})
