/**
 * lb as an installable package: `npm pack` the checkout (the built dist/ of this test run), `npm install -g` the
 * tarball into a temporary prefix, and run the installed `lb` bin: `lb --version`, and `lb check` on the config
 * the package ships (config/lb.yaml). The bin's `#!/usr/bin/env node` runs the first `node` on PATH, so the test
 * puts the Node running it first, as an operator installs Node 24 LTS first. The dependencies come from npm's
 * cache when it has them (`--prefer-offline`: CI's `npm ci` filled it), else from the registry. Then the steps of
 * docs/operations.md for /opt/lb: unpack the tarball, `npm install --omit=dev`, and the unit's `lb check`.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { repoRoot } from '../helpers/process.js'

const run = promisify(execFile)

/** npm's CLI as [command, args before npm's own]: the npm running this suite, else the one on PATH. */
function npm(): [string, string[]] {
  const cli = process.env.npm_execpath
  if (cli !== undefined && existsSync(cli) && cli.endsWith('.js')) return [process.execPath, [cli]]
  return ['npm', []]
}

test('npm pack + npm install -g: the installed lb bin runs --version and checks the shipped config', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lb-pack-'))
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }
  const [cmd, pre] = npm()
  try {
    // dist/ is built by `npm test` before the suite runs: no prepack rebuild here.
    await run(cmd, [...pre, 'pack', '--ignore-scripts', '--pack-destination', dir], { cwd: repoRoot, env })
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))
    assert.ok(tarball !== undefined, 'npm pack made a tarball')
    const prefix = join(dir, 'prefix')
    await run(
      cmd,
      [
        ...pre,
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(dir, tarball),
      ],
      { cwd: dir, env, timeout: 110_000 },
    )
    const lb = join(prefix, 'bin', 'lb')
    const version = await run(lb, ['--version'], { cwd: dir, env })
    assert.match(version.stdout, /^lb 0\.\d+\.\d+ \(Node v2\d\./)
    const shipped = join(prefix, 'lib', 'node_modules', 'lb', 'config', 'lb.yaml')
    const check = await run(lb, ['check', '--config', shipped], { cwd: dir, env })
    assert.match(check.stdout, /: ok: listener .*; \d+ services?, \d+ servers?, \d+ routes?; admin /)
    // The unit and the docs ship with it (the install steps in docs/operations.md use them).
    for (const f of ['systemd/lb.service', 'docs/operations.md', 'Dockerfile'])
      assert.ok(existsSync(join(prefix, 'lib', 'node_modules', 'lb', f)), f)

    // docs/operations.md, Installing on a front node: the tarball unpacked into /opt/lb (here a directory),
    // its production dependencies installed there, and the unit's ExecStartPre command.
    const opt = join(dir, 'opt-lb')
    await mkdir(opt)
    await run('tar', ['-xzf', join(dir, tarball), '-C', opt, '--strip-components=1'])
    await run(
      cmd,
      [...pre, 'install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
      {
        cwd: opt,
        env,
        timeout: 110_000,
      },
    )
    const unitCheck = await run(
      process.execPath,
      [join(opt, 'dist/src/main.js'), 'check', '--config', join(opt, 'config/lb.yaml')],
      { cwd: opt, env },
    )
    assert.match(unitCheck.stdout, /: ok: /)
    assert.ok(!existsSync(join(opt, 'node_modules', 'typescript')), 'no devDependencies')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
