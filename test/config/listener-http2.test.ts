/**
 * `listeners[].http2` and `listeners[].h2c` through `lb check`: each applies to one kind of listener, and a
 * misplaced or mistyped one is reported with the file and its dotted path.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { runCheck } from '../../src/cli/check.js'
import { certDir, makeCert } from '../helpers/certs.js'

const readText = (p: string): Promise<string> => readFile(p, 'utf8')
const d = certDir()
after(() => d.remove())
const cert = makeCert(d.dir, { names: ['site.test'] })
const tls = `{ certificates: [{ cert_file: "${cert.cert}", key_file: "${cert.key}" }] }`

async function check(listener: string): Promise<{ ok: boolean; output: string; path: string }> {
  const path = join(d.dir, 'lb.yaml')
  await writeFile(path, `listeners:\n  - { address: "127.0.0.1:0", ${listener} }\n`)
  const r = await runCheck(path, {}, readText, readdir, Date.now())
  return { ok: r.ok, output: r.output, path }
}

const cases: { desc: string; listener: string; problem: string | null }[] = [
  { desc: 'http2: false on a TLS listener', listener: `tls: ${tls}, http2: false`, problem: null },
  { desc: 'h2c: true on a plain listener', listener: 'h2c: true', problem: null },
  {
    desc: 'http2 without tls',
    listener: 'http2: true',
    problem: 'listeners[0].http2: only applies to listeners with tls (h2c: HTTP/2 without TLS)',
  },
  {
    desc: 'h2c with tls',
    listener: `tls: ${tls}, h2c: true`,
    problem: 'listeners[0].h2c: only applies to listeners without tls (http2: HTTP/2 over TLS)',
  },
  {
    desc: 'http2 on a tcp listener',
    listener: 'mode: tcp, service: "", http2: false',
    problem: 'listeners[0].http2: only applies to mode: http listeners',
  },
  { desc: 'h2c not a boolean', listener: 'h2c: "yes please"', problem: 'listeners[0].h2c:' },
]

for (const c of cases) {
  test(c.desc, async () => {
    const r = await check(c.listener)
    if (c.problem === null) {
      assert.equal(r.ok, true, r.output)
      return
    }
    assert.equal(r.ok, false)
    assert.ok(r.output.includes(`${r.path}: ${c.problem}`), r.output)
  })
}
