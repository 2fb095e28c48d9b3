/**
 * Cluster workers really run with V8's young-generation cap (src/process/young-generation.ts): started from a
 * primary that was not given it, each worker's own command line carries `--max-semi-space-size=8`.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { startLbProcess, TWO_WORKERS, workerPids } from '../helpers/process.js'
import { until } from '../helpers/lb.js'
import { YOUNG_GENERATION_FLAG } from '../../src/process/young-generation.js'

test('a cluster worker is started with the young-generation cap', async () => {
  const lb = await startLbProcess(TWO_WORKERS)
  try {
    const primary = (await readFile(`/proc/${lb.child.pid}/cmdline`, 'utf8')).split('\0')
    assert.ok(!primary.includes(YOUNG_GENERATION_FLAG), 'the primary was started without it')
    // startLbProcess returns at the first worker's "listening" line; the second may still be starting.
    await until(() => workerPids(lb).length === 2, 'both workers listening')
    for (const pid of workerPids(lb)) {
      const worker = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
      assert.ok(worker.includes(YOUNG_GENERATION_FLAG), `worker ${pid}: ${worker.join(' ')}`)
    }
  } finally {
    await lb.stop()
  }
})
