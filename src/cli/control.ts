/**
 * `lb explain <url>`: which route and server a URL would hit, asked of the running daemon's `/api/explain`
 * (admin address from the config; GET needs no token) or, with `--offline`, computed from the config file alone
 * (static routes only, servers as configured: no Consul routes, health or runtime state).
 *
 * `lb reload`, `lb restart-workers`, `lb server <svc>/<srv> ready|drain|maint` and `lb weight <svc>/<srv> <w|N%>`:
 * talk to the running daemon. Runtime controls need the admin API (POST /api/servers/<svc>/<srv>/state|weight).
 * The admin API (POST with the admin token)
 * reports the outcome; without a token, `lb reload` falls back to SIGHUP to the pid in `pid_file` (the outcome
 * is then only in the daemon's log). The exit code says whether it worked.
 */
import { Pool } from '../balance/pool.js'
import { Backend, backendInit } from '../balance/backend.js'
import { defaultConfigPath, loadConfig, UsageError } from '../config/load.js'
import type { Config } from '../config/types.js'
import { ConfigError } from '../model/errors.js'
import { explainPick, explainRoute, formatExplain, type PickExplain } from '../admin/explain.js'
import { configToSnapshot } from '../provider/file.js'
import { buildTable } from '../route/table.js'
import { nodeHttp } from '../net/node-http.js'

export interface ControlResult {
  readonly code: number
  readonly output: string
}

export interface ControlDeps {
  readonly env: NodeJS.ProcessEnv
  readonly readFile: (path: string) => Promise<string>
  /** The names in a directory (`listeners[].tls.directory`). */
  readonly readDir?: (path: string) => Promise<string[]>
  readonly kill: (pid: number, signal: NodeJS.Signals) => void
}

function post(config: Config, path: string): Promise<{ status: number; body: string }> {
  return call(config, 'POST', path)
}

function call(
  config: Config,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; body: string }> {
  const host = config.admin.host === '' || config.admin.host === '0.0.0.0' ? '127.0.0.1' : config.admin.host
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(
      {
        host: host === '::' ? '::1' : host,
        port: config.admin.port,
        path,
        method,
        headers: method === 'POST' ? { authorization: `Bearer ${config.admin.token}` } : {},
        // A rolling restart waits for every worker to drain.
        timeout: 10 * 60_000,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end()
  })
}

async function signalPidFile(config: Config, deps: ControlDeps): Promise<ControlResult> {
  let pid: number
  try {
    pid = Number((await deps.readFile(config.pidFile)).trim())
  } catch (err) {
    return { code: 1, output: `lb: cannot read pid_file ${config.pidFile}: ${String(err)}` }
  }
  if (!Number.isInteger(pid) || pid <= 0) return { code: 1, output: `lb: ${config.pidFile} holds no pid` }
  try {
    deps.kill(pid, 'SIGHUP')
  } catch (err) {
    return { code: 1, output: `lb: cannot signal pid ${pid}: ${String(err)}` }
  }
  return {
    code: 0,
    output: `lb: sent SIGHUP to ${pid} (set admin.token to get the outcome; see the daemon's log)`,
  }
}

async function readConfig(configPath: string, deps: ControlDeps): Promise<Config | ControlResult> {
  try {
    return await loadConfig({ path: configPath, env: deps.env, readFile: deps.readFile, ...dirReader(deps) })
  } catch (err) {
    if (err instanceof ConfigError) return { code: 1, output: err.message }
    throw err
  }
}

/** A runtime control: `lb server <svc>/<srv> <state>` or `lb weight <svc>/<srv> <weight>`. */
export interface RuntimeCommand {
  readonly verb: 'server' | 'weight'
  /** `service/server`. */
  readonly target: string
  /** ready|drain|maint, or 0..256 / N%. */
  readonly value: string
}

