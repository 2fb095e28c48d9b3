/** observe layer7: error_limit consecutive 5xx answers trigger on_error (mark-down); 4xx do not count. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream } from '../helpers/upstream.js'
import { startLb, service, route, until } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { checkDefaults } from '../../src/config/defaults.js'
import { showServers } from '../../src/admin/servers.js'

test('passive: 3 consecutive 500s mark the server down; 404s and a success in between do not', async () => {
  let status = 404
  const flaky = await startUpstream('flaky', (req, res) => {
    req.resume()
    res.writeHead(status)
    res.end('x')
  })
  const good = await startUpstream('good')
  const lb = await startLb((c) => {
    c.services = [
      {
        ...service('svc', [flaky.port, good.port], { balance: 'first' }),
        check: { ...checkDefaults, inter: 60_000, fastinter: 60_000, initState: 'fully-up' },
        observe: { observe: 'layer7', errorLimit: 3, onError: 'mark-down' },
      },
    ]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    // First checks start at spread offsets: s0 at once, s1 half an interval later.
    await until(() => showServers(lb.worker).find((r) => r.server === 's0')?.checks === 1, 'first check')
    for (let i = 0; i < 5; i++) assert.equal((await get(lb.url, '/')).status, 404)
    status = 500
    assert.equal((await get(lb.url, '/')).status, 500)
    assert.equal((await get(lb.url, '/')).status, 500)
    status = 200
    assert.equal((await get(lb.url, '/')).status, 200) // resets the count
    status = 500
    for (let i = 0; i < 3; i++) assert.equal((await get(lb.url, '/')).status, 500)
    const row = showServers(lb.worker).find((r) => r.server === 's0')
    assert.equal(row?.up, false)
    assert.equal(row?.status, 'DOWN')
    assert.match(row?.reason ?? '', /mark-down after 3 consecutive layer7 errors/)
    // `first` now skips the down server.
    assert.equal((await get(lb.url, '/')).body, 'good')
  } finally {
    await lb.close()
    await flaky.close()
    await good.close()
  }
})

test('passive: observe layer4 with fail-check counts connect failures as failed checks', async () => {
  const good = await startUpstream('good')
  const lb = await startLb((c) => {
    c.services = [
      {
        ...service('svc', [good.port, 1], { balance: 'roundrobin', retries: 2 }),
        check: {
          ...checkDefaults,
          inter: 60_000,
          fastinter: 60_000,
          rise: 2,
          fall: 2,
          initState: 'fully-up',
        },
        observe: { observe: 'layer4', errorLimit: 1, onError: 'fail-check' },
      },
    ]
    c.routes = [route('', '/', 'svc')]
  })
  try {
    // Checks are slow (60s) and the first one may not have run: passive failures alone take port 1 down.
    for (let i = 0; i < 6; i++) assert.equal((await get(lb.url, '/')).status, 200)
    await until(() => showServers(lb.worker).find((r) => r.server === 's1')?.up === false, 's1 down')
    assert.equal(showServers(lb.worker).find((r) => r.server === 's0')?.up, true)
  } finally {
    await lb.close()
    await good.close()
  }
})
