/** TCP mode: bytes both ways, half-close forwarded, byte counters, connect failures retried elsewhere. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf } from '../helpers/lb.js'
import { deadPort } from '../helpers/upstream.js'
import { readAll, startTcp } from '../helpers/tls.js'

test('tcp: half-close is forwarded and the server can still answer; retries skip a dead server', async () => {
  // Upper-cases what it reads; after the client's FIN it sends "bye" and closes its side.
  const backend = await startTcp((s) => {
    s.on('data', (d: Buffer) => s.write(d.toString('latin1').toUpperCase()))
    s.on('end', () => s.end('|bye'))
  })
  const dead = await deadPort()
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('db', 'db')]
    c.services = [service('db', [dead, backend.port], { retries: 1 })]
  })
  try {
    for (let i = 0; i < 4; i++) {
      const s = connect({ host: '127.0.0.1', port: portOf(lb, 'db'), allowHalfOpen: true })
      await once(s, 'connect')
      const all = readAll(s)
      s.write('hello ')
      s.end('world')
      assert.equal((await all).toString(), 'HELLO WORLD|bye')
      await once(s, 'close')
    }
    await new Promise((r) => setImmediate(r))
    const lines = lb.access.filter((l) => l.mode === 'tcp')
    assert.equal(lines.length, 4)
    for (const l of lines) {
      assert.equal(l.server, 's1')
      assert.equal(l.bytes_in, 11)
      assert.equal(l.bytes, 15)
    }
    // Round-robin tried the dead server for some of them: retried, no client saw a failure.
    assert.ok(lines.some((l) => l.retries === 1))
  } finally {
    await lb.close()
    await backend.close()
  }
})

test('tcp: backpressure — a large transfer arrives intact', async () => {
  const size = 8 * 1024 * 1024
  const backend = await startTcp((s) => {
    let n = 0
    s.on('data', (d: Buffer) => {
      n += d.length
    })
    s.on('end', () => s.end(String(n)))
  })
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('bulk', 'bulk')]
    c.services = [service('bulk', [backend.port])]
  })
  try {
    const s = connect({ host: '127.0.0.1', port: portOf(lb, 'bulk'), allowHalfOpen: true })
    const all = readAll(s)
    s.end(Buffer.alloc(size, 7))
    assert.equal((await all).toString(), String(size))
  } finally {
    await lb.close()
    await backend.close()
  }
})

test('tcp: no server available closes the connection', async () => {
  const dead = await deadPort()
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('none', 'none')]
    c.services = [service('none', [dead], { retries: 0 })]
  })
  try {
    const s = connect({ host: '127.0.0.1', port: portOf(lb, 'none') })
    await once(s, 'close')
    await new Promise((r) => setImmediate(r))
    assert.equal(lb.access.at(-1)?.ts, 'SC')
  } finally {
    await lb.close()
  }
})
