/**
 * V8's young-generation cap (src/process/young-generation.ts) is on wherever lb is started: cluster workers get
 * it unless the primary was given a semi-space size of its own, and the `lb` executable asks for it on its
 * first line (the systemd unit and the Dockerfile: test/systemd, test/packaging).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot } from '../helpers/process.js'
import { MALLOC_TUNABLE } from '../../src/process/malloc-tunable.js'
import { YOUNG_GENERATION_FLAG, workerExecArgv } from '../../src/process/young-generation.js'

test('cluster workers get the cap; a size given to the primary wins', () => {
  assert.deepEqual(workerExecArgv([]), [YOUNG_GENERATION_FLAG])
  assert.deepEqual(workerExecArgv(['--enable-source-maps']), ['--enable-source-maps', YOUNG_GENERATION_FLAG])
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=4']), ['--max-semi-space-size=4'])
  assert.deepEqual(workerExecArgv([YOUNG_GENERATION_FLAG]), [YOUNG_GENERATION_FLAG])
})

test('the lb executable asks for the cap on its first line (and for the malloc threshold)', () => {
  for (const file of ['src/main.ts', 'dist/src/main.js']) {
    const first = readFileSync(join(repoRoot, file), 'utf8').split('\n')[0]
    assert.equal(
      first,
      `#!/usr/bin/env -S GLIBC_TUNABLES=${MALLOC_TUNABLE} node ${YOUNG_GENERATION_FLAG}`,
      file,
    )
  }
})
