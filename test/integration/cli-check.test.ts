/** `lb check` exit codes and output through the real binary. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { mainJs, repoRoot, writeConfig } from '../helpers/process.js'

function lb(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [mainJs, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LB_ADMIN_TOKEN: 'x' },
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('the shipped default config passes', () => {
  const r = lb('check', '--config', join(repoRoot, 'config/lb.yaml'))
  assert.equal(r.status, 0, r.stderr)
})

test('a broken config exits 1 and lists every problem with file and path', async () => {
  const file = await writeConfig(`
services:
  - name: web
    balance: fastest
    servers:
      - address: 127.0.0.1:99999
routes:
  - path: /
    service: nope
`)
  const r = lb('check', '--config', file)
  assert.equal(r.status, 1)
  const lines = r.stderr.trim().split('\n')
  assert.ok(
    lines.some((l) => l.startsWith(`${file}: services[0].balance: `)),
    r.stderr,
  )
  assert.ok(
    lines.some((l) => l.startsWith(`${file}: services[0].servers[0].address: `)),
    r.stderr,
  )
  assert.ok(
    lines.some((l) => l.startsWith(`${file}: routes[0].service: `)),
    r.stderr,
  )
})

test('running on a broken config refuses to start with the same report', async () => {
  const file = await writeConfig('listeners: 7\n')
  const r = lb('--config', file)
  assert.equal(r.status, 1)
  assert.match(r.stderr, /listeners/)
})

test('unknown flags are a usage error', () => {
  const r = lb('--frobnicate')
  assert.equal(r.status, 2)
  assert.match(r.stderr, /usage: lb/)
})
