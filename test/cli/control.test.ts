/** `lb server` / `lb weight`: argument parsing and the admin API call they make. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseRuntimeArgs, runRuntimeControl } from '../../src/cli/control.js'

const bad: { desc: string; argv: string[]; want: RegExp }[] = [
  { desc: 'no value', argv: ['svc/a1'], want: /^usage: lb server/ },
  { desc: 'no server part', argv: ['svc', 'drain'], want: /"svc" is not <service>\/<server>/ },
  { desc: 'empty server', argv: ['svc/', 'drain'], want: /is not <service>\/<server>/ },
  { desc: 'an option instead of a target', argv: ['--config', 'x'], want: /^usage/ },
]
for (const c of bad) {
  test(`control: lb server with ${c.desc} is a usage error`, () => {
    const r = parseRuntimeArgs('server', c.argv)
    assert.equal(typeof r, 'string')
    assert.match(r as string, c.want)
  })
}

test('control: lb weight posts to the admin API with the token and reports the outcome', async () => {
  const seen: { url: string; auth: string }[] = []
  let status = 200
  const admin = createServer((req: IncomingMessage, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? '' })
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(status === 200 ? '{"ok":true}' : '{"error":"no server svc/b9"}')
  })
  await new Promise<void>((resolve) => admin.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const port = (admin.address() as AddressInfo).port
  const yaml = `admin:\n  address: 127.0.0.1:${port}\n  token: s3cret\nlisteners:\n  - address: 127.0.0.1:0\n`
  const deps = { env: {}, readFile: () => Promise.resolve(yaml), kill: () => {} }
  try {
    const parsed = parseRuntimeArgs('weight', ['svc/a 1', '50%', '--config', 'lb.yaml'])
    assert.ok(typeof parsed !== 'string')
    assert.deepEqual(parsed.rest, ['--config', 'lb.yaml'])
    const ok = await runRuntimeControl(parsed.command, 'lb.yaml', deps)
    assert.equal(ok.code, 0, ok.output)
    assert.deepEqual(seen[0], { url: '/api/servers/svc/a%201/weight?weight=50%25', auth: 'Bearer s3cret' })

    status = 404
    const r = await runRuntimeControl({ verb: 'server', target: 'svc/b9', value: 'drain' }, 'lb.yaml', deps)
    assert.equal(r.code, 1)
    assert.match(r.output, /HTTP 404.*no server svc\/b9/)
    assert.equal(seen[1]?.url, '/api/servers/svc/b9/state?state=drain')
  } finally {
    await new Promise<void>((resolve) => admin.close(() => resolve()))
  }
})
