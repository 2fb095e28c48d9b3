/**
 * `npm start` runs the demo (examples/demo/run.ts): lb on a config plus its two upstreams, all on 127.0.0.1.
 * A SIGTERM to the `npm start` process stops lb and the upstreams: every port they held is free again (npm
 * used to leave lb running behind its shell, holding :9999). Ports are picked free here; lb's listener is port 0.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { test } from 'node:test'
import { get } from '../../helpers/client.js'
import { repoRoot, writeConfig } from '../../helpers/process.js'

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const s = createServer()
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  const port = (s.address() as AddressInfo).port
  s.close()
  await once(s, 'close')
  return port
}

/** Whether 127.0.0.1:`port` can be bound (nothing holds it). */
async function isFree(port: number): Promise<boolean> {
  const s = createServer()
  try {
    s.listen(port, '127.0.0.1')
    await once(s, 'listening')
    s.close()
    await once(s, 'close')
    return true
  } catch {
    return false
  }
}

test('npm start: SIGTERM stops lb and its demo upstreams', async (t) => {
  const [a, b] = [await freePort(), await freePort()]
  const config = await writeConfig(`
listeners:
  - { name: web, address: '127.0.0.1:0' }
services:
  - name: hello
    servers: [{ address: '127.0.0.1:${a}', name: a }, { address: '127.0.0.1:${b}', name: b }]
routes:
  - { path: /, service: hello }
admin: { address: 'off' }
log: { level: info, access: { enabled: false } }
`)
  // npm runs this test's own npm when there is one (npm test), else the npm on PATH.
  const npmCli = process.env.npm_execpath
  const [cmd, args] =
    npmCli !== undefined && npmCli.endsWith('.js')
      ? [process.execPath, [npmCli, 'start', '--silent', '--', '--config', config]]
      : ['npm', ['start', '--silent', '--', '--config', config]]
  const child = spawn(cmd, args, {
    cwd: repoRoot,
    env: { ...process.env, LB_DEMO_PORTS: `${a},${b}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => true),
    once(child, 'error').then(() => false),
  ])
  if (!spawned) {
    t.skip('npm is not available here')
    return
  }
  let lbPort = 0
  // lb's pid, from its log: if it outlives npm (the bug this test is about), the test ends it.
  let lbPid = 0
  t.after(() => {
    child.stderr?.destroy()
    if (lbPid === 0) return
    try {
      process.kill(lbPid, 'SIGKILL')
    } catch {
      // already gone
    }
  })
  try {
    lbPort = await new Promise<number>((resolve, reject) => {
      let buf = ''
      child.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${buf}`)))
      child.stderr?.on('data', (chunk: Buffer) => {
        buf += chunk.toString()
        const line = buf.split('\n').find((l) => l.includes('"msg":"listening"'))
        if (line === undefined) return
        const fields = JSON.parse(line) as { pid?: number; port?: number }
        lbPid = fields.pid ?? 0
        if (typeof fields.port === 'number' && fields.port !== 0) resolve(fields.port)
      })
    })
    const r = await get(`http://127.0.0.1:${lbPort}`, '/')
    assert.equal(r.status, 200)
    assert.match(r.body, /"upstream": "[ab]"/)
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
  for (const port of [lbPort, a, b]) assert.equal(await isFree(port), true, `port ${port} is still held`)
})
