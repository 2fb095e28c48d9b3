import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FamilyData } from '../../src/metrics/exposition.js'
import { DashboardSampler, SAMPLE_SLOTS } from '../../src/metrics/dashboard.js'

function family(name: string, lines: readonly [string, number][]): FamilyData {
  return {
    name,
    series: lines.map((l) => l[0] + '\n').join(''),
    values: Float64Array.from(lines.map((l) => l[1])),
  }
}

/** One worker's families: `ok` 2xx and `bad` 5xx answers of service a, all within 10 ms, server s1 failing. */
function copy(ok: number, bad: number, inflight: number): FamilyData[] {
  const n = ok + bad
  return [
    family('lb_http_requests_total', [
      ['{service="a",code="2xx"}', ok],
      ['{service="a",code="5xx"}', bad],
      ['{service="<none>",code="4xx"}', 7],
    ]),
    family('lb_http_request_duration_seconds', [
      ['_bucket{service="a",le="0.001"}', 0],
      ['_bucket{service="a",le="0.005"}', n / 2],
      ['_bucket{service="a",le="0.01"}', n],
      ['_bucket{service="a",le="+Inf"}', n],
      ['_sum{service="a"}', 0.006 * n],
      ['_count{service="a"}', n],
    ]),
    family('lb_http_bytes_total', [
      ['{service="a",direction="in"}', 100 * n],
      ['{service="a",direction="out"}', 1000 * n],
    ]),
    family('lb_server_inflight', [
      ['{service="a",server="s0"}', inflight],
      ['{service="a",server="s1"}', 0],
    ]),
    family('lb_service_queue_length', [['{service="a"}', 1]]),
    family('lb_http_server_requests_total', [
      ['{service="a",server="s0",code="2xx"}', ok],
      ['{service="a",server="s1",code="5xx"}', bad],
    ]),
  ]
}

test('dashboard samples: rates from two samples summed over workers, p50/p99 by interpolation, gauges', () => {
  const s = new DashboardSampler()
  s.sample([copy(0, 0, 0), copy(0, 0, 0)], 1_000_000)
  // 10 s later each of two workers answered 90 × 2xx and 10 × 5xx.
  s.sample([copy(90, 10, 2), copy(90, 10, 1)], 1_010_000)
  const v = s.view(['a'])
  assert.deepEqual(v.times, [1_000_000, 1_010_000])
  assert.equal(v.services.length, 1, 'no series for <none>')
  const now = v.services[0]?.now
  assert.equal(now?.rps, 20)
  assert.equal(now?.r2xx, 18)
  assert.equal(now?.r5xx, 2)
  assert.equal(now?.r4xx, 0)
  assert.equal(now?.p50, 5, 'the median is the top of the 5 ms bucket')
  assert.equal(now?.p99, 9.9)
  assert.equal(now?.inflight, 3)
  assert.equal(now?.queue, 2)
  assert.equal(now?.bytesOutPerSec, 20_000)
  // No chart point before the first request (the ring starts then).
  assert.deepEqual(v.series['a']?.rps, [null, 20])
  const s1 = v.servers.find((x) => x.server === 's1')
  assert.equal(s1?.r5xx, 2)
  assert.equal(s1?.rps, 2)
})

test('dashboard samples: the ring keeps 15 minutes, and a service gone from the data is forgotten', () => {
  const s = new DashboardSampler()
  for (let i = 0; i <= SAMPLE_SLOTS + 5; i++) s.sample([copy(i * 10, 0, 0)], i * 10_000)
  const v = s.view(['a'])
  assert.equal(v.times.length, SAMPLE_SLOTS)
  assert.equal(v.times[0], 6 * 10_000)
  assert.equal(v.series['a']?.rps.length, SAMPLE_SLOTS)
  assert.equal(v.series['a']?.rps.at(-1), 1)
  assert.equal(v.series['a']?.rps.includes(null), false, 'every kept sample has a point')
  s.sample([[]], (SAMPLE_SLOTS + 6) * 10_000)
  assert.equal(s.size, 0)
  assert.deepEqual(s.view(['a']).servers, [])
})
