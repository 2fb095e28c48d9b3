/** `defaults:` and `services:`: balance, timeouts, health checks (haproxy's server options) and servers. */
import type {
  HealthCheckSpec,
  StatusRange,
  ServiceDefaults,
  ServiceHealthOptions,
  UpstreamTimeouts,
} from '../../model/snapshot.js'
import { formatHostPort, isHostname, isIPv4, isIPv6 } from '../../net/address.js'
import { formatDuration } from '../duration.js'
import type { DeepReadonly, ServerConfig, ServiceConfig } from '../types.js'
import {
  checkDefaults,
  defaultConfig,
  balanceNames,
  serverStates,
  checkSources,
  checkTypeNames,
  initStateNames,
  observeModes,
  onErrorNames,
  onMarkedDownNames,
  sendProxyNames,
  upstreamProtos,
} from '../defaults.js'
import {
  type Checker,
  visibleRe,
  tokenRe,
  absolutePathRe,
  ok,
  fail,
  checkHostHeader,
  type Slot,
  section,
  required,
  readList,
  readString,
  readChecked,
  readName,
  readHostPort,
  readInt,
  readBool,
  readEnum,
  readDuration,
  unique,
  describe,
} from '../reader.js'

/** Health and server-option keys shared by `defaults` and every service. */
export const healthKeys = [
  'check',
  'observe',
  'error_limit',
  'on_error',
  'slowstart',
  'maxqueue',
  'on_marked_down',
  'send_proxy',
] as const

export const defaultsKeys = ['balance', 'retries', 'max_connections', 'timeouts', ...healthKeys] as const

export const upstreamTimeoutKeys = ['connect', 'server', 'body', 'keep_alive', 'queue'] as const

export const checkKeys = [
  'source',
  'type',
  'inter',
  'fastinter',
  'downinter',
  'rise',
  'fall',
  'timeout',
  'port',
  'address',
  'spread',
  'init_state',
  'send_proxy',
  'http',
  'tls',
] as const

export const checkHttpKeys = ['method', 'path', 'host', 'expect_status'] as const

export const checkTlsKeys = ['ca', 'skip_verify', 'sni'] as const

export const serviceKeys = [
  'name',
  'balance',
  'retries',
  'max_connections',
  'timeouts',
  'proto',
  'tls_skip_verify',
  'servers',
  ...healthKeys,
] as const

export const serverKeys = ['address', 'name', 'weight', 'backup', 'maxconn', 'state', 'check'] as const

export function readDefaults(c: Checker, slot: Slot | undefined): ServiceDefaults {
  const d = defaultConfig.defaults
  const f = section(c, slot, defaultsKeys)
  return {
    balance: readEnum(c, f?.get('balance'), d.balance, balanceNames),
    retries: readInt(c, f?.get('retries'), d.retries, 0, 10),
    maxConnections: readInt(c, f?.get('max_connections'), d.maxConnections, 1, 100_000),
    timeouts: readUpstreamTimeouts(c, f?.get('timeouts'), d.timeouts),
    ...readHealthOptions(c, f, d),
  }
}

/** The health/server-option keys of `defaults` or a service, over `base` (the built-ins or `defaults`). */
function readHealthOptions(
  c: Checker,
  f: { get(key: (typeof healthKeys)[number]): Slot | undefined } | undefined,
  base: DeepReadonly<ServiceHealthOptions>,
): ServiceHealthOptions {
  const check = readCheck(c, f?.get('check'), base.check)
  const observeSlot = f?.get('observe')
  const mode = readEnum(c, observeSlot, base.observe?.observe ?? 'none', observeModes)
  const errorLimit = readInt(c, f?.get('error_limit'), base.observe?.errorLimit ?? 10, 1, 100_000)
  const onError = readEnum(c, f?.get('on_error'), base.observe?.onError ?? 'fail-check', onErrorNames)
  if (mode !== 'none' && (check === null || check.source === 'consul') && observeSlot !== undefined) {
    c.add(
      observeSlot.path,
      'needs active checks (a check block with source active or both) to bring servers back',
    )
  }
  for (const k of ['error_limit', 'on_error'] as const) {
    const s = f?.get(k)
    if (s !== undefined && s.value !== null && mode === 'none')
      c.add(s.path, 'only applies with observe: layer4 or layer7')
  }
  return {
    check,
    observe: mode === 'none' ? null : { observe: mode, errorLimit, onError },
    slowstart: readDuration(c, f?.get('slowstart'), base.slowstart, 0),
    maxqueue: readInt(c, f?.get('maxqueue'), base.maxqueue, 0, 1_000_000),
    onMarkedDown: readEnum(c, f?.get('on_marked_down'), base.onMarkedDown, onMarkedDownNames),
    sendProxy: readEnum(c, f?.get('send_proxy'), base.sendProxy, sendProxyNames),
  }
}

