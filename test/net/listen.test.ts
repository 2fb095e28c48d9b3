/**
 * reusePort needs Node ≥ 22.12 (or ≥ 23.1) on Linux; older Node uses cluster's shared handle. SharedPorts gives
 * the workers one real port for a port-0 listener.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { listenExtras, SharedPorts, supportsReusePort } from '../../src/net/listen.js'
import type { Config } from '../../src/config/types.js'
import { edit } from '../config/helpers.js'

const cases: { version: string; platform: string; want: boolean }[] = [
  { version: '20.20.2', platform: 'linux', want: false },
  { version: '22.11.0', platform: 'linux', want: false },
  { version: '22.12.0', platform: 'linux', want: true },
  { version: '23.0.0', platform: 'linux', want: false },
  { version: '23.1.0', platform: 'linux', want: true },
  { version: '24.4.1', platform: 'linux', want: true },
  { version: '24.4.1', platform: 'darwin', want: false },
  { version: '24.4.1', platform: 'win32', want: false },
]

for (const c of cases) {
  test(`listen: reusePort on Node ${c.version} ${c.platform}: ${c.want}`, () => {
    assert.equal(supportsReusePort(c.version, c.platform), c.want)
  })
}

test('listen: no extra options outside a cluster worker, and never for port 0', () => {
  assert.deepEqual(listenExtras(8080), {})
  assert.deepEqual(listenExtras(0), {})
})

/** A config with HTTP listeners `(name, host, port)`. */
function withListeners(...ls: [string, string, number][]): Config {
  return edit((c) => {
    c.listeners = ls.map(([name, host, port]) => ({ name, host, port, mode: 'http' as const }))
  })
}

/** Whether a plain (non-reusePort) socket can listen on 127.0.0.1:`port` now. */
function free(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen({ port, host: '127.0.0.1' }, () => s.close(() => resolve(true)))
  })
}

const reuse = supportsReusePort(process.versions.node, process.platform)

test('listen: SharedPorts leaves configs alone when disabled (single process)', async () => {
  const ports = new SharedPorts(false)
  const config = withListeners(['web', '127.0.0.1', 0])
  assert.equal(await ports.assign(config), config)
})

test(
  'listen: SharedPorts gives a port-0 listener one port, keeps it while name and host stay, then lets go',
  { skip: reuse ? false : 'reusePort needs Node ≥ 22.12 on Linux' },
  async () => {
    const ports = new SharedPorts(true)
    const first = await ports.assign(withListeners(['web', '127.0.0.1', 0], ['fixed', '127.0.0.1', 8080]))
    const port = first.listeners[0]?.port ?? 0
    assert.ok(port > 0)
    assert.equal(first.listeners[1]?.port, 8080)
    // Held with reusePort: a worker can join it, nothing else can take it.
    assert.equal(await free(port), false)
    const worker = createServer()
    await new Promise<void>((resolve) => worker.listen({ port, host: '127.0.0.1', reusePort: true }, resolve))
    ports.release()
    const again = await ports.assign(withListeners(['web', '127.0.0.1', 0]))
    assert.equal(again.listeners[0]?.port, port)
    await new Promise((resolve) => worker.close(resolve))
    // Released: with the worker gone the port is free.
    assert.equal(await free(port), true)
    const moved = await ports.assign(withListeners(['web', '127.0.0.2', 0]))
    assert.notEqual(moved.listeners[0]?.port, 0)
    ports.release()
  },
)
