/**
 * The import zones of eslint.config.js (`layers`): a wrong-way import fails `npm run lint`. The linter is run
 * on planted sources as if they were files of src/, so the rule is checked itself, not only the tree it passes.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const eslint = new ESLint({ cwd: root })

/** The no-restricted-imports messages ESLint gives `code` as the file `path` of the repository. */
async function zoneErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` })
  assert.ok(result !== undefined)
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

const cases: readonly { path: string; code: string; refused: boolean }[] = [
  // Upward: the pure route table importing the HTTP engine.
  { path: 'src/route/planted.ts', code: "import { Exchange } from '../proxy/exchange.js'\n", refused: true },
  // Sideways between layers: metrics may import model/ only.
  {
    path: 'src/metrics/planted.ts',
    code: "import type { Upstream } from '../proxy/upstream.js'\n",
    refused: true,
  },
  // model/ imports nothing at all.
  { path: 'src/model/planted.ts', code: "import { isIPv4 } from '../net/address.js'\n", refused: true },
  // A pure folder may not do I/O.
  { path: 'src/balance/planted.ts', code: "import { connect } from 'node:net'\n", refused: true },
  // The executable imports cli/ only.
  { path: 'src/main.ts', code: "import { Primary } from './process/primary.js'\n", refused: true },
  // Downward imports pass.
  { path: 'src/proxy/planted.ts', code: "import type { Route } from '../route/table.js'\n", refused: false },
  {
    path: 'src/route/planted.ts',
    code: "import type { PathMatch } from '../model/snapshot.js'\n",
    refused: false,
  },
]

for (const c of cases) {
  test(`${c.path}: ${c.code.trim()} is ${c.refused ? 'refused' : 'allowed'}`, async () => {
    const errors = await zoneErrors(c.path, c.code)
    if (c.refused) assert.ok(errors.length > 0, 'the import passed the zones')
    else assert.deepEqual(errors, [])
  })
}
