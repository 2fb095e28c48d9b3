/**
 * fabio's `urlprefix-` tag grammar (docs/fabio.md), pure. One tag → one route, or a reason why not.
 *
 *     tag  := <prefix> <src> [ " " <opts> ]        trimmed first; split at the first space
 *     src  := ":" port                              TCP route on listener port (needs proto=tcp)
 *           | host "/" path | "/" path              HTTP route (host lower-cased; ${DC} expanded)
 *           | host                                  = host + "/"
 *     opts := key=value { whitespace key=value }
 *
 * Options: strip, prepend, proto=http|https|tcp, tlsskipverify=true|false, host=<name>|dst, weight=<0..1>,
 * redirect=<code>,<url> ($path/$host), allow=/deny= ip:CIDR[,ip:CIDR…] (bare IPs become /32 or /128),
 * register= (ignored, with a warning: lb does not register itself in Consul).
 *
 * Differences from fabio, on purpose:
 * - a bad tag (or bad option) drops **that route only**, with a reason; fabio rejects the whole table;
 * - `auth=`, `proto=grpc|grpcs`, `grpcservername=` and tcp-dynamic `ip:port` sources are not supported and
 *   drop the route (silently ignoring `auth=` would expose the route without its authentication);
 * - unknown options are ignored with a warning (fabio passes them through, where they do nothing);
 * - `allow=` and `deny=` together are an error, as fabio documents (fabio silently prefers allow);
 * - `$VAR` expansion: only `DC`/`${DC}`; any other variable expands to '' as in fabio, with a warning.
 */
import { parseCidr } from '../net/cidr.js'
import { normalizeRouteHost } from '../route/host.js'
import { isHostname } from '../net/address.js'
import type { Redirect } from '../model/snapshot.js'

export type Proto = 'http' | 'https' | 'tcp'

/** Route options shared by tags and the route command language (`opts "..."`). */
export interface RouteOpts {
  readonly proto: Proto
  readonly strip: string
  readonly prepend: string
  readonly tlsSkipVerify: boolean
  /** Upstream Host header: '' keep, 'dst' target host:port, else literal. */
  readonly hostHeader: string
  readonly redirect: Redirect | null
  readonly allow: readonly string[]
  readonly deny: readonly string[]
  /** fabio `register=<name>`: lb registers itself in Consul under this name too (see provider/consul/register.ts). */
  readonly register?: string
  /** fabio `auth=<scheme>`: the `http.auth` scheme a client must pass. */
  readonly auth?: string
  /** fabio `pxyproto=true`: send a PROXY protocol v1 header on the TCP connection to the server. */
  readonly pxyproto?: boolean
}

export const defaultOpts: RouteOpts = {
  proto: 'http',
  strip: '',
  prepend: '',
  tlsSkipVerify: false,
  hostHeader: '',
  redirect: null,
  allow: [],
  deny: [],
}

/** A route source: HTTP host + path, or a TCP listener port. */
export type Src =
  | { readonly kind: 'http'; readonly host: string; readonly path: string }
  | { readonly kind: 'tcp'; readonly port: number }

export interface TagRoute {
  readonly src: Src
  /** The option text after the source, as written ('' = none). */
  readonly optText: string
  /** Fixed share 0 < w ≤ 1 for this instance, or 0 = dynamic. */
  readonly weight: number
  readonly opts: RouteOpts
  readonly warnings: readonly string[]
}

export type TagResult =
  { readonly ok: true; readonly route: TagRoute } | { readonly ok: false; readonly reason: string }

export const redirectCodes: readonly number[] = [301, 302, 303, 307, 308]

/** Shared by every tag without warnings (most of them), so a parse allocates no empty list. */
const noWarnings: readonly string[] = Object.freeze([])

/** Index of the first whitespace char of `s`, or -1 (`s.search(/\s/)` without the regex for the usual tag). */
function firstSpace(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // ASCII whitespace, or any non-ASCII char, which the regex then decides (NBSP, U+2028, …).
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return i
    if (c > 0x7f) return s.search(/\s/)
  }
  return -1
}

/**
 * The source of a routing tag `<prefix><host>/<path>` written in canonical form, without the tag parser: no
 * whitespace (so no options), a host of lower-case letters, digits, '-' and '.' that is a valid hostname (or
 * none), and a path of unreserved chars and '/' (nothing to expand, decode or reject): the full grammar
 * (`parseTagText`) gives the same source, with the default options and no warnings. null for anything else.
 */
export function simpleSrc(tag: string, from: number): HttpSrc | null {
  const slash = tag.indexOf('/', from)
  if (slash < 0) return null
  for (let i = from; i < slash; i++) {
    const c = tag.charCodeAt(i)
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e)) return null
  }
  for (let i = slash; i < tag.length; i++) if (PATH_CHAR[tag.charCodeAt(i)] !== 1) return null
  const host = tag.slice(from, slash)
  if (host !== '' && !isHostname(host)) return null
  return { kind: 'http', host, path: tag.slice(slash) }
}