/**
 * A `check:` value: `false` = none, `true` = `base` (or the built-in defaults), a mapping = those keys over
 * `base`. Absent = `base` (so `defaults.check` turns checks on for every service, like `default-server check`).
 */
function readCheck(
  c: Checker,
  slot: Slot | undefined,
  base: DeepReadonly<HealthCheckSpec> | null,
): HealthCheckSpec | null {
  if (slot === undefined || slot.value === null) return base
  if (typeof slot.value === 'boolean') return slot.value ? (base ?? checkDefaults) : null
  const f = section(c, slot, checkKeys)
  if (f === undefined) return base
  const d = base ?? checkDefaults
  const type = readEnum(c, f.get('type'), d.type, checkTypeNames)
  const h = section(c, f.get('http'), checkHttpKeys)
  const t = section(c, f.get('tls'), checkTlsKeys)
  const httpSlot = f.get('http')
  if (httpSlot !== undefined && httpSlot.value !== null && type === 'tcp') {
    c.add(httpSlot.path, 'only applies to type: http or https')
  }
  const tlsSlot = f.get('tls')
  if (tlsSlot !== undefined && tlsSlot.value !== null && type !== 'https') {
    c.add(tlsSlot.path, 'only applies to type: https')
  }
  const address = readChecked(c, f.get('address'), d.address, (s) =>
    s === '' || isHostname(s) || isIPv4(s) || isIPv6(s) ? ok(s) : fail(`"${s}" is not a hostname or IP`),
  )
  const sendProxySlot = f.get('send_proxy')
  const sendProxy =
    sendProxySlot === undefined || sendProxySlot.value === null
      ? d.sendProxy
      : readBool(c, sendProxySlot, false)
  const check: HealthCheckSpec = {
    ...(sendProxy === undefined ? {} : { sendProxy }),
    source: readEnum(c, f.get('source'), d.source, checkSources),
    type,
    inter: readDuration(c, f.get('inter'), d.inter, 10),
    fastinter: readDuration(c, f.get('fastinter'), d.fastinter, 0),
    downinter: readDuration(c, f.get('downinter'), d.downinter, 0),
    rise: readInt(c, f.get('rise'), d.rise, 1, 1_000),
    fall: readInt(c, f.get('fall'), d.fall, 1, 1_000),
    timeout: readDuration(c, f.get('timeout'), d.timeout, 0),
    port: readInt(c, f.get('port'), d.port, 0, 65_535),
    address: address ?? '',
    spread: readInt(c, f.get('spread'), d.spread, 0, 50),
    initState: readEnum(c, f.get('init_state'), d.initState, initStateNames),
    http: {
      method:
        readChecked(c, h?.get('method'), d.http.method, (s) =>
          tokenRe.test(s) ? ok(s.toUpperCase()) : fail(`"${s}" is not an HTTP method`),
        ) ?? d.http.method,
      path:
        readChecked(c, h?.get('path'), d.http.path, (s) =>
          absolutePathRe.test(s) && !/[\s\p{Cc}]/u.test(s)
            ? ok(s)
            : fail(`must start with "/" and have no spaces, got "${s}"`),
        ) ?? d.http.path,
      host: readChecked(c, h?.get('host'), d.http.host, checkHostHeader) ?? d.http.host,
      expectStatus: readExpectStatus(c, h?.get('expect_status'), d.http.expectStatus),
    },
    tls: {
      ca:
        readChecked(c, t?.get('ca'), d.tls.ca, (s) =>
          s === '' || s.includes('-----BEGIN CERTIFICATE-----')
            ? ok(s)
            : fail('expected PEM certificates (use ca_file for a path)'),
        ) ?? d.tls.ca,
      skipVerify: readBool(c, t?.get('skip_verify'), d.tls.skipVerify),
      sni:
        readChecked(c, t?.get('sni'), d.tls.sni, (s) =>
          s === '' || isHostname(s) ? ok(s) : fail(`"${s}" is not a hostname`),
        ) ?? d.tls.sni,
    },
  }
  const tSlot = f.get('timeout')
  if (check.timeout > check.inter && tSlot !== undefined) {
    c.add(tSlot.path, `must not exceed inter (${formatDuration(check.inter)})`)
  }
  return check
}

