/**
 * Every YAML file shipped under config/ is a valid configuration (they double as documentation), except the
 * manifests for other tools under `notLb` (Kubernetes, Prometheus), which are not lb config files.
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.js'
import { ConfigError } from '../../src/model/errors.js'
import { repoRoot } from './helpers.js'

const configDir = join(repoRoot, 'config')
const notLb = ['kubernetes', 'prometheus']
const files = (await readdir(configDir, { recursive: true }))
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
  .filter((f) => !notLb.some((dir) => f.startsWith(dir + sep)))
  .sort()

test('shipped: manifests for other tools are skipped, not lost', async () => {
  const skipped = (await readdir(join(configDir, 'kubernetes'))).filter((f) => f.endsWith('.yaml'))
  assert.deepEqual(skipped, ['lb-daemonset.yaml'])
  assert.ok(!files.some((f) => f.startsWith('kubernetes')), files.join(', '))
  const prometheus = (await readdir(join(configDir, 'prometheus'))).filter((f) => f.endsWith('.yaml')).sort()
  assert.deepEqual(prometheus, ['lb-alerts.test.yaml', 'lb-alerts.yaml'])
})

test('shipped: config/ holds lb.yaml and the examples', () => {
  assert.ok(files.includes('lb.yaml'), files.join(', '))
  assert.ok(files.includes(join('examples', 'fabio-replacement.yaml')), files.join(', '))
})

for (const f of files) {
  test(`shipped: config/${f} is valid`, async () => {
    const path = join(configDir, f)
    try {
      await loadConfig({ path, env: {}, readFile: (p) => readFile(p, 'utf8') })
    } catch (err) {
      if (err instanceof ConfigError) assert.fail(`${relative(repoRoot, path)}:\n${err.message}`)
      throw err
    }
  })
}

test('shipped: config/lb.yaml serves the demo upstreams on 127.0.0.1:9999 with the admin on loopback', async () => {
  const c = await loadConfig({
    path: join(configDir, 'lb.yaml'),
    env: {},
    readFile: (p) => readFile(p, 'utf8'),
  })
  assert.deepEqual(c.listeners, [{ name: 'web', host: '127.0.0.1', port: 9999, mode: 'http' }])
  assert.deepEqual(
    c.services.find((s) => s.name === 'hello')?.servers.map((s) => `${s.host}:${s.port}`),
    ['127.0.0.1:9001', '127.0.0.1:9002'],
  )
  assert.equal(c.services.find((s) => s.name === 'hello')?.balance, 'roundrobin')
  assert.deepEqual(
    c.routes.map(
      (r) =>
        `${r.host}${r.path} → ${r.redirect === null ? r.service : `${r.redirect.code} ${r.redirect.url}`}`,
    ),
    ['/ → hello', 'hello.localhost/ → hello', '/pinned → pinned', '/old → 301 /'],
  )
  assert.deepEqual([c.admin.host, c.admin.port], ['127.0.0.1', 9998])
})
