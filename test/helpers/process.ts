/**
 * Run the built `lb` binary as a child process (for tests that need its own memory, signals or exit code).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { writeFile, readFile } from 'node:fs/promises'
import { tempDir } from './temp.js'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** dist/src/main.js, seen from dist/test/helpers/. */
export const mainJs = fileURLToPath(new URL('../../src/main.js', import.meta.url))
/** The repository root, seen from dist/test/helpers/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

export interface LbProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly lines: Record<string, unknown>[]
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): Promise<number>
  stop(): Promise<number | null>
}

export interface CliResult {
  /** Exit code (-1 when killed by a signal). */
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** stdout then stderr. */
  readonly out: string
}

/** Run the built `lb` CLI with `args` (e.g. `reload --config FILE`); resolves with its exit code and output. */
export function runLb(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [mainJs, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout, stderr, out: stdout + stderr })
    })
  })
}

export async function writeConfig(yaml: string): Promise<string> {
  const dir = await tempDir('lb-test-')
  const file = join(dir, 'lb.yaml')
  await writeFile(file, yaml)
  return file
}

/** Start lb on `yaml` (its listener should use port 0) and wait for its "listening" log line. */
export async function startLbProcess(yaml: string): Promise<LbProcess> {
  const file = await writeConfig(yaml)
  const child = spawn(process.execPath, [mainJs, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  const lines: Record<string, unknown>[] = []
  const port = await new Promise<number>((resolve, reject) => {
    let buf = ''
    child.once('exit', (code) => reject(new Error(`lb exited with ${code}: ${buf}`)))
    child.stderr?.on('data', (chunk: Buffer) => {
      buf += chunk.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        try {
          const obj = JSON.parse(line) as Record<string, unknown>
          lines.push(obj)
          if (obj.msg === 'listening' && typeof obj.port === 'number') resolve(obj.port)
        } catch {
          // not JSON: keep it in buf for the error message
        }
      }
    })
  })
  return {
    child,
    port,
    lines,
    async peakRss(): Promise<number> {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
      const m = /VmHWM:\s+(\d+) kB/.exec(status)
      return m === null ? 0 : Number(m[1]) * 1024
    },
    stop(): Promise<number | null> {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode)
        child.once('exit', (code) => resolve(code))
        child.kill('SIGTERM')
      })
    },
  }
}

/** PIDs of an lb's cluster workers that logged "listening" (every process but the primary). */
export function workerPids(lb: LbProcess): number[] {
  const pids = lb.lines.filter((l) => l.msg === 'listening').map((l) => l.pid)
  return [...new Set(pids.filter((p): p is number => typeof p === 'number' && p !== lb.child.pid))]
}

/** An lb with two cluster workers, one listener on a free port, no admin. */
export const TWO_WORKERS = `
listeners:
  - address: 127.0.0.1:0
workers: 2
admin:
  address: "off"
`
