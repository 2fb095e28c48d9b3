/**
 * `lb reload`, `lb restart-workers`, `lb server <svc>/<srv> ready|drain|maint` and `lb weight <svc>/<srv> <w|N%>`:
 * talk to the running daemon. Runtime controls need the admin API (POST /api/servers/<svc>/<srv>/state|weight). The admin API (POST with the admin token)
 * reports the outcome; without a token, `lb reload` falls back to SIGHUP to the pid in `pid_file` (the outcome
 * is then only in the daemon's log). The exit code says whether it worked.
 */
import { request } from 'node:http'
import { loadConfig } from './config/load.js'
import type { Config } from './config/schema.js'
import { ConfigError } from './errors.js'

export interface ControlResult {
  readonly code: number
  readonly output: string
}

export interface ControlDeps {
  readonly env: NodeJS.ProcessEnv
  readonly readFile: (path: string) => Promise<string>
  readonly kill: (pid: number, signal: NodeJS.Signals) => void
}

function post(config: Config, path: string): Promise<{ status: number; body: string }> {
  const host = config.admin.host === '' || config.admin.host === '0.0.0.0' ? '127.0.0.1' : config.admin.host
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: host === '::' ? '::1' : host,
        port: config.admin.port,
        path,
        method: 'POST',
        headers: { authorization: `Bearer ${config.admin.token}` },
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
    return await loadConfig({ path: configPath, env: deps.env, readFile: deps.readFile })
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