/** `lb server|weight …` arguments (after the verb): target, value, then the usual `--config FILE`. */
export function parseRuntimeArgs(
  verb: RuntimeCommand['verb'],
  argv: readonly string[],
): { command: RuntimeCommand; rest: string[] } | string {
  const [target, value, ...rest] = argv
  const what = verb === 'server' ? 'ready|drain|maint' : '<weight|N%>'
  if (target === undefined || value === undefined || target.startsWith('-') || value.startsWith('-'))
    return `usage: lb ${verb} <service>/<server> ${what} [--config FILE]`
  const slash = target.lastIndexOf('/')
  if (slash <= 0 || slash === target.length - 1) return `lb ${verb}: "${target}" is not <service>/<server>`
  return { command: { verb, target, value }, rest }
}

export async function runRuntimeControl(
  c: RuntimeCommand,
  configPath: string,
  deps: ControlDeps,
): Promise<ControlResult> {
  const config = await readConfig(configPath, deps)
  if (!('admin' in config)) return config
  if (config.admin.port <= 0 || config.admin.token === '')
    return { code: 2, output: `lb: ${c.verb} needs admin.address with admin.token in ${configPath}` }
  const slash = c.target.lastIndexOf('/')
  const service = encodeURIComponent(c.target.slice(0, slash))
  const server = encodeURIComponent(c.target.slice(slash + 1))
  const action = c.verb === 'server' ? 'state' : 'weight'
  const path = `/api/servers/${service}/${server}/${action}?${action}=${encodeURIComponent(c.value)}`
  let r: { status: number; body: string }
  try {
    r = await post(config, path)
  } catch (err) {
    return { code: 1, output: `lb: cannot reach the admin API: ${String(err)}` }
  }
  if (r.status === 200) return { code: 0, output: `lb: ${c.verb} ${c.target} ${c.value}: ok` }
  return {
    code: 1,
    output: `lb: ${c.verb} ${c.target} ${c.value} failed (HTTP ${r.status}): ${r.body.trim()}`,
  }
}

export async function runControl(
  command: 'reload' | 'restart-workers',
  configPath: string,
  deps: ControlDeps,
): Promise<ControlResult> {
  const config = await readConfig(configPath, deps)
  if (!('admin' in config)) return config
  const viaAdmin = config.admin.port > 0 && config.admin.token !== ''
  if (!viaAdmin) {
    if (command === 'reload' && config.pidFile !== '') return signalPidFile(config, deps)
    return {
      code: 2,
      output: `lb: ${command} needs admin.address with admin.token${command === 'reload' ? ' (or pid_file)' : ''} in ${configPath}`,
    }
  }
  let r: { status: number; body: string }
  try {
    r = await post(config, command === 'reload' ? '/api/reload' : '/api/restart-workers')
  } catch (err) {
    return { code: 1, output: `lb: cannot reach the admin API: ${String(err)}` }
  }
  if (r.status === 200) return { code: 0, output: `lb: ${command}: ok` }
  let detail = r.body.trim()
  try {
    const parsed = JSON.parse(r.body) as { problems?: unknown }
    if (Array.isArray(parsed.problems)) detail = parsed.problems.map(String).join('\n')
  } catch {
    // not JSON: show the text
  }
  return { code: 1, output: `lb: ${command} failed (HTTP ${r.status}):\n${detail}` }
}

export interface ExplainArgs {
  readonly url: string
  readonly configPath: string
  readonly offline: boolean
  /** Client address for the route's allow/deny lists ('' = not checked). */
  readonly client: string
  readonly json: boolean
}

export const explainUsage = `usage: lb explain URL [--config FILE] [--offline] [--client IP] [--json]
  URL is http://host[:port]/path, host/path, or /path (no Host header)
  --offline    compute from the config file instead of asking the running lb's admin API
  --client IP  check the route's allow/deny lists for this client address
  --json       print the JSON answer`