/** `expect_status`: 200, "200-399", or a list of them. */
export function readExpectStatus(
  c: Checker,
  slot: Slot | undefined,
  fallback: readonly StatusRange[],
): StatusRange[] {
  if (slot === undefined || slot.value === null) return fallback.map((r) => ({ lo: r.lo, hi: r.hi }))
  const items = Array.isArray(slot.value) ? (readList(c, slot) ?? []) : [slot]
  if (items.length === 0) c.add(slot.path, 'at least one status is required')
  const out: StatusRange[] = []
  for (const item of items) {
    const v = item.value
    const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : ''
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(text.trim())
    const lo = Number(m?.[1])
    const hi = m?.[2] === undefined ? lo : Number(m[2])
    if (m === null || lo < 100 || hi > 599 || hi < lo) {
      c.add(
        item.path,
        `expected a status (200), a range ("200-399") or a list of them, got ${describe(item)}`,
      )
      continue
    }
    out.push({ lo, hi })
  }
  return out
}

function readUpstreamTimeouts(
  c: Checker,
  slot: Slot | undefined,
  d: DeepReadonly<UpstreamTimeouts>,
): UpstreamTimeouts {
  const f = section(c, slot, upstreamTimeoutKeys)
  const t: UpstreamTimeouts = {
    connect: readDuration(c, f?.get('connect'), d.connect, 1),
    server: readDuration(c, f?.get('server'), d.server, 1),
    body: readDuration(c, f?.get('body'), d.body, 1),
    keepAlive: readDuration(c, f?.get('keep_alive'), d.keepAlive, 1),
  }
  const queue = f?.get('queue')
  if (queue !== undefined && queue.value !== null) t.queue = readDuration(c, queue, d.queue ?? t.connect, 1)
  else if (d.queue !== undefined) t.queue = d.queue
  return t
}

export function readServices(c: Checker, slot: Slot | undefined, d: ServiceDefaults): ServiceConfig[] {
  const out: ServiceConfig[] = []
  const names = new Map<string, string>()
  for (const item of readList(c, slot) ?? []) {
    const f = section(c, item, serviceKeys)
    if (f === undefined) continue
    const name = readName(c, required(c, f, item, 'name'), undefined)
    if (name !== undefined) unique(c, names, name, f.get('name')?.path ?? item.path, 'service name')
    const proto = readEnum(c, f.get('proto'), 'http', upstreamProtos)
    const tlsSkipVerify = readBool(c, f.get('tls_skip_verify'), false)
    const skipSlot = f.get('tls_skip_verify')
    if (tlsSkipVerify && proto === 'http' && skipSlot !== undefined) {
      c.add(skipSlot.path, 'only applies to proto: https')
    }
    const service: ServiceConfig = {
      name: name ?? '',
      balance: readEnum(c, f.get('balance'), d.balance, balanceNames),
      retries: readInt(c, f.get('retries'), d.retries, 0, 10),
      maxConnections: readInt(c, f.get('max_connections'), d.maxConnections, 1, 100_000),
      proto,
      tlsSkipVerify,
      timeouts: readUpstreamTimeouts(c, f.get('timeouts'), d.timeouts),
      servers: readServers(c, required(c, f, item, 'servers')),
      ...readHealthOptions(c, f, d),
    }
    out.push(service)
  }
  return out
}

function readServers(c: Checker, slot: Slot | undefined): ServerConfig[] {
  const items = readList(c, slot)
  if (items === undefined) return []
  if (items.length === 0 && slot !== undefined) c.add(slot.path, 'at least one server is required')
  const out: ServerConfig[] = []
  const names = new Map<string, string>()
  for (const item of items) {
    const f = section(c, item, serverKeys)
    if (f === undefined) continue
    const addr = readHostPort(c, required(c, f, item, 'address'), { emptyHost: false, portZero: false })
    const nameSlot = f.get('name')
    const name = readString(c, nameSlot, addr === undefined ? '' : formatHostPort(addr.host, addr.port))
    if (nameSlot !== undefined && !visibleRe.test(name)) {
      c.add(nameSlot.path, 'must be non-empty without spaces or control characters')
    } else if (name !== '') {
      const hint = nameSlot === undefined ? '; give one of them a name' : ''
      unique(c, names, name, nameSlot?.path ?? item.path, 'server name', hint)
    }
    const server: ServerConfig = {
      name,
      host: addr?.host ?? '',
      port: addr?.port ?? 0,
      weight: readInt(c, f.get('weight'), 1, 0, 256),
      backup: readBool(c, f.get('backup'), false),
      maxconn: readInt(c, f.get('maxconn'), 0, 0, 100_000),
      state: readEnum(c, f.get('state'), 'up', serverStates),
      check: readBool(c, f.get('check'), true),
    }
    out.push(server)
  }
  return out
}
