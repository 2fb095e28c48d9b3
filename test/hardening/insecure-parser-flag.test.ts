/**
 * lb parses strictly even when the process runs with `--insecure-http-parser` (for example through
 * NODE_OPTIONS): the framing attack suite passes in a child Node started with that flag.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

test('the framing suite passes under --insecure-http-parser', () => {
  const suite = fileURLToPath(new URL('./smuggling-framing.test.js', import.meta.url))
  const r = spawnSync(process.execPath, ['--insecure-http-parser', '--test', suite], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE_TEST_CONTEXT: undefined },
  })
  const failed = r.stdout.split('\n').filter((l) => l.startsWith('not ok') || l.includes('error:'))
  assert.equal(r.status, 0, failed.join('\n') + r.stdout.slice(-1_500) + r.stderr.slice(-1_000))
  assert.match(r.stdout, /# fail 0/)
})
