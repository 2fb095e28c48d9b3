/**
 * `listeners[].tls.consul_kv` through `lb check`: it needs the `consul` section, takes a KV prefix, and stands in
 * for file certificates; a problem names the file and the dotted path.
 */
import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { runCheck } from '../../src/cli/check.js'
import { certDir } from '../helpers/certs.js'

const readText = (p: string): Promise<string> => readFile(p, 'utf8')
const d = certDir()
after(() => d.remove())
const consul = 'consul: { addresses: ["127.0.0.1:8500"] }\n'

async function check(tls: string, rest: string): Promise<{ ok: boolean; output: string; path: string }> {
  const path = join(d.dir, 'lb.yaml')
  await writeFile(path, `listeners:\n  - { address: "127.0.0.1:0", tls: ${tls} }\n${rest}`)
  const r = await runCheck(path, {}, readText, readdir, Date.now())
  return { ok: r.ok, output: r.output, path }
}

const cases: { desc: string; tls: string; rest: string; problem: string | null }[] = [
  {
    desc: 'a prefix alone is enough with consul',
    tls: '{ consul_kv: lb/certs/ }',
    rest: consul,
    problem: null,
  },
  {
    desc: 'without the consul section',
    tls: '{ consul_kv: lb/certs }',
    rest: '',
    problem:
      'listeners[0].tls.consul_kv: needs the consul section: the certificates are read from that Consul',
  },
  {
    desc: 'a prefix with a leading slash',
    tls: '{ consul_kv: /lb/certs }',
    rest: consul,
    problem: 'listeners[0].tls.consul_kv: expected a Consul KV prefix like lb/certs, got "/lb/certs"',
  },
  {
    desc: 'no certificate source at all',
    tls: '{ min_version: TLS1.2 }',
    rest: consul,
    problem:
      'listeners[0].tls: needs at least one certificate: `certificates`, a `directory` of name.crt/name.key pairs or `consul_kv`',
  },
]

for (const c of cases) {
  test(c.desc, async () => {
    const r = await check(c.tls, c.rest)
    if (c.problem === null) {
      assert.equal(r.ok, true, r.output)
      return
    }
    assert.equal(r.ok, false)
    assert.ok(r.output.includes(`${r.path}: ${c.problem}`), r.output)
  })
}
