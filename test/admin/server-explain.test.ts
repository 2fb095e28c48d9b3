/**
 * GET /api/explain: the matched route, the candidates, the servers and the next pick, as JSON or text; asking
 * does not move the balancer (the next real request goes where explain said, however often it was asked).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startAdmin, type TestAdmin } from '../helpers/admin.js'
import { get } from '../helpers/client.js'
import { route, service } from '../helpers/lb.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

let a: TestAdmin
let ups: TestUpstream[]

before(async () => {
  ups = await Promise.all(['u0', 'u1', 'u2'].map((n) => startUpstream(n)))
  a = await startAdmin((c) => {
    c.services = [
      service(
        'web',
        ups.map((u) => u.port),
      ),
    ]
    c.routes = [route('*.example.com', '/', 'web'), route('', '/static', 'web')]
  })
})
after(async () => {
  await a.close()
  await Promise.all(ups.map((u) => u.close()))
})

interface Explained {
  route: { service: string; host: string } | null
  candidates: { host: string; kind: string }[]
  servers: { pick: string | null; servers: { server: string; eligible: boolean }[] } | null
}

async function explain(query: string): Promise<Explained> {
  const r = await a.get(`/api/explain?${query}`)
  assert.equal(r.status, 200, r.body)
  return JSON.parse(r.body) as Explained
}

test('admin /api/explain: the predicted server is the one that serves the next request', async () => {
  for (let i = 0; i < 5; i++) {
    const e1 = await explain('host=a.example.com&path=/x')
    const e2 = await explain('host=a.example.com&path=/x')
    assert.equal(e1.route?.host, '*.example.com')
    assert.equal(e1.servers?.pick, e2.servers?.pick, 'asking twice does not advance the picker')
    const served = await get(a.lb.url, '/x', { host: 'a.example.com' })
    assert.equal(`s${ups.findIndex((u) => u.name === served.body)}`, e1.servers?.pick, `request ${i}`)
  }
})

function drained(): { admin: string } {
  const u = a.lb.worker.state.services.get('web')?.upstreams[1]
  if (u === undefined) throw new Error('no web/s1')
  return u
}

test('admin /api/explain: a drained server is not eligible and not picked', async () => {
  drained().admin = 'drain'
  try {
    const e = await explain('host=a.example.com&path=/')
    assert.deepEqual(
      e.servers?.servers.map((s) => s.eligible),
      [true, false, true],
    )
    assert.notEqual(e.servers?.pick, 's1')
  } finally {
    drained().admin = 'ready'
  }
})

test('admin /api/explain: fallback and no-route answers', async () => {
  const fallback = await explain('host=other.org&path=/static/app.js')
  assert.deepEqual(
    fallback.candidates.map((c) => c.kind),
    ['catch-all'],
  )
  assert.equal(fallback.route?.service, 'web')
  const none = await explain('host=other.org&path=/nothing')
  assert.equal(none.route, null)
  assert.equal(none.servers, null)
})

test('admin /api/explain?format=text: readable lines ending with the verdict', async () => {
  const r = await a.get('/api/explain?host=a.example.com&path=/x&format=text')
  assert.match(r.body, /^request: host=a\.example\.com path=\/x/)
  assert.match(r.body, /wildcard \*\.example\.com: \*\.example\.com matches a\.example\.com/)
  assert.match(r.body, /route \*\.example\.com\/ → service web \/ server s\d\n$/)
})

const bad: { desc: string; query: string; match: RegExp }[] = [
  { desc: 'no path', query: 'host=a.example.com', match: /path is required/ },
  { desc: 'relative path', query: 'path=x', match: /path must start with '\/'/ },
  { desc: 'host with a slash', query: 'host=a/b&path=/', match: /host must be a host name/ },
]
for (const c of bad) {
  test(`admin /api/explain: ${c.desc} → 400`, async () => {
    const r = await a.get(`/api/explain?${c.query}`)
    assert.equal(r.status, 400)
    assert.match((JSON.parse(r.body) as { error: string }).error, c.match)
  })
}
