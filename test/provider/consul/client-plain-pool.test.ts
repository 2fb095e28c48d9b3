/**
 * ConsulHttp over plain HTTP (client.ts `#plain`): small requests go through a pool of sinks, each with its kept
 * connection. Reads one after another share one connection, reads at the same time open one each, the pool
 * keeps them for the next reads, a PUT carries its JSON body and the token, and `close` ends the idle ones.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { test } from 'node:test'
import { ConsulHttp } from '../../../src/provider/consul/client.js'

interface Seen {
  readonly socket: number
  readonly line: string
  readonly head: string
  readonly body: string
}

/** A server that answers every request with its own number as `X-Consul-Index`, after `hold` (if set) resolves. */
async function server(): Promise<{
  address: string
  seen: Seen[]
  sockets: Socket[]
  hold: { until: Promise<void> | null }
  close: () => void
}> {
  const seen: Seen[] = []
  const sockets: Socket[] = []
  const hold: { until: Promise<void> | null } = { until: null }
  const srv = createServer((socket) => {
    const n = sockets.push(socket) - 1
    let buf = ''
    socket.on('data', (d) => {
      buf += d.toString('latin1')
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.slice(0, end)
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
        if (buf.length < end + 4 + length) return
        const body = buf.slice(end + 4, end + 4 + length)
        buf = buf.slice(end + 4 + length)
        seen.push({ socket: n, line: head.slice(0, head.indexOf('\r\n')), head, body })
        const index = seen.length
        const answer = (): void => {
          socket.write(`HTTP/1.1 200 OK\r\nX-Consul-Index: ${index}\r\nContent-Length: 4\r\n\r\n"ok"`)
        }
        if (hold.until === null) answer()
        else void hold.until.then(answer)
      }
    })
    socket.on('error', () => {})
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  return {
    address: `127.0.0.1:${(srv.address() as AddressInfo).port}`,
    seen,
    sockets,
    hold,
    close: () => {
      for (const s of sockets) s.destroy()
      srv.close()
    },
  }
}

function client(address: string): ConsulHttp {
  return new ConsulHttp({
    addresses: [address],
    scheme: 'http',
    tls: { ca: '', cert: '', key: '', skipVerify: false },
    token: 'secret-token',
    datacenter: '',
    consistency: 'default',
    wait: 1_000,
  })
}

test('plain-HTTP reads share kept connections: one for reads in a row, one per read at the same time', async () => {
  const s = await server()
  const http = client(s.address)
  const signal = AbortSignal.timeout(10_000)
  try {
    const a = await http.get('/v1/a', {}, 0, signal)
    const b = await http.get('/v1/b', {}, 0, signal)
    assert.deepEqual([a.index, b.index, a.text], [1, 2, '"ok"'])
    assert.equal(s.sockets.length, 1, 'reads in a row: one connection')
    let release = (): void => {}
    s.hold.until = new Promise((r) => (release = r))
    const three = Promise.all(['/v1/c', '/v1/d', '/v1/e'].map((p) => http.get(p, {}, 0, signal)))
    while (s.seen.length < 5) await new Promise((r) => setImmediate(r))
    release()
    s.hold.until = null
    assert.deepEqual(
      (await three).map((r) => r.text),
      ['"ok"', '"ok"', '"ok"'],
    )
    assert.equal(s.sockets.length, 3, 'three at once: the kept connection and two new ones')
    await Promise.all(['/v1/f', '/v1/g', '/v1/h'].map((p) => http.get(p, {}, 0, signal)))
    assert.equal(s.sockets.length, 3, 'the pool kept all three')
    for (const r of s.seen) assert.match(r.head, /\r\nX-Consul-Token: secret-token(\r\n|$)/i)
  } finally {
    await http.close()
    s.close()
  }
})

test('a plain-HTTP PUT sends its JSON body with its length and content type, on a kept connection', async () => {
  const s = await server()
  const http = client(s.address)
  const signal = AbortSignal.timeout(10_000)
  try {
    await http.get('/v1/agent/self', {}, 0, signal)
    const body = { Name: 'lb', Tags: ['é'] }
    const r = await http.put('/v1/agent/service/register', body, signal)
    assert.equal(r.status, 200)
    await http.put('/v1/agent/service/deregister/lb-1', null, signal)
    const [, put, bare] = s.seen as [Seen, Seen, Seen]
    assert.equal(put.line, 'PUT /v1/agent/service/register HTTP/1.1')
    assert.match(put.head, /\r\ncontent-type: application\/json(\r\n|$)/i)
    assert.equal(Buffer.from(put.body, 'latin1').toString('utf8'), JSON.stringify(body))
    assert.equal(bare.line, 'PUT /v1/agent/service/deregister/lb-1 HTTP/1.1')
    assert.match(bare.head, /\r\ncontent-length: 0(\r\n|$)/i)
    assert.equal(bare.body, '')
    assert.equal(s.sockets.length, 1)
  } finally {
    await http.close()
    s.close()
  }
})

test('close ends the idle kept connections', async () => {
  const s = await server()
  const http = client(s.address)
  await http.get('/v1/a', {}, 0, AbortSignal.timeout(10_000))
  const closed = once(s.sockets[0] as Socket, 'close')
  await http.close()
  await closed
  s.close()
})
