/**
 * config/prometheus/lb-alerts.yaml with Prometheus' own tool: `promtool check rules` (syntax, PromQL, templates)
 * and `promtool test rules config/prometheus/lb-alerts.test.yaml` (the alerts fire on lb's series). promtool is
 * looked for in tools/prometheus/usr/bin (where .ci/run unpacks Debian's `prometheus` package: 19 MB to
 * download, no install, no daemon) and on PATH. Skipped when it is missing, unless LB_REQUIRE_PROMTOOL=1
 * (.ci/run sets it where apt exists).
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot } from '../helpers/process.js'

function findPromtool(): string | null {
  const local = join(repoRoot, 'tools/prometheus/usr/bin/promtool')
  if (existsSync(local)) return local
  const which = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' })
  return which.status === 0 && which.stdout.trim() !== '' ? which.stdout.trim() : null
}

const promtool = findPromtool()
const skip =
  promtool === null && process.env.LB_REQUIRE_PROMTOOL !== '1'
    ? 'promtool not found (tools/prometheus/usr/bin or PATH; .ci/run fetches it)'
    : false

test('promtool: the alert rules check and their unit tests pass', { skip }, () => {
  assert.ok(promtool !== null, 'LB_REQUIRE_PROMTOOL=1 but promtool is missing')
  const check = execFileSync(promtool, ['check', 'rules', 'config/prometheus/lb-alerts.yaml'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
  assert.match(check, /SUCCESS: \d+ rules found/)
  const unit = execFileSync(promtool, ['test', 'rules', 'config/prometheus/lb-alerts.test.yaml'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
  assert.match(unit, /SUCCESS/)
})
