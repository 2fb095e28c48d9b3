/** `listeners:`: HTTP and TCP listeners, their addresses, SNI routes and TCP timeouts. */
import { type Parsed, isHostname } from '../../net/address.js'
import type {
  ListenerConfig,
  HttpListenerConfig,
  SniRouteConfig,
  TcpListenerConfig,
  ServiceConfig,
} from '../types.js'
import { tcpListenerDefaults, defaultConfig, listenerModes } from '../defaults.js'
import {
  type Checker,
  ok,
  fail,
  type Slot,
  type Fields,
  section,
  required,
  readList,
  readString,
  readChecked,
  readName,
  readHostPort,
  readInt,
  readBool,
  checkEnum,
  readDuration,
  unique,
  didYouMean,
} from '../reader.js'
import { readListenerTls } from './tls.js'

export const listenerKeys = [
  'name',
  'address',
  'mode',
  'accept_proxy',
  'maxconn',
  'tls',
  'http2',
  'h2c',
  'service',
  'sni_routes',
  'timeouts',
] as const

export const sniRouteKeys = ['server_name', 'service'] as const

export const tcpTimeoutKeys = ['client', 'server', 'tunnel'] as const

export function readListeners(c: Checker, slot: Slot | undefined): ListenerConfig[] {
  const items = readList(c, slot)
  if (items === undefined) return structuredClone(defaultConfig.listeners) as ListenerConfig[]
  if (items.length === 0) c.add(slot?.path ?? 'listeners', 'at least one listener is required')
  const out: ListenerConfig[] = []
  const names = new Map<string, string>()
  const binds: { path: string; host: string; port: number }[] = []
  for (const item of items) {
    const f = section(c, item, listenerKeys)
    if (f === undefined) continue
    const addrSlot = required(c, f, item, 'address')
    const addr = readHostPort(c, addrSlot, { emptyHost: true, portZero: true })
    const mode = readListenerMode(c, f.get('mode'))
    const port = addr?.port ?? 0
    const tcpOnly = readTcpListener(c, f, mode)
    let clashed = false
    if (addr !== undefined && addrSlot !== undefined) {
      const clash = binds.find((b) => bindsClash(b, addr))
      if (clash !== undefined) c.add(addrSlot.path, `port ${port} is already used by ${clash.path}`)
      clashed = clash !== undefined
      binds.push({ path: item.path, host: addr.host, port })
    }
    const nameSlot = f.get('name')
    const name = readName(c, nameSlot, addr === undefined ? undefined : `${mode}-${port}`)
    // A defaulted name only repeats when the port does, which is reported above.
    if (name !== undefined && (nameSlot !== undefined || !clashed)) {
      const hint = nameSlot === undefined ? '; give one of them a name' : ''
      unique(c, names, name, nameSlot?.path ?? item.path, 'listener name', hint)
    }
    const base = { name: name ?? '', host: addr?.host ?? '', port }
    if (tcpOnly !== undefined) {
      out.push({ ...base, ...tcpOnly })
    } else {
      const acceptSlot = f.get('accept_proxy')
      const l: HttpListenerConfig = { ...base, mode: 'http' }
      if (acceptSlot !== undefined && acceptSlot.value !== null)
        l.acceptProxy = readBool(c, acceptSlot, false)
      const maxconnSlot = f.get('maxconn')
      if (maxconnSlot !== undefined && maxconnSlot.value !== null)
        l.maxconn = readInt(c, maxconnSlot, 0, 0, 1_000_000)
      const tls = readListenerTls(c, f.get('tls'))
      if (tls !== undefined) l.tls = tls
      const http2Slot = f.get('http2')
      if (http2Slot !== undefined && http2Slot.value !== null) {
        if (tls === undefined)
          c.add(http2Slot.path, 'only applies to listeners with tls (h2c: HTTP/2 without TLS)')
        else l.http2 = readBool(c, http2Slot, true)
      }
      const h2cSlot = f.get('h2c')
      if (h2cSlot !== undefined && h2cSlot.value !== null) {
        if (tls !== undefined)
          c.add(h2cSlot.path, 'only applies to listeners without tls (http2: HTTP/2 over TLS)')
        else l.h2c = readBool(c, h2cSlot, false)
      }
      out.push(l)
    }
  }
  return out
}

