/**
 * Runs test files inside this process (node:test `run()` with `isolation: 'none'`, so the files see this
 * process's flags, e.g. `--insecure-http-parser`) and writes `{ passed, failed, skipped }` as JSON to the file
 * named by the first argument. Counts come from the runner's events, never from a reporter's text.
 * Usage: node [flags] run-suite.js RESULT.json FILE...
 */
import { writeFileSync } from 'node:fs'
import { run } from 'node:test'

export interface SuiteResult {
  readonly passed: number
  readonly failed: number
  readonly skipped: number
}

const [resultFile, ...files] = process.argv.slice(2)
if (resultFile === undefined || files.length === 0) {
  process.stderr.write('usage: run-suite.js RESULT.json FILE...\n')
  process.exit(2)
}
let passed = 0
let failed = 0
let skipped = 0
const stream = run({ files, isolation: 'none' })
stream.on('test:pass', (data) => {
  if (data.details.type === 'suite') return
  if (data.skip !== undefined || data.todo !== undefined) skipped++
  else passed++
})
stream.on('test:fail', (data) => {
  failed++
  process.stderr.write(`failed: ${data.name}: ${String(data.details.error)}\n`)
})
stream.on('end', () => {
  const result: SuiteResult = { passed, failed, skipped }
  writeFileSync(resultFile, JSON.stringify(result))
})
// The events are read above; the stream must still flow.
stream.resume()
