/**
 * Idle connections are bounded: a listener's `maxconn` and the worker-wide `http.maxconn` close connections
 * over the limit as soon as they are accepted, and a slot frees when a connection closes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, portOf, until } from '../helpers/lb.js'

/** Connects and reports whether lb kept the connection open (answering a request) or closed it. */
async function open(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  const socket = connect({ host: '127.0.0.1', port })
  let closed = false
  socket.on('close', () => (closed = true))
  socket.on('error', () => undefined)
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve)
    socket.once('close', resolve)
  })
  return { socket, closed: () => closed }
}

async function answers(port: number): Promise<boolean> {
  const c = await open(port)
  let data = ''
  c.socket.on('data', (b: Buffer) => (data += b.toString()))
  c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n')
  await until(() => data.includes('\r\n\r\n') || c.closed(), 'an answer or a close')
  c.socket.destroy()
  return data.startsWith('HTTP/1.1 200')
}

test('listener maxconn: connections over it are closed, a slot frees on close', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.listeners = [{ name: 'test', host: '127.0.0.1', port: 0, mode: 'http', maxconn: 3 }]
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const idle = [await open(lb.port), await open(lb.port), await open(lb.port)]
    const over = await open(lb.port)
    await until(() => over.closed(), 'the 4th connection to close')
    for (const c of idle) assert.equal(c.closed(), false)
    idle[0]?.socket.destroy()
    await until(() => idle[0]?.closed() === true)
    // lb sees the close asynchronously: retry until the freed slot is usable.
    let ok = false
    for (let i = 0; i < 50 && !ok; i++) ok = await answers(lb.port)
    assert.equal(ok, true)
    for (const c of idle) c.socket.destroy()
  } finally {
    await lb.close()
    await up.close()
  }
})

test('http.maxconn counts connections over every HTTP listener of the worker', async () => {
  const up = await startUpstream('u')
  const lb = await startLb((c) => {
    c.http.maxconn = 2
    c.listeners = [
      { name: 'a', host: '127.0.0.1', port: 0, mode: 'http' },
      { name: 'b', host: '127.0.0.1', port: 0, mode: 'http' },
    ]
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const a = await open(portOf(lb, 'a'))
    const b = await open(portOf(lb, 'b'))
    const over = await open(portOf(lb, 'a'))
    await until(() => over.closed(), 'the 3rd connection to close')
    assert.equal(a.closed(), false)
    assert.equal(b.closed(), false)
    assert.equal(lb.worker.ctx.connections.open, 2)
    a.socket.destroy()
    b.socket.destroy()
    await until(() => lb.worker.ctx.connections.open === 0, 'the budget to drain')
    assert.equal(await answers(portOf(lb, 'b')), true)
  } finally {
    await lb.close()
    await up.close()
  }
})
