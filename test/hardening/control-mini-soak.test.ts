/**
 * A 25 s run of bench/soak.ts in `npm test`: mixed HTTP, WebSocket and TCP traffic through the lb daemon while
 * upstreams restart and the config is reloaded by SIGHUP. Asserts zero unexpected errors and no fd growth (open fds before the traffic vs once it is over). RSS
 * growth is judged by the full 5-minute run only (`node dist/bench/soak.js`): 25 s is all warm-up.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { soak } from '../../bench/soak.js'

test(
  'mini-soak: 25 s of mixed traffic with flapping upstreams and reloads → no unexpected error, no fd growth',
  { timeout: 90_000 },
  async () => {
    const r = await soak({ duration: 25, flapEvery: 6, reloadEvery: 5 })
    assert.deepEqual(r.errors, [])
    assert.ok(
      r.http > 100 && r.ws > 5 && r.tcp > 5,
      `traffic flowed: ${r.http} http, ${r.ws} ws, ${r.tcp} tcp`,
    )
    assert.ok(r.flaps >= 2 && r.reloads >= 3, `${r.flaps} flaps, ${r.reloads} reloads`)
    assert.ok(r.fdsAfter <= r.fdsStart + 16, `fds ${r.fdsStart} before traffic → ${r.fdsAfter} after`)
  },
)