/** `argv` after `explain`. */
export function parseExplainArgs(argv: readonly string[]): ExplainArgs {
  let url: string | undefined
  let configPath: string | undefined
  let offline = false
  let client = ''
  let json = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '-c' || arg === '--config' || arg.startsWith('--config=')) {
      const value = arg.startsWith('--config=') ? arg.slice('--config='.length) : argv[++i]
      if (value === undefined || value === '')
        throw new UsageError(`option ${arg.split('=')[0]} needs a file name`)
      configPath = value
    } else if (arg === '--client' || arg.startsWith('--client=')) {
      const value = arg.startsWith('--client=') ? arg.slice('--client='.length) : argv[++i]
      if (value === undefined || value === '') throw new UsageError('option --client needs an IP address')
      client = value
    } else if (arg === '--offline') {
      offline = true
    } else if (arg === '--json') {
      json = true
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${arg}`)
    } else if (url === undefined) {
      url = arg
    } else {
      throw new UsageError(`unexpected argument "${arg}"`)
    }
  }
  if (url === undefined) throw new UsageError('lb explain needs a URL')
  return { url, configPath: configPath ?? defaultConfigPath, offline, client, json }
}

/** `http://Host:8080/a?b` → host `Host:8080`, path `/a?b`; `host/a` → the same without a scheme; `/a` → no host. */
export function splitTarget(target: string): { host: string; path: string } {
  if (target.startsWith('/')) return { host: '', path: target }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `http://${target}`
  let u: URL
  try {
    u = new URL(withScheme)
  } catch {
    throw new UsageError(`not a URL: ${target}`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`not an http(s) URL: ${target}`)
  return { host: u.host, path: u.pathname + u.search }
}

export async function runExplain(args: ExplainArgs, deps: ControlDeps): Promise<ControlResult> {
  let target: { host: string; path: string }
  try {
    target = splitTarget(args.url)
  } catch (err) {
    if (err instanceof UsageError) return { code: 2, output: `lb: ${err.message}` }
    throw err
  }
  let config: Config
  try {
    config = await loadConfig({
      path: args.configPath,
      env: deps.env,
      readFile: deps.readFile,
      ...dirReader(deps),
    })
  } catch (err) {
    if (err instanceof ConfigError) return { code: 1, output: err.message }
    throw err
  }
  if (args.offline) return explainOffline(config, target, args)
  if (config.admin.port === 0) {
    return {
      code: 1,
      output: `lb: the admin API is off in ${args.configPath} (admin.address); use --offline`,
    }
  }
  const query = new URLSearchParams({ host: target.host, path: target.path })
  if (args.client !== '') query.set('client', args.client)
  if (!args.json) query.set('format', 'text')
  let r: { status: number; body: string }
  try {
    r = await call(config, 'GET', `/api/explain?${query.toString()}`)
  } catch (err) {
    return {
      code: 1,
      output: `lb: cannot reach the admin API: ${String(err)} (use --offline to compute from the file)`,
    }
  }
  if (r.status !== 200) return { code: 1, output: `lb: explain failed (HTTP ${r.status}): ${r.body.trim()}` }
  const body = r.body.trimEnd()
  const matched = args.json ? (JSON.parse(body) as { route: unknown }).route !== null : !/: 404$/.test(body)
  return { code: matched ? 0 : 1, output: body }
}

function explainOffline(
  config: Config,
  target: { host: string; path: string },
  args: ExplainArgs,
): ControlResult {
  const snapshot = configToSnapshot(config)
  const table = buildTable(snapshot.routes, { pathMatch: config.http.pathMatch })
  const route = explainRoute(table, target.host, target.path, args.client)
  let pick: PickExplain | null = null
  const spec =
    route.route === null ? undefined : snapshot.services.find((s) => s.name === route.route?.service)
  if (spec !== undefined) {
    const pool = new Pool(
      spec.name,
      spec.balance,
      spec.servers.map((s) => new Backend(backendInit(spec.name, s))),
    )
    pick = explainPick(pool, Math.random)
  }
  const note = '(offline: routes and servers from the config file; no Consul routes, health or runtime state)'
  const output = args.json
    ? JSON.stringify({ ...route, servers: pick, offline: true }, null, 2)
    : `${note}\n${formatExplain(route, pick).trimEnd()}`
  return { code: route.route === null ? 1 : 0, output }
}

function dirReader(deps: ControlDeps): { readDir?: (path: string) => Promise<string[]> } {
  return deps.readDir === undefined ? {} : { readDir: deps.readDir }
}
