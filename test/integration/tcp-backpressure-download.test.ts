/**
 * TCP mode, server → client under backpressure: lb reads server data into one reusable buffer per session, so a
 * write to a slow client that is still queued must not see that buffer overwritten by the next read. A client
 * that stops reading until the server is blocked, then reads everything, gets every byte in order.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { startLb, service, tcpListener, portOf } from '../helpers/lb.js'
import { startTcp } from '../helpers/tls.js'
import { PatternReader, pumpPattern } from '../helpers/pattern.js'

const SIZE = 16 * 1024 * 1024
/**
 * Bytes per server write, one write per event-loop turn: lb then reads small chunks, and its write of such a
 * chunk to the full client is queued while write() still returns true (below the 16 KiB high-water mark),
 * so lb keeps reading: the case where reusing the read buffer would corrupt the queued bytes.
 */
const CHUNK = 1_009

test('tcp: a slow client gets every byte a fast server sent, in order', async () => {
  let blocked: () => void = () => undefined
  const serverBlocked = new Promise<void>((resolve) => {
    blocked = resolve
  })
  const backend = await startTcp((s: Socket) => {
    pumpPattern(s, SIZE, CHUNK, blocked)
  })
  const lb = await startLb((c) => {
    c.listeners = [tcpListener('down', 'down')]
    c.services = [service('down', [backend.port])]
  })
  try {
    const client = connect({ host: '127.0.0.1', port: portOf(lb, 'down') })
    client.pause()
    // Not reading until the server's writes back up through lb: lb's writes to this client are then queued.
    await serverBlocked
    const received = new PatternReader()
    client.on('data', (d: Buffer) => received.add(d))
    client.resume()
    await once(client, 'end')
    assert.equal(received.firstBad, -1, `byte ${received.firstBad} differs`)
    assert.equal(received.at, SIZE)
  } finally {
    await lb.close()
    await backend.close()
  }
})
