/** workerCount: `workers:` → processes to fork (0 = serve in the primary). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { workerCount } from '../../src/process/primary.js'

const cases: { workers: number | 'auto'; cores: number; want: number }[] = [
  { workers: 0, cores: 8, want: 0 },
  { workers: 1, cores: 8, want: 0 },
  { workers: 2, cores: 8, want: 2 },
  { workers: 16, cores: 2, want: 16 },
  { workers: 'auto', cores: 8, want: 8 },
  { workers: 'auto', cores: 1, want: 0 },
]

for (const c of cases) {
  test(`primary: workers ${c.workers} on ${c.cores} cores → ${c.want} processes`, () => {
    assert.equal(workerCount(c.workers, c.cores), c.want)
  })
}
