/**
 * `lb` started on a Node older than 22.12 exits 1 with one line naming the supported versions, before loading
 * the CLI (which needs newer Node). The first case fakes an old version on this Node; the second runs a real
 * old Node where the machine has one (Debian's /usr/bin/node may be 20).
 */
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { mainJs } from './helpers/process.js'
import { nodeAtLeast } from '../src/cli/node-version.js'

/** Runs `node [...flags] main.js --config /nonexistent` and resolves with its exit code and output. */
function run(
  node: string,
  flags: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      node,
      [...flags, mainJs, '--config', '/nonexistent/lb.yaml'],
      { encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

function assertRefused(r: { code: number; stdout: string; stderr: string }, version: string): void {
  assert.equal(r.code, 1, r.stderr)
  assert.equal(r.stdout, '')
  assert.equal(
    r.stderr,
    `lb: Node.js ${version} is not supported; run lb on Node.js 24 LTS, or 22 from 22.12\n`,
  )
}

/** Makes this process look like Node 20.20.2 before main.js loads (had cli.js loaded, stderr would say more). */
const fakeOld = `data:text/javascript,${encodeURIComponent(`
Object.defineProperty(process.versions, 'node', { value: '20.20.2' });
Object.defineProperty(process, 'version', { value: 'v20.20.2' });
`)}`

test('main: on Node 20 (faked) lb exits 1 with one line naming the supported versions', async () => {
  assertRefused(await run(process.execPath, ['--import', fakeOld]), '20.20.2')
})

function oldNode(): { path: string; version: string } | null {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue
    const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
    if (!nodeAtLeast(version, 22, 12)) return { path, version }
  }
  return null
}

const old = oldNode()

test(
  'main: a real Node older than 22.12 gets the same line and exit 1',
  { skip: old === null ? 'no Node older than 22.12 in /usr/bin or /usr/local/bin' : false },
  async () => {
    if (old === null) return
    assertRefused(await run(old.path, []), old.version)
  },
)

test('main: on this Node the same command gets past the check (to the missing config)', async () => {
  const r = await run(process.execPath, [])
  assert.equal(r.code, 1)
  assert.doesNotMatch(r.stderr, /is not supported/)
  assert.match(r.stderr, /nonexistent/)
})
