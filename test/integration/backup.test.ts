/** Backup servers get traffic only when no normal server is up. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startUpstream, deadPort } from '../helpers/upstream.js'
import { startLb, service, route, patchServer } from '../helpers/lb.js'
import { get } from '../helpers/client.js'

test('backup is unused while a normal server is up, used when none is', async () => {
  const normal = await startUpstream('normal')
  const backup = await startUpstream('backup')
  const withNormal = service('with-normal', [normal.port, backup.port])
  patchServer(withNormal, 1, { backup: true })
  const onlyBackup = service('only-backup', [await deadPort(), backup.port])
  patchServer(onlyBackup, 0, { state: 'maint' })
  patchServer(onlyBackup, 1, { backup: true })
  const lb = await startLb((c) => {
    c.services = [withNormal, onlyBackup]
    c.routes = [route('a.test', '/', 'with-normal'), route('b.test', '/', 'only-backup')]
  })
  try {
    for (let i = 0; i < 10; i++) assert.equal((await get(lb.url, '/', { host: 'a.test' })).body, 'normal')
    for (let i = 0; i < 10; i++) assert.equal((await get(lb.url, '/', { host: 'b.test' })).body, 'backup')
  } finally {
    await lb.close()
    await normal.close()
    await backup.close()
  }
})
