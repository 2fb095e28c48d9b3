/** YAML syntax errors: every one reported, with line and column, and nothing is validated after them. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseYaml } from '../../src/config/load.js'
import { file, yaml } from './helpers.js'

const cases: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'bad indentation',
    input: 'log:\n  level: info\n destination: stderr\n',
    want: ['YAML syntax error at line 3, column 1: All mapping items must start at the same column'],
  },
  {
    desc: 'an unclosed flow sequence',
    input: 'http:\n  trusted_proxies: [10.0.0.0/8\n',
    want: [
      'YAML syntax error at line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  },
  {
    desc: 'a duplicate key',
    input: 'log: {}\nlog: {}\n',
    want: ['YAML syntax error at line 2, column 1: Map keys must be unique'],
  },
  {
    desc: 'an unquoted IPv6 address is a flow sequence',
    input: 'listeners:\n  - address: [::]:80\n',
    want: ['YAML syntax error at line 2, column 18: Unexpected scalar at node end'],
  },
  {
    desc: 'an unterminated quote',
    input: 'admin:\n  token: "abc\n',
    want: ['YAML syntax error at line 3, column 1: Missing closing "quote'],
  },
  {
    desc: 'several documents',
    input: 'log: {}\n---\nadmin: {}\n',
    want: [
      'YAML syntax error at line 2, column 1: Source contains multiple documents; please use YAML.parseAllDocuments()',
    ],
  },
  {
    desc: 'every error is reported',
    input: yaml`
      log:
        level: info
       destination: stderr
      admin: {}
      admin: {}
    `,
    want: [
      'YAML syntax error at line 3, column 1: All mapping items must start at the same column',
      'YAML syntax error at line 5, column 1: Map keys must be unique',
    ],
  },
  { desc: 'a valid document has no problems', input: 'log: { level: info }\n', want: [] },
]

for (const c of cases) {
  test(`YAML syntax: ${c.desc}`, () => {
    const r = parseYaml(c.input, file)
    assert.deepEqual(
      r.problems.map((p) => p.message),
      c.want,
    )
    for (const p of r.problems) {
      assert.equal(p.file, file)
      assert.equal(p.path, '')
      assert.doesNotMatch(p.message, /\n/)
    }
  })
}

test('YAML syntax: alias bombs are refused', () => {
  let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n'
  for (let i = 1; i < 8; i++)
    text += `a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`
  const r = parseYaml(text, file)
  assert.equal(r.problems.length, 1)
  assert.match(r.problems[0]?.message ?? '', /^YAML error: .*alias/i)
})
