/**
 * A cluster worker loads only the worker's modules (src/main.ts): not the CLI and the primary's graph
 * (discovery, checks, the admin API), which cost each worker 90 ms of CPU and 6.5 MB of RSS at its start. The
 * worker runs lb's real entry point under a resolve hook that lists every module it loads, and prints the list
 * when it exits (a worker exits when its channel to the primary closes). Nor does it load prom-client at its
 * start (src/metrics/prom-client.ts).
 */
import assert from 'node:assert/strict'
import cluster from 'node:cluster'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { tempDir } from '../helpers/temp.js'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { mainJs } from '../helpers/process.js'

const hook = `
import { registerHooks } from 'node:module'
const loaded = new Set()
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context)
    if (r.url.startsWith('file:')) loaded.add(r.url)
    return r
  },
})
process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...loaded]) + '\\n'))
`

test('a cluster worker loads the worker modules, not the CLI or the primary', async () => {
  const file = join(await tempDir('lb-test-'), 'hook.mjs')
  await writeFile(file, hook)
  cluster.setupPrimary({
    exec: mainJs,
    args: [],
    execArgv: ['--import', pathToFileURL(file).href],
    silent: true,
  })
  const w = cluster.fork()
  let err = ''
  w.process.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  w.process.stdout?.resume()
  const [hello] = (await once(w, 'message')) as [{ type?: string }]
  assert.equal(hello.type, 'lb:hello')
  const exited = once(w.process, 'exit')
  w.disconnect()
  await exited
  const line = err.split('\n').find((l) => l.startsWith('LOADED '))
  assert.ok(line !== undefined, err)
  const loaded = (JSON.parse(line.slice('LOADED '.length)) as string[]).map((u) =>
    u.replace(/^.*\/dist\//, ''),
  )
  assert.ok(loaded.includes('src/process/worker-process.js'), loaded.join(' '))
  for (const primaryOnly of ['src/cli/cli.js', 'src/process/primary.js', 'src/provider/consul/consul.js'])
    assert.ok(!loaded.includes(primaryOnly), `${primaryOnly} loaded: ${loaded.join(' ')}`)
  // prom-client comes later, for the process metrics (src/metrics/prom-client.ts).
  assert.ok(!loaded.some((u) => u.includes('/node_modules/prom-client/')), loaded.join(' '))
})
