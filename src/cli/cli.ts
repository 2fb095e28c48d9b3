/**
 * The CLI, loaded by src/main.ts once the Node version is known to be supported: `lb --config FILE` runs the
 * daemon, `lb check --config FILE` validates, and the control verbs talk to a running lb.
 */
import { readdir, readFile } from 'node:fs/promises'
import {
  explainUsage,
  parseExplainArgs,
  parseRuntimeArgs,
  runControl,
  runExplain,
  runRuntimeControl,
} from './control.js'
import { parseArgs, usage, UsageError } from '../config/load.js'
import { runCheck } from './check.js'
import { ConfigError } from '../model/errors.js'
import { Primary } from '../process/primary.js'

const controlDeps = {
  env: process.env,
  readFile: (p: string) => readFile(p, 'utf8'),
  readDir: (p: string) => readdir(p),
  kill: (pid: number, signal: NodeJS.Signals) => process.kill(pid, signal),
}

/** `lb server <svc>/<srv> ready|drain|maint` and `lb weight <svc>/<srv> <w|N%>` through the admin API. */
async function runtimeVerb(verb: 'server' | 'weight', argv: string[]): Promise<number> {
  const parsed = parseRuntimeArgs(verb, argv)
  let configPath: string
  try {
    if (typeof parsed === 'string') throw new UsageError(parsed)
    configPath = parseArgs(parsed.rest).configPath
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${usage}\n`)
      return 2
    }
    throw err
  }
  const r = await runRuntimeControl(parsed.command, configPath, controlDeps)
  ;(r.code === 0 ? process.stdout : process.stderr).write(r.output + '\n')
  return r.code
}

/** `lb 0.1.0 (Node v24.x)`: the version of the package this file was installed with. */
async function version(): Promise<string> {
  // dist/src/cli/cli.js → the package root's package.json (in a checkout and in an installed package alike).
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown
  }
  return `lb ${String(pkg.version)} (Node ${process.version})`
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write((await version()) + '\n')
    return 0
  }
  if (argv[0] === 'server' || argv[0] === 'weight') return runtimeVerb(argv[0], argv.slice(1))
  if (argv[0] === 'explain') return explain(argv.slice(1))
  let args
  try {
    args = parseArgs(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${usage}\n`)
      return 2
    }
    throw err
  }
  if (args.command === 'help') {
    process.stdout.write(usage + '\n')
    return 0
  }
  if (args.command === 'check') {
    const result = await runCheck(args.configPath, process.env, (p) => readFile(p, 'utf8'), readdir)
    ;(result.ok ? process.stdout : process.stderr).write(
      result.output.endsWith('\n') ? result.output : result.output + '\n',
    )
    return result.ok ? 0 : 1
  }
  if (args.command === 'reload' || args.command === 'restart-workers') {
    const r = await runControl(args.command, args.configPath, controlDeps)
    ;(r.code === 0 ? process.stdout : process.stderr).write(r.output + '\n')
    return r.code
  }
  let primary: Primary
  try {
    primary = await Primary.start({ configPath: args.configPath, env: process.env })
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n')
      return 1
    }
    throw err
  }
  let stopping = false
  process.on('SIGHUP', () => {
    void primary.reload()
  })
  const stop = (signal: string): void => {
    if (stopping) {
      // A second signal exits at once.
      process.exit(0)
    }
    stopping = true
    primary.log.info({ signal }, 'draining')
    primary.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        primary.log.error({ err }, 'stopping failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGUSR2', () => {
    void primary.restartWorkers()
  })
  return -1
}

async function explain(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(explainUsage + '\n')
    return 0
  }
  let args
  try {
    args = parseExplainArgs(argv)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${explainUsage}\n`)
      return 2
    }
    throw err
  }
  const r = await runExplain(args, {
    env: process.env,
    readFile: (p) => readFile(p, 'utf8'),
    kill: (pid, signal) => process.kill(pid, signal),
  })
  ;(r.code === 2 ? process.stderr : process.stdout).write(r.output + '\n')
  return r.code
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`lb: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exit(1)
  },
)
