/** `routes:` and `route_commands:`: static HTTP routes, redirects, and fabio route commands (checked line by line). */
import type { Redirect, ServiceDefaults } from '../../model/snapshot.js'
import type { Parsed } from '../../net/address.js'
import { normalizeRouteHost } from '../../route/host.js'
import { globProblem } from '../../route/glob.js'
import { applyCommands, parseCommands, type Ir } from '../../fabio/routecmd.js'
import { toSnapshot } from '../../fabio/snapshot.js'
import type { ServiceConfig, RouteConfig } from '../types.js'
import { pathMatches, redirectCodes } from '../defaults.js'
import {
  type Checker,
  nameRe,
  urlPathBadRe,
  ok,
  fail,
  checkUrlPath,
  checkHostHeader,
  readCidrList,
  type Slot,
  section,
  required,
  readList,
  readString,
  readChecked,
  readInt,
  readEnum,
  readBool,
  didYouMean,
} from '../reader.js'

export const routeKeys = [
  'host',
  'path',
  'service',
  'strip',
  'prepend',
  'host_header',
  'redirect',
  'allow',
  'deny',
  'path_match',
  'auth',
  'hsts',
] as const

export const hstsKeys = ['max_age', 'include_subdomains', 'preload'] as const

export const redirectKeys = ['code', 'url'] as const

export function readRoutes(
  c: Checker,
  slot: Slot | undefined,
  services: readonly ServiceConfig[],
): RouteConfig[] {
  const serviceNames = new Set(services.map((s) => s.name))
  const out: RouteConfig[] = []
  const seen = new Map<string, string>()
  for (const item of readList(c, slot) ?? []) {
    const f = section(c, item, routeKeys)
    if (f === undefined) continue
    const host = readChecked(c, f.get('host'), '', normalizeRouteHost)
    const path = readChecked(c, f.get('path'), '/', checkUrlPath)
    const serviceSlot = f.get('service')
    const service = readString(c, serviceSlot, '')
    const strip = readChecked(c, f.get('strip'), '', checkUrlPath)
    const prepend = readChecked(c, f.get('prepend'), '', checkUrlPath)
    const hostHeader = readChecked(c, f.get('host_header'), '', checkHostHeader)
    const allow = readCidrList(c, f.get('allow'))
    const deny = readCidrList(c, f.get('deny'))
    const pathMatchSlot = f.get('path_match')
    const pathMatch =
      pathMatchSlot === undefined || pathMatchSlot.value === null
        ? undefined
        : readEnum(c, pathMatchSlot, 'prefix', pathMatches)
    const auth = readChecked(c, f.get('auth'), '', (s) =>
      s === '' || nameRe.test(s) ? ok(s) : fail(`must name an http.auth scheme, got "${s}"`),
    )
    if (auth !== undefined && auth !== '')
      c.authRefs.push({ path: f.get('auth')?.path ?? item.path, name: auth })
    if (pathMatch === 'glob' && path !== undefined) {
      const why = globProblem(path)
      if (why !== '') c.add(f.get('path')?.path ?? item.path, why)
    }
    const hsts = readHsts(c, f.get('hsts'))
    const redirectSlot = f.get('redirect')
    const redirect = readRedirect(c, redirectSlot)
    if (redirectSlot !== undefined && redirectSlot.value !== null) {
      if (serviceSlot !== undefined && service !== '') {
        c.add(redirectSlot.path, 'set either service or redirect, not both')
      }
      for (const k of ['strip', 'prepend', 'host_header'] as const) {
        const s = f.get(k)
        if (s !== undefined && s.value !== null) c.add(s.path, 'does not apply to a redirect route')
      }
    } else if (service === '') {
      c.add(serviceSlot?.path ?? `${item.path}.service`, 'required (or set redirect)')
    } else if (serviceSlot !== undefined && !serviceNames.has(service)) {
      c.add(serviceSlot.path, `unknown service "${service}"${didYouMean(service, [...serviceNames])}`)
    }
    if (host !== undefined && path !== undefined) {
      const key = `${host} ${path}`
      const first = seen.get(key)
      if (first !== undefined) {
        c.add(item.path, `duplicate route for host "${host}" path "${path}" (first at ${first})`)
      } else {
        seen.set(key, item.path)
      }
      out.push({
        host,
        path,
        service,
        strip: strip ?? '',
        prepend: prepend ?? '',
        hostHeader: hostHeader ?? '',
        redirect,
        ...(allow === undefined || allow.length === 0 ? {} : { allow }),
        ...(deny === undefined || deny.length === 0 ? {} : { deny }),
        ...(pathMatch === undefined ? {} : { pathMatch }),
        ...(auth === undefined || auth === '' ? {} : { auth }),
        ...(hsts === '' ? {} : { hsts }),
      })
    }
  }
  return out
}

