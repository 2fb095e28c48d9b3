/** Redirect routes answer locally with the configured code and $path/$host expanded. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startLb, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('redirect with $host and $path', async () => {
  const lb = await startLb((c) => {
    c.services = []
    c.routes = [
      route('old.test', '/', '', { redirect: { code: 301, url: 'https://new.test$path' } }),
      route('', '/moved', '', { redirect: { code: 308, url: 'https://$host/elsewhere' } }),
    ]
  })
  try {
    const a = await get(lb.url, '/some/page?x=1', { host: 'old.test' })
    assert.equal(a.status, 301)
    assert.equal(a.headers.location, 'https://new.test/some/page?x=1')
    const b = await get(lb.url, '/moved', { host: 'any.test' })
    assert.equal(b.status, 308)
    assert.equal(b.headers.location, 'https://any.test/elsewhere')
    assert.equal(lb.access.at(-1)?.ts, 'LR')
  } finally {
    await lb.close()
  }
})
