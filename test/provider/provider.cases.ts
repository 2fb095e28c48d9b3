/**
 * The provider contract every provider passes: it emits whole snapshots, emits nothing new when its
 * source is unchanged, and leaves no timers (or sockets) behind after abort.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isDeepStrictEqual } from 'node:util'
import type { Provider } from '../../src/provider/provider.js'
import type { Snapshot } from '../../src/model/snapshot.js'

export interface ProviderHarness {
  readonly provider: Provider
  /** Make the source change so that the next snapshot routes `path`. */
  change(path: string): void | Promise<void>
  /** Touch the source without changing it (a Consul index bump, a SIGHUP). */
  touch(): void | Promise<void>
  close(): Promise<void>
}

const settle = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

/** Wait (event-driven, bounded) until `snapshots` has an entry satisfying `pred`. */
async function until(snapshots: Snapshot[], pred: (s: Snapshot) => boolean): Promise<Snapshot> {
  const deadline = Date.now() + 5_000
  for (;;) {
    const found = snapshots.find(pred)
    if (found !== undefined) return found
    if (Date.now() > deadline)
      throw new Error(
        `no snapshot matched; got ${JSON.stringify(snapshots.map((s) => s.routes.map((r) => r.path)))}`,
      )
    await new Promise((r) => setImmediate(r))
  }
}

function isWhole(s: Snapshot): boolean {
  return (
    Array.isArray(s.services) &&
    Array.isArray(s.routes) &&
    Array.isArray(s.tcpRoutes) &&
    s.routes.every((r) => r.redirect !== null || s.services.some((v) => v.name === r.service))
  )
}

const timers = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length

export function runProviderCases(name: string, make: () => Promise<ProviderHarness>): void {
  test(`${name}: emits whole snapshots, including after a change`, async () => {
    const h = await make()
    const got: Snapshot[] = []
    const ac = new AbortController()
    h.provider.start((s) => got.push(s), ac.signal)
    await until(got, () => true)
    await h.change('/changed')
    const s = await until(got, (x) => x.routes.some((r) => r.path === '/changed'))
    assert.ok(got.every(isWhole))
    assert.ok(s.services.length > 0)
    ac.abort()
    await h.close()
  })

  test(`${name}: nothing new is emitted when the source is unchanged`, async () => {
    const h = await make()
    const got: Snapshot[] = []
    const ac = new AbortController()
    h.provider.start((s) => got.push(s), ac.signal)
    const first = await until(got, () => true)
    await h.touch()
    await settle(50)
    for (const s of got)
      assert.ok(isDeepStrictEqual(s, first), 'an unchanged source gave a different snapshot')
    ac.abort()
    await h.close()
  })

  test(`${name}: no timers left after abort`, async () => {
    const before = timers()
    const h = await make()
    const ac = new AbortController()
    const got: Snapshot[] = []
    h.provider.start((s) => got.push(s), ac.signal)
    await until(got, () => true)
    ac.abort()
    const n = got.length
    await h.close()
    await settle()
    assert.equal(timers(), before)
    await h.change('/late')
    await settle()
    assert.equal(got.length, n, 'emitted after abort')
  })
}