/** Path chars simpleSrc accepts: RFC 3986 unreserved and '/'. */
const PATH_CHAR = new Uint8Array(128)
for (const ch of '-._~/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')
  PATH_CHAR[ch.charCodeAt(0)] = 1

type HttpSrc = Extract<Src, { kind: 'http' }>

/**
 * `null` when the tag does not start with `prefix` (a plain tag). A tag in canonical form (`simpleSrc`, most
 * of a Consul catalog) skips the full grammar.
 */
export function parseTag(tag: string, prefix: string, dc: string): TagResult | null {
  const src = tag.startsWith(prefix) ? simpleSrc(tag, prefix.length) : null
  if (src !== null)
    return { ok: true, route: { src, optText: '', weight: 0, opts: defaultOpts, warnings: noWarnings } }
  return parseTagText(tag, prefix, dc)
}

/** parseTag by the full grammar (see the module comment). */
export function parseTagText(tag: string, prefix: string, dc: string): TagResult | null {
  const t = tag.trim()
  if (!t.startsWith(prefix)) return null
  // fabio trims again after the prefix: `urlprefix- /foo` is the route `/foo`.
  const rest = t.slice(prefix.length).trim()
  const sp = firstSpace(rest)
  const srcText = sp < 0 ? rest : rest.slice(0, sp)
  const optText = sp < 0 ? '' : rest.slice(sp + 1).trim()
  const warnings: string[] = []
  const src = parseSrc(srcText, dc, warnings)
  if (!src.ok) return src
  // A tag without options (the usual one) shares the default options object.
  const parsed =
    optText === ''
      ? noOpts
      : parseOpts(
          optText.split(/\s+/).filter((s) => s !== ''),
          warnings,
        )
  if (!parsed.ok) return parsed
  const check = checkSrcProto(src.src, parsed.opts)
  if (check !== '') return { ok: false, reason: check }
  return {
    ok: true,
    route: {
      src: src.src,
      optText,
      weight: parsed.weight,
      opts: parsed.opts,
      warnings: warnings.length === 0 ? noWarnings : warnings,
    },
  }
}

/** `:port`, `host/path`, `/path` or `host`; ${DC} expanded in the host/path form. */
export function parseSrc(
  text: string,
  dc: string,
  warnings: string[],
): { ok: true; src: Src } | { ok: false; reason: string } {
  if (text === '') return { ok: false, reason: 'empty route source' }
  if (text.startsWith(':')) {
    const port = /^:(\d{1,5})$/.exec(text)
    const n = Number(port?.[1] ?? NaN)
    if (port === null || n < 1 || n > 65535) return { ok: false, reason: `"${text}" is not a valid :port` }
    return { ok: true, src: { kind: 'tcp', port: n } }
  }
  const slash = text.indexOf('/')
  let host = slash < 0 ? text : text.slice(0, slash)
  let path = slash < 0 ? '/' : text.slice(slash)
  if (slash >= 0) {
    host = expandDc(host, dc, warnings).toLowerCase()
    path = expandDc(path, dc, warnings)
  }
  const h = normalizeRouteHost(host)
  if (!h.ok) return { ok: false, reason: h.reason }
  if (/[\s?#\p{Cc}]/u.test(path))
    return { ok: false, reason: `path "${path}" must not contain "?", "#" or spaces` }
  return { ok: true, src: { kind: 'http', host: h.value, path } }
}

/** `$DC` / `${DC}` → dc; any other `$NAME`/`${NAME}` → '' (fabio), with a warning. */
export function expandDc(s: string, dc: string, warnings: string[]): string {
  if (!s.includes('$')) return s
  return s.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, a: string, b: string) => {
      const name = a ?? b
      if (name === 'DC') return dc
      warnings.push(`unknown variable $${name} expands to ""`)
      return ''
    },
  )
}

export type OptsResult =
  | { readonly ok: true; readonly opts: RouteOpts; readonly weight: number }
  | { readonly ok: false; readonly reason: string }

