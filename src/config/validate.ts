/**
 * validate(): raw YAML data -> Config, or every problem with its dotted path. One validator per section
 * (sections/*.ts) reads its part; this file opens the top level and checks what spans sections (auth scheme
 * names, the Consul registration address). Pure: the environment and the contents of `<key>_file` files come in
 * as arguments (load.ts reads them; fileReferences() says which).
 */
import type { ConfigProblem } from '../model/errors.js'
import type { MutableConfig, Config, DirContents, Env, FileContents } from './types.js'
import { defaultConfig } from './defaults.js'
import {
  expandVars,
  fileSuffix,
  Checker,
  isMapping,
  section,
  readString,
  readBool,
  didYouMean,
} from './reader.js'
import { readListeners, checkServiceRefs } from './sections/listeners.js'
import { readDefaults, readServices } from './sections/services.js'
import { readRoutes, readRouteCommands } from './sections/routes.js'
import { readHttp } from './sections/http.js'
import { readLog } from './sections/log.js'
import { readAdmin } from './sections/admin.js'
import { readWorkers, readShutdown } from './sections/process.js'
import { readResolver } from './sections/resolver.js'
import { readConsul } from './sections/consul.js'

export interface ValidateResult {
  config: Config | undefined
  problems: ConfigProblem[]
}

export function validate(
  raw: unknown,
  file: string,
  env: Env = {},
  files: FileContents = new Map(),
  dirs: DirContents = new Map(),
): ValidateResult {
  const c = new Checker(file, env, files, dirs)
  const top = section(c, { path: '', value: raw ?? {}, fromFile: false }, topKeys)
  const listeners = readListeners(c, top?.get('listeners'))
  const defaults = readDefaults(c, top?.get('defaults'))
  const services = readServices(c, top?.get('services'), defaults)
  checkServiceRefs(c, services)
  const routes = readRoutes(c, top?.get('routes'), services)
  const http = readHttp(c, top?.get('http'))
  for (const ref of c.authRefs) {
    if (!http.auth.some((a) => a.name === ref.name))
      c.add(
        ref.path,
        `unknown auth scheme "${ref.name}"${didYouMean(
          ref.name,
          http.auth.map((a) => a.name),
        )}`,
      )
  }
  const log = readLog(c, top?.get('log'))
  const metrics = { enabled: readBool(c, section(c, top?.get('metrics'), metricsKeys)?.get('enabled'), true) }
  const admin = readAdmin(c, top?.get('admin'), listeners)
  const resolver = readResolver(c, top?.get('resolver'))
  const consul = readConsul(c, top?.get('consul'))
  if (consul.register.enabled && consul.register.address === '' && admin.port === 0)
    c.add(
      'consul.register.address',
      'required when the admin server is off (it is what lb registers and Consul checks)',
    )
  listeners.forEach((l, i) => {
    if (l.tls !== undefined && l.tls.consulKv !== '' && !consul.enabled)
      c.add(
        `listeners[${i}].tls.consul_kv`,
        'needs the consul section: the certificates are read from that Consul',
      )
  })
  const routeCommands = readRouteCommands(c, top?.get('route_commands'), services, defaults)
  const workers = readWorkers(c, top?.get('workers'))
  const shutdown = readShutdown(c, top?.get('shutdown'))
  const pidFile = readString(c, top?.get('pid_file'), defaultConfig.pidFile)
  const tcpDynamic = readBool(c, top?.get('tcp_dynamic'), defaultConfig.tcpDynamic)
  if (c.problems.length > 0) return { config: undefined, problems: c.problems }
  const config: MutableConfig = {
    file,
    listeners,
    defaults,
    services,
    routes,
    http,
    log,
    metrics,
    admin,
    resolver,
    consul,
    routeCommands,
    workers,
    shutdown,
    pidFile,
    tcpDynamic,
  }
  return { config, problems: [] }
}

/** The `<key>_file` references in a raw tree, after `${VAR}` expansion: the files load.ts must read. */
export function fileReferences(raw: unknown, env: Env): string[] {
  const out = new Set<string>()
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item)
    } else if (isMapping(v)) {
      for (const [k, item] of Object.entries(v)) {
        if (k.endsWith(fileSuffix) && typeof item === 'string') {
          const r = expandVars(item, env)
          if (r.errors.length === 0) out.add(r.value)
        } else {
          walk(item)
        }
      }
    }
  }
  walk(raw)
  return [...out]
}

/** The `listeners[].tls.directory` values (after `${VAR}`): load.ts lists them before validate() runs. */
export function directoryReferences(raw: unknown, env: Env): string[] {
  const out = new Set<string>()
  const listeners = isMapping(raw) ? raw['listeners'] : undefined
  if (!Array.isArray(listeners)) return []
  for (const l of listeners as unknown[]) {
    const tls = isMapping(l) ? l['tls'] : undefined
    const dir = isMapping(tls) ? tls['directory'] : undefined
    if (typeof dir !== 'string' || dir === '') continue
    const r = expandVars(dir, env)
    if (r.errors.length === 0) out.add(r.value)
  }
  return [...out]
}

/** The top-level keys, in the order the sections are documented (each section file lists its own keys). */
export const topKeys = [
  'listeners',
  'defaults',
  'services',
  'routes',
  'http',
  'log',
  'metrics',
  'admin',
  'resolver',
  'consul',
  'route_commands',
  'workers',
  'shutdown',
  'pid_file',
  'tcp_dynamic',
] as const

export const metricsKeys = ['enabled'] as const
