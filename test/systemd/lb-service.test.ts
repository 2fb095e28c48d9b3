/**
 * systemd/lb.service: the lines operators rely on, and `systemd-analyze verify` finds nothing (skipped when
 * systemd-analyze is not installed: environment-dependent, not a failure).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { tempDir } from '../helpers/temp.js'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot } from '../helpers/process.js'
import { MALLOC_TUNABLE } from '../../src/process/malloc-tunable.js'
import { YOUNG_GENERATION_FLAG } from '../../src/process/young-generation.js'

const unitPath = join(repoRoot, 'systemd', 'lb.service')
/** Where docs/operations.md (Installing) puts Node 24 for production. */
const productionNode = '/opt/lb/node/bin/node'
const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p))

function verify(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // Log to stderr even when it is a pipe (else systemd may log to the journal and print nothing).
    const env = { ...process.env, SYSTEMD_LOG_TARGET: 'console', SYSTEMD_LOG_COLOR: '0' }
    execFile(analyze as string, ['verify', '--man=no', file], { env }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, output: (stdout + stderr).trim() })
    })
  })
}

/** A copy whose node path exists on this machine (verify checks that ExecStart binaries exist). */
async function localCopy(text: string): Promise<string> {
  const dir = await tempDir('lb-unit-')
  const file = join(dir, 'lb.service')
  await writeFile(file, text.replaceAll(productionNode, process.execPath))
  return file
}

test('systemd: lb.service has the lifecycle settings', async () => {
  const unit = await readFile(unitPath, 'utf8')
  for (const line of [
    `ExecStart=${productionNode} ${YOUNG_GENERATION_FLAG} /opt/lb/dist/src/main.js --config /etc/lb/lb.yaml`,
    `Environment=GLIBC_TUNABLES=${MALLOC_TUNABLE}`,
    `ExecStartPre=${productionNode} /opt/lb/dist/src/main.js check --config /etc/lb/lb.yaml`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    'KillMode=mixed',
    'Restart=on-failure',
    'LimitNOFILE=1048576',
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    'User=lb',
  ]) {
    assert.ok(unit.split('\n').includes(line), `missing: ${line}`)
  }
})

test(
  'systemd: systemd-analyze verify accepts lb.service',
  { skip: analyze === undefined ? 'systemd-analyze is not installed' : false },
  async () => {
    const r = await verify(await localCopy(await readFile(unitPath, 'utf8')))
    assert.equal(r.code, 0, r.output)
    assert.equal(r.output, '')
  },
)

test(
  'systemd: systemd-analyze verify reports a broken copy (the check is real)',
  { skip: analyze === undefined ? 'systemd-analyze is not installed' : false },
  async () => {
    const text = (await readFile(unitPath, 'utf8')).replace('\nKillMode=mixed\n', '\nKillMode=bogus\n')
    const r = await verify(await localCopy(text))
    assert.match(r.output, /kill mode/i)
  },
)