/** The tcp-only listener keys: the TcpListenerConfig fields for `mode: tcp`, else problems for any set. */
function readTcpListener(
  c: Checker,
  f: Fields<(typeof listenerKeys)[number]>,
  mode: ListenerConfig['mode'],
): Omit<TcpListenerConfig, 'name' | 'host' | 'port'> | undefined {
  if (mode !== 'tcp') {
    for (const k of ['service', 'sni_routes', 'timeouts'] as const) {
      const s = f.get(k)
      if (s !== undefined && s.value !== null) c.add(s.path, 'only applies to mode: tcp listeners')
    }
    return undefined
  }
  for (const k of ['maxconn', 'http2', 'h2c'] as const) {
    const s = f.get(k)
    if (s !== undefined && s.value !== null) c.add(s.path, 'only applies to mode: http listeners')
  }
  const tlsSlot = f.get('tls')
  const tls = readListenerTls(c, tlsSlot)
  if (tls !== undefined && tls.clientHeader !== '' && tlsSlot !== undefined)
    c.add(
      `${tlsSlot.path}.client_header`,
      'only applies to mode: http listeners (a TCP relay sends no headers)',
    )
  const d = tcpListenerDefaults
  const serviceSlot = f.get('service')
  const service = readString(c, serviceSlot, d.service)
  if (serviceSlot !== undefined && service !== '')
    c.serviceRefs.push({ path: serviceSlot.path, name: service })
  const sniRoutes: SniRouteConfig[] = []
  const seen = new Map<string, string>()
  for (const item of readList(c, f.get('sni_routes')) ?? []) {
    const r = section(c, item, sniRouteKeys)
    if (r === undefined) continue
    const nameSlot = required(c, r, item, 'server_name')
    const serverName = readChecked(c, nameSlot, '', checkSniName)
    const svcSlot = required(c, r, item, 'service')
    const svc = readString(c, svcSlot, '')
    if (svcSlot !== undefined && svc !== '') c.serviceRefs.push({ path: svcSlot.path, name: svc })
    if (serverName !== undefined && serverName !== '') {
      unique(c, seen, serverName, nameSlot?.path ?? item.path, 'SNI server name')
      sniRoutes.push({ serverName, service: svc })
    }
  }
  const t = section(c, f.get('timeouts'), tcpTimeoutKeys)
  const out: Omit<TcpListenerConfig, 'name' | 'host' | 'port'> = {
    mode: 'tcp',
    acceptProxy: readBool(c, f.get('accept_proxy'), d.acceptProxy),
    service,
    sniRoutes,
    timeouts: {
      client: readDuration(c, t?.get('client'), d.timeouts.client, 1),
      server: readDuration(c, t?.get('server'), d.timeouts.server, 1),
      tunnel: readDuration(c, t?.get('tunnel'), d.timeouts.tunnel, 0),
    },
  }
  if (tls !== undefined) out.tls = tls
  return out
}

/** SNI names are hostnames (lower-cased), optionally `*.suffix`. */
function checkSniName(s: string): Parsed<string> {
  const name = s.toLowerCase()
  const bare = name.startsWith('*.') ? name.slice(2) : name
  return isHostname(bare) ? ok(name) : fail(`"${s}" is not a hostname or *.domain`)
}

/** Services named by listeners exist (reported after the services were read). */
export function checkServiceRefs(c: Checker, services: readonly ServiceConfig[]): void {
  const names = services.map((s) => s.name)
  for (const ref of c.serviceRefs) {
    if (!names.includes(ref.name))
      c.add(ref.path, `unknown service "${ref.name}"${didYouMean(ref.name, names)}`)
  }
}

function readListenerMode(c: Checker, slot: Slot | undefined): ListenerConfig['mode'] {
  const v = readString(c, slot, 'http')
  return checkEnum(c, slot, v, listenerModes, 'http')
}

export function bindsClash(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  if (a.port !== b.port || a.port === 0) return false
  return a.host === b.host || wildcardHosts.has(a.host) || wildcardHosts.has(b.host)
}

const wildcardHosts: ReadonlySet<string> = new Set(['', '0.0.0.0', '::'])
