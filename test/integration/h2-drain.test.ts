/** Drain: on shutdown an HTTP/2 session gets GOAWAY, its in-flight stream finishes, then the connection closes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { until } from '../helpers/lb.js'
import { h2Request, startH2Lb } from '../helpers/h2.js'

test('shutdown: GOAWAY to the h2 client, the request in flight completes', async () => {
  let held: ServerResponse | null = null
  const up = await startUpstream('u', (req, res) => {
    req.resume()
    held = res
  })
  const { session, end, close } = await startH2Lb(up.port)
  try {
    const { goaway, closed } = end
    const answer = h2Request(session, { ':path': '/slow' })
    await until(() => held !== null, 'the request upstream')
    const stopping = close()
    assert.equal(await goaway, 0, 'GOAWAY NO_ERROR')
    ;(held as ServerResponse | null)?.end('done')
    const r = await answer
    assert.equal(r.status, 200)
    assert.equal(r.body, 'done')
    await closed
    await stopping
  } finally {
    await close()
    await up.close()
  }
})