/**
 * `hsts`: the Strict-Transport-Security value (`max-age=N[; includeSubDomains][; preload]`), '' when absent.
 * `preload` needs what the preload list asks for: a max-age of a year or more and includeSubDomains.
 */
/** A year in seconds: the default `max_age`, and the least `preload` accepts. */
const YEAR = 31_536_000

/**
 * `hsts`: the Strict-Transport-Security value (`max-age=N[; includeSubDomains][; preload]`), '' when absent.
 * `max_age` is in seconds, as in the header (and fabio's `proxy.header.sts.maxage`). `preload` needs what the
 * preload list asks for: a max-age of a year or more and includeSubDomains.
 */
function readHsts(c: Checker, slot: Slot | undefined): string {
  const f = section(c, slot, hstsKeys)
  if (f === undefined || slot === undefined) return ''
  const maxAge = readInt(c, f.get('max_age'), YEAR, 0, 2_147_483_647)
  const sub = readBool(c, f.get('include_subdomains'), false)
  const preloadSlot = f.get('preload')
  const preload = readBool(c, preloadSlot, false)
  if (preload && (!sub || maxAge < YEAR))
    c.add(
      preloadSlot?.path ?? slot.path,
      'preload needs include_subdomains: true and a max_age of at least 31536000',
    )
  return `max-age=${maxAge}${sub ? '; includeSubDomains' : ''}${preload ? '; preload' : ''}`
}

function readRedirect(c: Checker, slot: Slot | undefined): Redirect | null {
  const f = section(c, slot, redirectKeys)
  if (f === undefined || slot === undefined) return null
  const codeSlot = f.get('code')
  const code = readInt(c, codeSlot, 302, 300, 399)
  if (codeSlot !== undefined && !(redirectCodes as readonly number[]).includes(code)) {
    c.add(codeSlot.path, `must be one of ${redirectCodes.join(', ')}, got ${code}`)
  }
  const url = readChecked(c, required(c, f, slot, 'url'), '', checkRedirectUrl)
  return { code, url: url ?? '' }
}

/** A multi-line string or a list of lines, checked with the route command parser (every bad line reported). */
export function readRouteCommands(
  c: Checker,
  slot: Slot | undefined,
  services: readonly ServiceConfig[],
  defaults: ServiceDefaults,
): string {
  if (slot === undefined || slot.value === null) return ''
  let lines: string[]
  if (typeof slot.value === 'string') {
    lines = readString(c, slot, '').split('\n')
  } else {
    lines = []
    for (const item of readList(c, slot) ?? []) lines.push(readString(c, item, ''))
  }
  const text = lines.join('\n')
  const parsed = parseCommands(text)
  const problems = [...parsed.problems, ...applyCommands(new Map(), parsed.commands, text)]
  for (const p of problems) {
    const path = typeof slot.value === 'string' ? slot.path : `${slot.path}[${p.line - 1}]`
    c.add(path, typeof slot.value === 'string' ? `line ${p.line}: ${p.reason}` : p.reason)
  }
  const ir: Ir = new Map()
  applyCommands(ir, parsed.commands, text)
  const names = new Set(services.map((s) => s.name))
  for (const s of toSnapshot(ir, { defaults, source: '' }).services) {
    if (names.has(s.name))
      c.add(slot.path, `service "${s.name}" is also defined in services:; use another name`)
  }
  return text
}

function checkRedirectUrl(s: string): Parsed<string> {
  if (s === '') return fail('must not be empty')
  const probe = s.replaceAll('$path', '/').replaceAll('$host', 'example.com')
  if (probe.startsWith('/') && !probe.startsWith('//')) {
    return urlPathBadRe.test(probe.replace(/[?#].*$/, '')) ? fail(`"${s}" is not a valid path`) : ok(s)
  }
  let url: URL
  try {
    url = new URL(probe)
  } catch {
    return fail(`"${s}" is neither an absolute http(s) URL nor a path starting with "/"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return fail(`scheme must be http or https, got "${s}"`)
  return ok(s)
}
