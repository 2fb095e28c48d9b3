/**
 * Starting lb does not load Node's bundled undici (src/net/node-http.ts): importing node:http from an ES module
 * would, through the getters of its module facade (13 MB of RSS and 50–110 ms of CPU in the primary and in each
 * cluster worker). The `lb` executable loads the primary's whole module graph before it looks at its arguments,
 * so `lb --version` shows what the primary loads; a cluster worker loads src/process/worker-process.ts instead.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { mainJs } from '../helpers/process.js'

const workerJs = join(dirname(mainJs), 'process', 'worker-process.js')

test("lb's module graph does not load Node's bundled undici", async () => {
  const script = `
process.argv.push(${JSON.stringify(mainJs)}, '--version')
process.on('exit', () => process.stderr.write('undici:' + process.moduleLoadList.filter((m) => m.includes('undici')).join(',') + '\\n'))
await import(${JSON.stringify(mainJs)})
await import(${JSON.stringify(workerJs)})
`
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], (err, stdout, stderr) =>
      err === null ? resolve({ stdout, stderr }) : reject(err),
    ),
  )
  assert.match(stdout, /\d+\.\d+\.\d+/, 'lb --version ran')
  assert.match(stderr, /^undici:$/m, stderr)
})
