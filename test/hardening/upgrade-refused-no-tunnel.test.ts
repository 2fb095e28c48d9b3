/**
 * An Upgrade request whose server does not answer `101` is an ordinary exchange: the connection goes back to HTTP
 * parsing, so the next request on it is routed by lb on its own Host (here to another service), never written raw
 * to the first server. Variants: WebSocket, h2c (never tunnelled), `Connection: keep-alive, Upgrade`, an Upgrade
 * with a body, and the next request in the same packet as the Upgrade.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startRawUpstream, rawExchange, type RawUpstream } from './raw.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'

let a: RawUpstream
let b: RawUpstream
let lb: TestLb

before(async () => {
  a = await startRawUpstream()
  b = await startRawUpstream()
  lb = await startLb((c) => {
    c.services = [service('a', [a.port]), service('b', [b.port])]
    c.routes = [route('a.test', '/', 'a'), route('b.test', '/', 'b')]
  })
})

after(async () => {
  await lb.close()
  await a.close()
  await b.close()
})

const second = 'GET /second HTTP/1.1\r\nHost: b.test\r\nCookie: victim=1\r\n\r\n'

const cases: { desc: string; upgrade: string }[] = [
  {
    desc: 'WebSocket Upgrade answered 200',
    upgrade: 'GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  },
  {
    desc: 'h2c Upgrade',
    upgrade:
      'GET /h2c HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
  },
  {
    desc: 'Connection: keep-alive, Upgrade',
    upgrade:
      'GET /ka HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n',
  },
  {
    desc: 'Upgrade with a Content-Length body',
    upgrade:
      'POST /body HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello',
  },
]

for (const c of cases) {
  for (const samePacket of [false, true]) {
    test(`${c.desc}${samePacket ? ', next request in the same packet' : ''}: the next request is routed on its own`, async () => {
      const fromA = a.bytes().length
      const linesB = b.requestLines().length
      const payload = samePacket ? [c.upgrade + second] : [c.upgrade, second]
      const r = await rawExchange(lb.port, payload, 500)
      assert.deepEqual(r.statuses, [200, 200], r.data)
      const sentToA = a.bytes().slice(fromA)
      assert.ok(!sentToA.includes('/second'), `the second request reached server a:\n${sentToA}`)
      assert.ok(!sentToA.includes('victim'), 'the second request’s cookie reached server a')
      assert.deepEqual(b.requestLines().slice(linesB), ['GET /second HTTP/1.1'])
    })
  }
}

test('h2c is never tunnelled: the server gets a plain request without Upgrade', async () => {
  const fromA = a.bytes().length
  const r = await rawExchange(
    lb.port,
    'GET /plain HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    300,
  )
  assert.deepEqual(r.statuses, [200], r.data)
  const sent = a.bytes().slice(fromA).toLowerCase()
  assert.match(sent, /^get \/plain http\/1\.1\r\n/)
  assert.ok(!sent.includes('upgrade:'), sent)
  assert.ok(!sent.includes('http2-settings'), sent)
})
