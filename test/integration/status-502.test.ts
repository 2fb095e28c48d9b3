/** A server that answers garbage or resets before headers → 502, and lb keeps serving. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { startLb, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

async function rawServer(
  onData: (socket: Socket) => void,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((s) => s.once('data', () => onData(s)))
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

test('invalid HTTP from the server → 502', async () => {
  const bad = await rawServer((s) => s.end('NOT HTTP AT ALL\r\n\r\n'))
  const lb = await startLb((c) => {
    c.services = [service('svc', [bad.port], { retries: 0 })]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const r = await get(lb.url, '/')
    assert.equal(r.status, 502)
    assert.match(r.body, /svc\/s0/)
  } finally {
    await lb.close()
    await bad.close()
  }
})

test('connection reset after the request was sent → 502 for a POST (not replayed)', async () => {
  let seen = 0
  const reset = await rawServer((s) => {
    seen++
    s.resetAndDestroy()
  })
  const lb = await startLb((c) => {
    c.services = [service('svc', [reset.port], { retries: 2 })]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    const r = await get(lb.url, '/', { method: 'POST', body: 'once' })
    assert.equal(r.status, 502)
    assert.equal(seen, 1, 'a request that reached the server must not be sent again')
    const ok = await get(lb.url, '/missing-but-routed')
    assert.equal(ok.status, 502)
  } finally {
    await lb.close()
    await reset.close()
  }
})
