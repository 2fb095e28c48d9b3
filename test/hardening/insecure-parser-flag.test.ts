/**
 * lb parses strictly even when the process runs with `--insecure-http-parser` (for example through
 * NODE_OPTIONS): the framing attack suite passes in a child Node started with that flag. The child runs the
 * suite in its own process (test/helpers/run-suite.ts) and writes the counts from node:test's events.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { tempDir } from '../helpers/temp.js'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SuiteResult } from '../helpers/run-suite.js'

test('the framing suite passes under --insecure-http-parser', async () => {
  const suite = fileURLToPath(new URL('./smuggling-framing.test.js', import.meta.url))
  const runner = fileURLToPath(new URL('../helpers/run-suite.js', import.meta.url))
  const out = join(await tempDir('lb-suite-'), 'result.json')
  const r = spawnSync(process.execPath, ['--insecure-http-parser', runner, out, suite], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE_TEST_CONTEXT: undefined },
  })
  assert.equal(r.status, 0, r.stderr.slice(-2_000))
  const result = JSON.parse(await readFile(out, 'utf8')) as SuiteResult
  assert.equal(result.failed, 0, r.stderr.slice(-2_000))
  // The suite really ran (16 cases when this was written).
  assert.ok(result.passed >= 10, `only ${result.passed} passed`)
})
