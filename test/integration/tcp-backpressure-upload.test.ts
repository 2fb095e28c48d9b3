/**
 * TCP mode, client → server under backpressure: lb reads client data into one reusable buffer per session
 * (onread on the accepted socket), so a write to a slow server that is still queued must not see that buffer
 * overwritten by the next read. A server that stops reading until the client is blocked, then reads everything,
 * gets every byte in order.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { PatternReader, pumpPattern } from '../helpers/pattern.js'

const SIZE = 16 * 1024 * 1024
/** Bytes per client write, one write per event-loop turn: lb then reads small chunks (see the download test). */
const CHUNK = 1_009

test('tcp: a slow server gets every byte a fast client sent, in order', async () => {
  let blocked: () => void = () => undefined
  const clientBlocked = new Promise<void>((resolve) => {
    blocked = resolve
  })
  const received = new PatternReader()
  let resolveDone: () => void = () => undefined
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve
  })
  const backend = await startTcp((s: Socket) => {
    s.pause()
    // Not reading until the client's writes back up through lb: lb's writes to this server are then queued.
    void clientBlocked.then(() => {
      s.on('data', (d: Buffer) => received.add(d))
      s.on('end', () => {
        s.end()
        resolveDone()
      })
      s.resume()
    })
  })
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('up', 'up')]
    c.services = [service('up', [backend.port])]
  })
  try {
    const client = connect({ host: '127.0.0.1', port: portOf(lb, 'up') })
    await once(client, 'connect')
    pumpPattern(client, SIZE, CHUNK, blocked)
    client.resume()
    await done
    assert.equal(received.firstBad, -1, `byte ${received.firstBad} differs`)
    assert.equal(received.at, SIZE)
    client.destroy()
  } finally {
    await lb.close()
    await backend.close()
  }
})
