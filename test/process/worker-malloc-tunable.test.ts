/**
 * Cluster workers run with glibc's fixed mmap threshold (src/process/malloc-tunable.ts), whatever the primary was
 * started with: each worker's own environment carries it; the primary's own GLIBC_TUNABLES are kept, and a
 * threshold it sets wins.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { startLbProcess, TWO_WORKERS, workerPids } from '../helpers/process.js'
import { until } from '../helpers/lb.js'
import { MALLOC_TUNABLE, workerTunables } from '../../src/process/malloc-tunable.js'

test('workerTunables adds the threshold to what the primary has, unless it sets one', () => {
  assert.equal(workerTunables(undefined), MALLOC_TUNABLE)
  assert.equal(workerTunables(''), MALLOC_TUNABLE)
  assert.equal(workerTunables('glibc.malloc.arena_max=2'), `glibc.malloc.arena_max=2:${MALLOC_TUNABLE}`)
  assert.equal(workerTunables('glibc.malloc.mmap_threshold=65536'), 'glibc.malloc.mmap_threshold=65536')
})

test('a cluster worker is started with the malloc threshold', async () => {
  const lb = await startLbProcess(TWO_WORKERS)
  try {
    // Started as the tests start it: with this environment's GLIBC_TUNABLES (none, unless someone set them).
    const primary = (await environ(lb.child.pid as number)).get('GLIBC_TUNABLES')
    await until(() => workerPids(lb).length === 2, 'both workers listening')
    for (const pid of workerPids(lb)) {
      const worker = (await environ(pid)).get('GLIBC_TUNABLES') ?? ''
      assert.equal(worker, workerTunables(primary), `worker ${pid}`)
      assert.match(worker, /(^|:)glibc\.malloc\.mmap_threshold=/)
    }
  } finally {
    await lb.stop()
  }
})

async function environ(pid: number): Promise<Map<string, string>> {
  const vars = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter((v) => v !== '')
  return new Map(vars.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]))
}
