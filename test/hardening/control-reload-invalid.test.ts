/**
 * Config reload (what SIGHUP and `lb reload` call) with a broken file: invalid YAML, an unknown key, a wrong
 * type, a missing file, a missing `<key>_file`, an empty file, a YAML bomb. Every time: the reload reports
 * problems naming the file and the dotted path, and the last good config keeps serving (same route, same
 * upstream); afterwards a good file still reloads. In-process Primary with `workers: 0` (the cluster variant is
 * test/integration/cluster-reload-invalid.test.ts).
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { rename, writeFile } from 'node:fs/promises'
import { pino } from 'pino'
import { Primary } from '../../src/process/primary.js'
import { clusterConfig } from '../helpers/daemon.js'
import { writeConfig } from '../helpers/process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { get } from '../helpers/client.js'

const good = (upstream: number, path: string): string => clusterConfig({ upstream, path, workers: 0 })

let up: TestUpstream
let file: string
let primary: Primary
let url: string

before(async () => {
  up = await startUpstream('a')
  file = await writeConfig(good(up.port, '/'))
  const silent = pino({ level: 'silent' })
  primary = await Primary.start({ configPath: file, env: {}, log: silent, accessLog: silent })
  url = `http://127.0.0.1:${primary.worker.ports().get('web') ?? 0}`
  assert.equal((await get(url, '/x')).body, 'a')
})

after(async () => {
  await primary.stop(1_000)
  await up.close()
})

const cases: { desc: string; text: () => string; want: RegExp }[] = [
  { desc: 'invalid YAML', text: () => good(up.port, '/') + 'routes: [\n', want: /YAML syntax error at line/ },
  {
    desc: 'tab indentation',
    text: () => good(up.port, '/').replace('  - name: a', '\t- name: a'),
    want: /YAML/,
  },
  { desc: 'unknown key', text: () => good(up.port, '/') + 'listners: []\n', want: /: listners: unknown key/ },
  {
    desc: 'unknown nested key',
    text: () => good(up.port, '/').replace('    service: a', '    service: a\n    strp: /x'),
    want: /routes\[0\]\.strp: unknown key/,
  },
  {
    desc: 'wrong type',
    text: () => good(up.port, '/').replace('workers: 0', 'workers: many'),
    want: /: workers: /,
  },
  {
    desc: 'wrong type deep',
    text: () => good(up.port, '/').replace('address: 127.0.0.1:0', 'address: [1, 2]'),
    want: /listeners\[0\]\.address: /,
  },
  { desc: 'a list instead of a map', text: () => '- 1\n- 2\n', want: /: : |expected/ },
  {
    desc: 'route to an unknown service',
    text: () => good(up.port, '/').replace('    service: a', '    service: b'),
    want: /routes\[0\]\.service: /,
  },
  {
    desc: 'missing <key>_file',
    text: () =>
      good(up.port, '/').replace("  address: 'off'", "  address: 'off'\n  token_file: /nonexistent/token"),
    want: /admin\.token_file: .*\/nonexistent\/token/,
  },
  {
    desc: 'YAML alias bomb',
    text: () =>
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' +
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n' +
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' +
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n' +
      'e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
    want: /YAML|alias/i,
  },
]

async function assertStillServing(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const r = await get(url, '/x')
    assert.equal(r.status, 200)
    assert.equal(r.body, 'a')
  }
}

for (const c of cases) {
  test(`reload with ${c.desc} → problems named, last good config keeps serving`, async () => {
    const failedBefore = primary.reloads.failed
    const config = primary.config
    await writeFile(file, c.text())
    const r = await primary.reload()
    assert.equal(r.ok, false)
    assert.ok(r.problems.length > 0)
    for (const p of r.problems) assert.ok(p.startsWith(file), `problem names the file: ${p}`)
    assert.match(r.problems.join('\n'), c.want)
    assert.equal(primary.reloads.failed, failedBefore + 1)
    assert.equal(primary.config, config, 'running config object unchanged')
    await assertStillServing()
  })
}

test('reload with the config file missing → problem named, last good config keeps serving', async () => {
  await writeFile(file, good(up.port, '/'))
  await rename(file, file + '.away')
  try {
    const r = await primary.reload()
    assert.equal(r.ok, false)
    assert.match(r.problems.join('\n'), /cannot read config file: ENOENT/)
    await assertStillServing()
  } finally {
    await rename(file + '.away', file)
  }
})

for (const text of ['', '\n\n', '# only a comment\n', '---\n']) {
  test(`reload with an empty document (${JSON.stringify(text)}: a file caught mid-write) → refused, keeps serving`, async () => {
    await writeFile(file, text)
    const r = await primary.reload()
    assert.equal(r.ok, false, 'an empty file would replace every listener with the defaults')
    assert.match(r.problems.join('\n'), /the file is empty/)
    await assertStillServing()
  })
}

test('after all that, a good file reloads and takes effect', async () => {
  await writeFile(file, good(up.port, '/only'))
  const r = await primary.reload()
  assert.deepEqual(r, { ok: true, problems: [] })
  assert.equal((await get(url, '/x')).status, 404)
  assert.equal((await get(url, '/only')).body, 'a')
})
