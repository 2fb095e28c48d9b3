/**
 * The package's `lb` bin runs from a checkout as the README's command table says: `npx lb …` after `npm ci`
 * (npx puts node_modules/.bin first on PATH, so the bin runs on the Node 24 the install brings).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { repoRoot } from '../helpers/process.js'

test('npx lb check --config config/lb.yaml: the bin validates the shipped config', async (t) => {
  // The npx of the npm running this suite (npm test), else the one on PATH.
  const npmCli = process.env.npm_execpath
  const npxCli = npmCli === undefined ? '' : join(dirname(npmCli), 'npx-cli.js')
  const [cmd, args] = existsSync(npxCli)
    ? [process.execPath, [npxCli, '--no', 'lb', 'check', '--config', 'config/lb.yaml']]
    : ['npx', ['--no', 'lb', 'check', '--config', 'config/lb.yaml']]
  const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()))
  const started = await Promise.race([
    once(child, 'spawn').then(() => true),
    once(child, 'error').then(() => false),
  ])
  if (!started) {
    t.skip('npx is not available here')
    return
  }
  const [code] = (await once(child, 'close')) as [number | null]
  assert.equal(code, 0, out)
  assert.match(out, /config\/lb\.yaml/)
})
