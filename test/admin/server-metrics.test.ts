/**
 * Admin /metrics with a body in chunks (lb's writer): sent whole with its length, and `release` (the chunks'
 * memory is reused by the next scrape) called once, only after the response has been written: 8 MiB is more than
 * the loopback socket takes at once, so a release before the write completed would corrupt what the client gets
 * (the release overwrites the chunks).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { contentType } from '../../src/metrics/exposition.js'
import { startAdmin } from '../helpers/admin.js'

test('admin /metrics: chunks sent whole with their length, released once after the response was written', async () => {
  const chunks: Buffer[] = []
  for (let i = 0; i < 128; i++) chunks.push(Buffer.from(`chunk ${i} é `.padEnd(32 * 1024, String(i % 10))))
  const want = Buffer.concat(chunks).toString('utf8')
  let released = 0
  let onRelease = (): void => {}
  const done = new Promise<void>((resolve) => (onRelease = resolve))
  const t = await startAdmin(() => {}, undefined, {
    metrics: () =>
      Promise.resolve({
        contentType,
        body: chunks,
        release: () => {
          released++
          for (const c of chunks) c.fill(0x21)
          onRelease()
        },
      }),
  })
  try {
    const r = await t.get('/metrics')
    await done
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-type'], contentType)
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(want)))
    assert.ok(r.body === want, 'the body as written, not overwritten by the release')
    assert.equal(released, 1)
  } finally {
    await t.close()
  }
})
