/**
 * An Upgrade request gets every check and rewrite a plain request gets: Host rules, the target form, and
 * strip/prepend from the normal form of the path.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startRawUpstream, rawExchange, type RawUpstream } from './raw.js'
import { startLb, service, route, type TestLb } from '../helpers/lb.js'

let up: RawUpstream
let lb: TestLb

before(async () => {
  up = await startRawUpstream()
  lb = await startLb((c) => {
    c.services = [service('svc', [up.port])]
    c.routes = [route('', '/', 'svc'), route('', '/api', 'svc', { strip: '/api', prepend: '/public/v1' })]
  })
})

after(async () => {
  await lb.close()
  await up.close()
})

const ws = 'Connection: Upgrade\r\nUpgrade: websocket\r\n'

const refused: { desc: string; payload: string }[] = [
  { desc: 'no Host', payload: `GET / HTTP/1.1\r\n${ws}\r\n` },
  {
    desc: 'two different Hosts',
    payload: `GET / HTTP/1.1\r\nHost: a.test\r\nHost: internal.test\r\n${ws}\r\n`,
  },
  { desc: 'userinfo in Host', payload: `GET / HTTP/1.1\r\nHost: a@internal.example\r\n${ws}\r\n` },
  { desc: 'fragment in the target', payload: `GET /a#frag HTTP/1.1\r\nHost: a.test\r\n${ws}\r\n` },
]

for (const c of refused) {
  test(`Upgrade with ${c.desc} → 400, nothing upstream`, async () => {
    const from = up.bytes().length
    const r = await rawExchange(lb.port, c.payload, 300)
    assert.deepEqual(r.statuses, [400], r.data)
    assert.equal(up.bytes().length, from, up.bytes().slice(from))
  })
}

test('Upgrade with strip/prepend: the upstream path comes from the normal form', async () => {
  const seen = up.requestLines().length
  const r = await rawExchange(
    lb.port,
    `GET /api/../../api/internal HTTP/1.1\r\nHost: a.test\r\n${ws}\r\n`,
    300,
  )
  assert.deepEqual(r.statuses, [200], r.data)
  assert.deepEqual(up.requestLines().slice(seen), ['GET /public/v1/internal HTTP/1.1'])
})
