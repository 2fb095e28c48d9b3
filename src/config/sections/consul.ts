/** `consul:`: Consul discovery (agents, TLS, token, watch mode, limits) and lb's own registration. */
import { type HostPort, formatHostPort, parseHostPort } from '../../net/address.js'
import type { ConsulStatus, ConsulConfig, ConsulRegisterConfig } from '../types.js'
import {
  defaultConfig,
  upstreamProtos,
  consulWatchModes,
  consulConsistencies,
  consulStatuses,
} from '../defaults.js'
import {
  type Checker,
  visibleRe,
  ok,
  type Slot,
  section,
  readList,
  readString,
  readChecked,
  readName,
  readHostPort,
  readInt,
  readBool,
  readEnum,
  readDuration,
} from '../reader.js'

export const consulKeys = [
  'enabled',
  'addresses',
  'scheme',
  'tls',
  'token',
  'datacenter',
  'consistency',
  'wait',
  'status',
  'route_without_checks',
  'tag_prefix',
  'kv_path',
  'fanout',
  'watch',
  'state_threshold',
  'rate_limit',
  'backoff',
  'throttle',
  'no_route_key',
  'register',
] as const

export const consulRegisterKeys = [
  'enabled',
  'name',
  'address',
  'tags',
  'check_interval',
  'check_timeout',
  'deregister_critical_after',
] as const

export const consulTlsKeys = ['ca', 'cert', 'key', 'skip_verify'] as const

export const rateLimitKeys = ['interval', 'burst'] as const

export const backoffKeys = ['min', 'max'] as const

export function readConsul(c: Checker, slot: Slot | undefined): ConsulConfig {
  const d = defaultConfig.consul
  const f = section(c, slot, consulKeys)
  const present = f !== undefined
  const addrSlot = f?.get('addresses')
  const addrItems = readList(c, addrSlot)
  const addresses: string[] = []
  for (const item of addrItems ?? []) {
    const a = readHostPort(c, item, { emptyHost: false, portZero: false, defaultPort: 8500 })
    if (a !== undefined) addresses.push(formatHostPort(a.host, a.port))
  }
  if (addrItems !== undefined && addrItems.length === 0 && addrSlot !== undefined) {
    c.add(addrSlot.path, 'at least one address is required')
  }
  const t = section(c, f?.get('tls'), consulTlsKeys)
  const scheme = readEnum(c, f?.get('scheme'), d.scheme, upstreamProtos)
  const tls = {
    ca: readString(c, t?.get('ca'), d.tls.ca, true),
    cert: readString(c, t?.get('cert'), d.tls.cert, true),
    key: readString(c, t?.get('key'), d.tls.key, true),
    skipVerify: readBool(c, t?.get('skip_verify'), d.tls.skipVerify),
  }
  if ((tls.cert === '') !== (tls.key === '') && t !== undefined) {
    c.add(
      `${f?.get('tls')?.path ?? 'consul.tls'}`,
      'set both cert and key (or cert_file and key_file), or neither',
    )
  }
  if (t !== undefined && scheme === 'http' && (tls.ca !== '' || tls.cert !== '' || tls.skipVerify)) {
    c.add(f?.get('tls')?.path ?? 'consul.tls', 'only applies to scheme: https')
  }
  const tokenSlot = f?.get('token')
  const token = readString(c, tokenSlot, d.token, true)
  if (token !== '' && tokenSlot !== undefined && !visibleRe.test(token)) {
    c.add(tokenSlot.path, 'must not contain spaces or control characters')
  }
  const statusSlot = f?.get('status')
  const statusItems = readList(c, statusSlot)
  const status: ConsulStatus[] = ['passing']
  for (const item of statusItems ?? []) {
    const s = readEnum(c, item, 'passing', consulStatuses)
    if (!status.includes(s)) status.push(s)
  }
  const r = section(c, f?.get('rate_limit'), rateLimitKeys)
  const b = section(c, f?.get('backoff'), backoffKeys)
  const backoff = {
    min: readDuration(c, b?.get('min'), d.backoff.min, 1),
    max: readDuration(c, b?.get('max'), d.backoff.max, 1),
  }
  if (backoff.min > backoff.max) c.add(f?.get('backoff')?.path ?? 'consul.backoff', 'min must not exceed max')
  const waitSlot = f?.get('wait')
  const wait = readDuration(c, waitSlot, d.wait, 1_000)
  if (wait > 600_000 && waitSlot !== undefined)
    c.add(waitSlot.path, 'must be at most 10m (Consul caps wait there)')
  const tagPrefix = readString(c, f?.get('tag_prefix'), d.tagPrefix)
  if (tagPrefix === '' && f?.get('tag_prefix') !== undefined)
    c.add(f.get('tag_prefix')?.path ?? '', 'must not be empty')
  return {
    enabled: present && readBool(c, f.get('enabled'), true),
    addresses: addrItems === undefined ? [...d.addresses] : addresses,
    scheme,
    tls,
    token,
    datacenter: readString(c, f?.get('datacenter'), d.datacenter),
    consistency: readEnum(c, f?.get('consistency'), d.consistency, consulConsistencies),
    wait,
    status,
    routeWithoutChecks: readBool(c, f?.get('route_without_checks'), d.routeWithoutChecks),
    tagPrefix,
    kvPath: readString(c, f?.get('kv_path'), d.kvPath).replace(/^\/+/, ''),
    fanout: readInt(c, f?.get('fanout'), d.fanout, 1, 1_024),
    watch: readEnum(c, f?.get('watch'), d.watch, consulWatchModes),
    stateThreshold: readInt(c, f?.get('state_threshold'), d.stateThreshold, 0, 1_000_000),
    rateLimit: {
      interval: readDuration(c, r?.get('interval'), d.rateLimit.interval, 0),
      burst: readInt(c, r?.get('burst'), d.rateLimit.burst, 1, 1_000),
    },
    backoff,
    throttle: readDuration(c, f?.get('throttle'), d.throttle, 0),
    noRouteKey: readString(c, f?.get('no_route_key'), d.noRouteKey).replace(/^\/+/, ''),
    register: readConsulRegister(c, f?.get('register')),
  }
}

function readConsulRegister(c: Checker, slot: Slot | undefined): ConsulRegisterConfig {
  const d = defaultConfig.consul.register
  const f = section(c, slot, consulRegisterKeys)
  const addrSlot = f?.get('address')
  const addr = readChecked<HostPort | undefined>(c, addrSlot, undefined, (s) =>
    s === '' ? ok(undefined) : parseHostPort(s, { emptyHost: false, portZero: false }),
  )
  const tags: string[] = []
  for (const item of readList(c, f?.get('tags')) ?? []) tags.push(readString(c, item, ''))
  return {
    enabled: readBool(c, f?.get('enabled'), d.enabled),
    name: readName(c, f?.get('name'), d.name) ?? d.name,
    address: addr === undefined ? '' : formatHostPort(addr.host, addr.port),
    tags,
    checkInterval: readDuration(c, f?.get('check_interval'), d.checkInterval, 100),
    checkTimeout: readDuration(c, f?.get('check_timeout'), d.checkTimeout, 100),
    deregisterCriticalAfter: readDuration(
      c,
      f?.get('deregister_critical_after'),
      d.deregisterCriticalAfter,
      1_000,
    ),
  }
}
