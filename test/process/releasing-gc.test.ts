/**
 * `releasingGc` (src/net/node-internals.ts) gives the heap pages a burst of garbage freed back to the system: after
 * it, the resident memory of V8's 256 KiB heap pages (read from /proc/self/smaps) is close to what V8 counts as
 * its heap. A plain or compacting full GC leaves the freed pages pooled and resident (on Node 24 and 22: about
 * 2.5 times the heap after this burst), which is what made lb's RSS at 10,000 services twice its heap.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { getHeapStatistics } from 'node:v8'
import { nodeInternals, releasingGc } from '../../src/net/node-internals.js'

/** Resident bytes of this process's anonymous read-write mappings of exactly 256 KiB (V8's regular pages). */
function heapPagesResident(): number {
  let bytes = 0
  let page = false
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(\S*)$/.exec(line)
    if (m !== null) {
      page = m[3] === 'rw-p' && m[4] === '' && parseInt(m[2] ?? '', 16) - parseInt(m[1] ?? '', 16) === 262_144
      continue
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss !== null && page) bytes += Number(rss[1]) * 1024
  }
  return bytes
}

test('after a burst of garbage, the releasing GC leaves about the heap resident, not the freed pages', (t) => {
  const gc = nodeInternals.gc()
  if (gc === null) {
    assert.equal(nodeInternals.enabled, false, 'gc function not found: releasing memory would be a no-op')
    t.diagnostic('LB_NODE_INTERNALS=off: no gc function, nothing to release with')
    return
  }
  const keep: object[] = []
  let garbage: object[] = []
  for (let i = 0; i < 300_000; i++) keep.push({ i, s: `k${i}` })
  for (let i = 0; i < 1_500_000; i++) garbage.push({ i, s: `g${i}` })
  garbage = []
  releasingGc(gc)
  const heap = getHeapStatistics().total_physical_size
  const pages = heapPagesResident()
  assert.equal(keep.length, 300_000)
  assert.equal(garbage.length, 0)
  assert.ok(pages < heap + 24 * 1024 * 1024, `heap pages resident ${pages >> 20} MiB, heap ${heap >> 20} MiB`)
})
