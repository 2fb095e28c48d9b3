/**
 * Command line and config file loading: read the YAML file, read the files named by `<key>_file` keys,
 * then hand everything to the pure `validate` (validate.ts). I/O comes in as the injected `readFile`.
 */
import { dirname, isAbsolute, resolve } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { ConfigError, type ConfigProblem } from '../model/errors.js'
import type { Config, Env } from './types.js'
import { directoryReferences, fileReferences, validate } from './validate.js'
import { directoryFiles } from './sections/tls.js'

export const defaultConfigPath = '/etc/lb/lb.yaml'

export const usage = `usage: lb [--config FILE]          run the load balancer (default ${defaultConfigPath})
       lb check [--config FILE]    validate FILE and print every problem
       lb reload [--config FILE]   validate FILE, then make the running daemon reload it (exit 1 if it fails)
       lb restart-workers [--config FILE]  restart the daemon's worker processes one at a time
       lb server SVC/SRV ready|drain|maint [--config FILE]  set a server's state (admin API, every worker)
       lb weight SVC/SRV W|N% [--config FILE]  set a server's weight (admin API, every worker)
       lb explain URL [--config FILE] [--offline]  which route and server URL would hit (lb explain --help)
options:
  -c, --config FILE   configuration file
  -h, --help          show this help
  -V, --version       show lb's and Node's versions`

/** A bad command line. The message says what is wrong; the caller prints it with `usage`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export interface Args {
  readonly command: 'run' | 'check' | 'reload' | 'restart-workers' | 'help'
  readonly configPath: string
}

/** `argv` is what follows the script name (`process.argv.slice(2)`). */
export function parseArgs(argv: readonly string[]): Args {
  let command: Args['command'] | undefined
  let configPath: string | undefined
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '-h' || arg === '--help') {
      help = true
    } else if (arg === '-c' || arg === '--config' || arg.startsWith('--config=')) {
      const value = arg.startsWith('--config=') ? arg.slice('--config='.length) : argv[++i]
      if (value === undefined || value === '')
        throw new UsageError(`option ${arg.split('=')[0]} needs a file name`)
      if (configPath !== undefined) throw new UsageError('option --config given more than once')
      configPath = value
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`)
    } else if (command === undefined && isCommand(arg)) {
      command = arg
    } else {
      throw new UsageError(`unexpected argument "${arg}"`)
    }
  }
  return { command: help ? 'help' : (command ?? 'run'), configPath: configPath ?? defaultConfigPath }
}

const commands = ['run', 'check', 'reload', 'restart-workers'] as const satisfies readonly Args['command'][]

function isCommand(arg: string): arg is (typeof commands)[number] {
  return (commands as readonly string[]).includes(arg)
}

export interface LoadOptions {
  /** The config file, as given on the command line; problems name it this way. */
  readonly path: string
  readonly env: Env
  readonly readFile: (path: string) => Promise<string>
  /** Refuse an empty document instead of taking it as the defaults (reload). */
  readonly refuseEmpty?: boolean
  /** The names in a directory (`listeners[].tls.directory`); default: the file system's. */
  readonly readDir?: (path: string) => Promise<string[]>
}

/** Read, parse and validate the config file; throws ConfigError listing every problem. */
export async function loadConfig(opts: LoadOptions): Promise<Config> {
  const file = opts.path
  let text: string
  try {
    text = await opts.readFile(file)
  } catch (err) {
    throw new ConfigError([{ file, path: '', message: `cannot read config file: ${describeIoError(err)}` }])
  }
  const parsed = parseYaml(text, file)
  if (parsed.problems.length > 0) throw new ConfigError(parsed.problems)
  if (opts.refuseEmpty === true && (parsed.raw === null || parsed.raw === undefined)) {
    // On reload an empty file is usually one caught mid-write (truncated, then written): taking it as "all
    // defaults" would replace every listener. Reloading to the defaults alone takes an explicit `{}`.
    throw new ConfigError([
      { file, path: '', message: 'the file is empty (no YAML document); write `{}` to run on the defaults' },
    ])
  }
  const dirs = await listDirectories(
    directoryReferences(parsed.raw, opts.env),
    file,
    opts.readDir ?? noDirectories,
  )
  const refs = fileReferences(parsed.raw, opts.env)
  for (const [dir, names] of dirs) if (!(names instanceof Error)) refs.push(...directoryFiles(dir, names))
  const files = await readReferencedFiles(refs, file, opts.readFile)
  const result = validate(parsed.raw, file, opts.env, files, dirs)
  if (result.config === undefined) throw new ConfigError(result.problems)
  return { ...result.config, file: resolve(file) }
}

/** YAML text → plain data, or every syntax error as a problem with its line and column. Pure. */
export function parseYaml(text: string, file: string): { raw: unknown; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { prettyErrors: false, lineCounter, merge: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0])
      return { file, path: '', message: `YAML syntax error at line ${line}, column ${col}: ${e.message}` }
    })
    return { raw: undefined, problems }
  }
  try {
    return { raw: doc.toJS({ maxAliasCount: 1_000 }), problems: [] }
  } catch (err) {
    // Alias expansion limits ("billion laughs") are reported here, not in doc.errors.
    const message = err instanceof Error ? err.message : String(err)
    return { raw: undefined, problems: [{ file, path: '', message: `YAML error: ${message}` }] }
  }
}

/**
 * Read every `<key>_file` reference. Relative paths are relative to the config file's directory.
 * Failures become Error values for validate() to report at the key that named the file.
 */
async function readReferencedFiles(
  refs: readonly string[],
  configFile: string,
  readFile: (path: string) => Promise<string>,
): Promise<Map<string, string | Error>> {
  const out = new Map<string, string | Error>()
  await Promise.all(
    refs.map(async (ref) => {
      const full = isAbsolute(ref) ? ref : resolve(dirname(configFile), ref)
      try {
        out.set(ref, await readFile(full))
      } catch (err) {
        out.set(ref, new Error(`cannot read ${full}: ${describeIoError(err)}`))
      }
    }),
  )
  return out
}

function noDirectories(): Promise<string[]> {
  return Promise.reject(new Error('no directory reader given to loadConfig'))
}

/** List every `directory` reference (relative to the config file's directory, like files). */
async function listDirectories(
  refs: readonly string[],
  configFile: string,
  readDir: (path: string) => Promise<string[]>,
): Promise<Map<string, readonly string[] | Error>> {
  const out = new Map<string, readonly string[] | Error>()
  await Promise.all(
    refs.map(async (ref) => {
      const full = isAbsolute(ref) ? ref : resolve(dirname(configFile), ref)
      try {
        out.set(ref, await readDir(full))
      } catch (err) {
        out.set(ref, new Error(`cannot list ${full}: ${describeIoError(err)}`))
      }
    }),
  )
  return out
}

function describeIoError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return typeof code === 'string' ? code : err.message
  }
  return String(err)
}
