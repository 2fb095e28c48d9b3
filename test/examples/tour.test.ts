/** The README tour's configs (examples/tour/) load: what the tour runs is a valid configuration. */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.js'
import { repoRoot } from '../helpers/process.js'

for (const [file, listeners, consul] of [
  ['examples/tour/lb.yaml', ['web', 'tcp'], false],
  ['examples/tour/consul.yaml', ['web'], true],
] as const) {
  test(`tour: ${file} is valid`, async () => {
    const c = await loadConfig({ path: join(repoRoot, file), env: {}, readFile: (p) => readFile(p, 'utf8') })
    assert.deepEqual(
      c.listeners.map((l) => l.name),
      listeners,
    )
    assert.equal(c.consul.enabled, consul)
    assert.equal(c.admin.token, 'tour')
    for (const l of c.listeners) assert.equal(l.host, '127.0.0.1')
  })
}
