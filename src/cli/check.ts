/**
 * `lb check --config FILE`: load the config exactly as the daemon would and report every problem,
 * one per line as `FILE: dotted.path: reason` and, for more than one, a last line counting them (`FILE: invalid: 3 problems
 * (services 2, routes 1)`), or a one-line summary when the file is valid.
 */
import { formatHostPort } from '../net/address.js'
import { loadConfig } from '../config/load.js'
import { certificateWarnings } from '../config/sections/tls.js'
import type { Config, Env } from '../config/types.js'
import { ConfigError, formatProblem, type ConfigProblem } from '../model/errors.js'

export interface CheckResult {
  readonly ok: boolean
  /** Lines separated by '\n', without a trailing newline. */
  readonly output: string
}

export async function runCheck(
  path: string,
  env: Env,
  readFile: (path: string) => Promise<string>,
  readDir?: (path: string) => Promise<string[]>,
  now: number = Date.now(),
): Promise<CheckResult> {
  let config: Config
  try {
    config = await loadConfig({ path, env, readFile, ...(readDir === undefined ? {} : { readDir }) })
  } catch (err) {
    if (err instanceof ConfigError) {
      const lines = err.problems.map(formatProblem)
      if (lines.length > 1) lines.push(`${path}: invalid: ${problemSummary(err.problems)}`)
      return { ok: false, output: lines.join('\n') }
    }
    return { ok: false, output: `${path}: ${err instanceof Error ? err.message : String(err)}` }
  }
  // Not errors: an expired certificate is still served (clients decide), and a reload may be what renews it.
  const warnings = certificateWarnings(config, now).map((w) => `${path}: warning: ${w}\n`)
  return { ok: true, output: `${warnings.join('')}${path}: ok: ${summarize(config)}` }
}

/** `listeners web (:9999); 1 service, 2 servers, 3 routes; admin 127.0.0.1:9998` */
export function summarize(config: Config): string {
  const listeners = config.listeners.map((l) => `${l.name} (${formatHostPort(l.host, l.port)})`).join(', ')
  let servers = 0
  for (const s of config.services) servers += s.servers.length
  const admin = config.admin.port === 0 ? 'off' : formatHostPort(config.admin.host, config.admin.port)
  return (
    `listener${config.listeners.length === 1 ? '' : 's'} ${listeners}; ` +
    `${plural(config.services.length, 'service')}, ${plural(servers, 'server')}, ` +
    `${plural(config.routes.length, 'route')}; admin ${admin}`
  )
}

/**
 * The last line of a failed check, so the verdict of a long list is on the screen: `3 problems (services 2,
 * routes 1)`, by top-level key in the order they first appear (`file` for problems of the file itself).
 */
export function problemSummary(problems: readonly ConfigProblem[]): string {
  const bySection = new Map<string, number>()
  for (const p of problems) {
    const section = p.path === '' ? 'file' : (/^[^.[]+/.exec(p.path)?.[0] ?? p.path)
    bySection.set(section, (bySection.get(section) ?? 0) + 1)
  }
  const parts = [...bySection].map(([s, n]) => `${s} ${n}`)
  return `${plural(problems.length, 'problem')} (${parts.join(', ')})`
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
