/**
 * `lb explain URL` through the real binary: asking a running admin API (the admin address comes from the config
 * file) and `--offline` from the config file alone; exit 0 when a route matches, 1 when none, 2 on usage errors.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startAdmin } from '../helpers/admin.js'
import { route, service } from '../helpers/lb.js'
import { runLb, writeConfig, type CliResult } from '../helpers/process.js'

const lb = (...args: string[]): Promise<CliResult> => runLb(['explain', ...args])

const yaml = (adminPort: number): string => `
admin:
  address: 127.0.0.1:${adminPort}
services:
  - name: web
    servers:
      - address: 127.0.0.1:8001
      - address: 127.0.0.1:8002
  - name: api
    servers:
      - address: 127.0.0.1:8003
routes:
  - { host: example.com, path: /, service: web }
  - { host: "*.example.com", path: /api, service: api }
`

test('lb explain --offline: route and server from the config file', async () => {
  const file = await writeConfig(yaml(9))
  const r = await lb('http://x.example.com/api/v1?q=1', '--config', file, '--offline')
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^\(offline: /)
  assert.match(r.stdout, /wildcard \*\.example\.com: \*\.example\.com matches x\.example\.com/)
  assert.match(r.stdout, /route \*\.example\.com\/api → service api \/ server 127\.0\.0\.1:8003\n$/)
  const none = await lb('other.org/', '--config', file, '--offline')
  assert.equal(none.code, 1)
  assert.match(none.stdout, /no route for other\.org\/: 404/)
  const json = await lb('example.com/', '--config', file, '--offline', '--json')
  assert.equal((JSON.parse(json.stdout) as { route: { service: string } }).route.service, 'web')
})

test('lb explain: asks the running admin API', async () => {
  const a = await startAdmin((c) => {
    c.services = [service('web', [1, 2])]
    c.routes = [route('example.com', '/', 'web')]
  })
  try {
    const file = await writeConfig(yaml(Number(new URL(a.url).port)))
    const r = await lb('http://example.com/x', '--config', file)
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stdout, /offline/)
    assert.match(r.stdout, /route example\.com\/ → service web \/ server s[01]\n$/)
    const none = await lb('http://nope.org/x', '--config', file)
    assert.equal(none.code, 1)
  } finally {
    await a.close()
  }
})

test('lb explain: usage errors exit 2', async () => {
  const noUrl = await lb()
  assert.equal(noUrl.code, 2)
  assert.match(noUrl.stderr, /lb explain needs a URL/)
  const bad = await lb('ftp://x/', '--offline')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /not an http\(s\) URL/)
})