/** Parse `key=value` options (tag options or the words of a route command's `opts "..."`). */
export function parseOpts(words: readonly string[], warnings: string[]): OptsResult {
  let proto: Proto = 'http'
  let strip = ''
  let prepend = ''
  let tlsSkipVerify = false
  let hostHeader = ''
  let redirect: Redirect | null = null
  let allow: string[] = []
  let deny: string[] = []
  let weight = 0
  let register = ''
  let auth = ''
  let pxyproto = false
  for (const word of words) {
    const eq = word.indexOf('=')
    const key = eq < 0 ? word : word.slice(0, eq)
    const value = eq < 0 ? '' : word.slice(eq + 1)
    switch (key) {
      case 'strip':
      case 'prepend':
        if (!value.startsWith('/') || /[\s?#]/.test(value))
          return fail(`${key}= must be a path starting with "/"`)
        if (key === 'strip') strip = value
        else prepend = value
        break
      case 'proto':
        if (value === 'http' || value === 'https' || value === 'tcp') proto = value
        else if (value === 'grpc' || value === 'grpcs') return fail(`proto=${value} is not supported`)
        else return fail(`proto= must be http, https or tcp, got "${value}"`)
        break
      case 'tlsskipverify':
        if (value !== 'true' && value !== 'false') return fail('tlsskipverify= must be true or false')
        tlsSkipVerify = value === 'true'
        break
      case 'host':
        if (value === '' || /[\s/]/.test(value)) return fail('host= must be "dst" or a host name')
        hostHeader = value
        break
      case 'weight': {
        const w = Number(value)
        if (value === '' || !Number.isFinite(w) || w < 0 || w > 1) {
          return fail(`weight= must be a number between 0 and 1, got "${value}"`)
        }
        weight = w
        break
      }
      case 'redirect': {
        const comma = value.indexOf(',')
        const code = Number(value.slice(0, comma))
        const url = value.slice(comma + 1)
        if (comma < 0 || !redirectCodes.includes(code) || url === '') {
          return fail(`redirect= must be <${redirectCodes.join('|')}>,<url>, got "${value}"`)
        }
        redirect = { code, url }
        break
      }
      case 'allow':
      case 'deny': {
        const list = parseIpList(value)
        if (typeof list === 'string') return fail(`${key}=: ${list}`)
        if (key === 'allow') allow = list
        else deny = list
        break
      }
      case 'register':
        if (!/^[A-Za-z0-9_.-]+$/.test(value)) return fail(`register= must be a service name, got "${value}"`)
        register = value
        break
      case 'auth':
        if (!/^[A-Za-z0-9_.-]+$/.test(value))
          return fail(`auth= must name an http.auth scheme, got "${value}"`)
        auth = value
        break
      case 'grpcservername':
        return fail('grpcservername= is not supported')
      case 'pxyproto':
        if (value !== 'true' && value !== 'false') return fail('pxyproto= must be true or false')
        pxyproto = value === 'true'
        break
      default:
        warnings.push(`unknown option "${key}" ignored`)
    }
  }
  if (allow.length > 0 && deny.length > 0) return fail('allow= and deny= cannot be used together')
  return {
    ok: true,
    weight,
    opts:
      register === '' && auth === '' && !pxyproto
        ? { proto, strip, prepend, tlsSkipVerify, hostHeader, redirect, allow, deny }
        : {
            proto,
            strip,
            prepend,
            tlsSkipVerify,
            hostHeader,
            redirect,
            allow,
            deny,
            register,
            auth,
            pxyproto,
          },
  }
}

/** parseOpts of no words. */
const noOpts: OptsResult = { ok: true, weight: 0, opts: defaultOpts }

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason }
}

/** `ip:10.0.0.0/8,ip:fe80::/10,ip:1.2.3.4` → canonical CIDRs, or the reason. */
export function parseIpList(value: string): string[] | string {
  const out: string[] = []
  for (const item of value.split(',')) {
    if (!item.startsWith('ip:')) return `"${item}" must look like ip:<CIDR or address>`
    const r = parseCidr(item.slice(3))
    if (!r.ok) return `"${item}": ${r.reason}`
    out.push(r.cidr)
  }
  return out
}

function isHostGlob(host: string): boolean {
  return /[*?[\]{}]/.test(host.startsWith('[') ? host.slice(host.indexOf(']')) : host)
}

/**
 * What a `proto=tcp` route on an HTTP-form source means (fabio): `<ip>:<port>` (or `host:port`) is a
 * tcp-dynamic route (lb listens on that address, with `tcp_dynamic: true`), a bare `<host>/` is a tcp+sni route
 * (TLS ClientHellos naming that host, on every TCP listener). null for anything else.
 */
export function tcpTarget(src: Src): { bindHost: string; port: number } | { serverName: string } | null {
  if (src.kind !== 'http' || src.path !== '/' || src.host === '') return null
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(src.host)
  if (m !== null) {
    const port = Number(m[2])
    const host = m[1] as string
    return port >= 1 && port <= 65535
      ? { bindHost: host.startsWith('[') ? host.slice(1, -1) : host, port }
      : null
  }
  return { serverName: src.host }
}

/** '' when the source and the options fit together, else the reason. */
export function checkSrcProto(src: Src, opts: RouteOpts): string {
  if (src.kind === 'tcp' && opts.proto !== 'tcp') return 'a :port source needs proto=tcp'
  if (
    src.kind === 'http' &&
    opts.proto === 'tcp' &&
    (src.path !== '/' || src.host === '' || isHostGlob(src.host))
  )
    return 'proto=tcp needs a :port, <ip>:<port> (tcp-dynamic) or <host>/ (tcp+sni) source'
  return ''
}
