/** lb runs on Node 22 from 22.12 and on 24 (and later); anything older gets one line naming those. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { nodeAtLeast, unsupportedNode } from '../../src/cli/node-version.js'

const cases: { desc: string; version: string; ok: boolean }[] = [
  { desc: 'Node 18', version: '18.20.8', ok: false },
  { desc: 'Node 20 (end of life)', version: '20.20.2', ok: false },
  { desc: 'Node 22 before reusePort', version: '22.11.0', ok: false },
  { desc: 'Node 22.12', version: '22.12.0', ok: true },
  { desc: 'a later Node 22', version: '22.23.5', ok: true },
  { desc: 'Node 24', version: '24.0.0', ok: true },
  { desc: 'a later Node 24', version: '24.22.3', ok: true },
  { desc: 'a prerelease of 26', version: '26.0.0-pre', ok: true },
  { desc: 'garbage', version: 'x.y', ok: false },
]

for (const c of cases) {
  test(`node-version: ${c.desc} (${c.version}) is ${c.ok ? 'supported' : 'refused'}`, () => {
    const problem = unsupportedNode(c.version)
    if (c.ok) assert.equal(problem, null)
    else {
      assert.ok(problem !== null)
      assert.equal(problem.split('\n').length, 1)
      assert.match(problem, new RegExp(`Node\\.js ${c.version.replaceAll('.', '\\.')} is not supported`))
      assert.match(problem, /24 LTS/)
      assert.match(problem, /22 from 22\.12/)
    }
  })
}

test('node-version: nodeAtLeast compares major, then minor', () => {
  assert.equal(nodeAtLeast('23.1.0', 23, 1), true)
  assert.equal(nodeAtLeast('23.0.9', 23, 1), false)
  assert.equal(nodeAtLeast('24.0.0', 23, 1), true)
  assert.equal(nodeAtLeast('22.99.0', 23, 1), false)
})

test('node-version: this suite runs on a supported Node, and on the major LB_EXPECT_NODE names when set', () => {
  assert.equal(unsupportedNode(process.versions.node), null)
  const want = process.env.LB_EXPECT_NODE
  if (want !== undefined && want !== '') assert.equal(process.versions.node.split('.')[0], want)
})
