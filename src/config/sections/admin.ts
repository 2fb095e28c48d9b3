/** `admin:`: the admin server's address, token and allowed Host names. */
import { type HostPort, isHostname, parseHostPort } from '../../net/address.js'
import type { ListenerConfig, AdminConfig } from '../types.js'
import { defaultConfig } from '../defaults.js'
import {
  type Checker,
  visibleRe,
  ok,
  fail,
  type Slot,
  section,
  readList,
  readString,
  readChecked,
  readDuration,
} from '../reader.js'
import { bindsClash } from './listeners.js'

export const adminKeys = ['address', 'token', 'allowed_hosts', 'sample_interval'] as const

export function readAdmin(
  c: Checker,
  slot: Slot | undefined,
  listeners: readonly ListenerConfig[],
): AdminConfig {
  const d = defaultConfig.admin
  const f = section(c, slot, adminKeys)
  const addrSlot = f?.get('address')
  const addr = readChecked<HostPort | 'off'>(
    c,
    addrSlot,
    { host: d.host, kind: 'ipv4', port: d.port },
    (s) => (s === 'off' ? ok('off') : parseHostPort(s, { emptyHost: true, portZero: true })),
  )
  const host = addr === 'off' ? '' : (addr?.host ?? d.host)
  const port = addr === 'off' ? 0 : (addr?.port ?? d.port)
  const clash = listeners.findIndex((l) => bindsClash(l, { host, port }))
  if (addr !== undefined && clash >= 0) {
    c.add(addrSlot?.path ?? 'admin.address', `port ${port} is already used by listeners[${clash}]`)
  }
  const token = readString(c, f?.get('token'), d.token, true)
  const tokenSlot = f?.get('token')
  if (token !== '' && tokenSlot !== undefined && !visibleRe.test(token)) {
    c.add(tokenSlot.path, 'must not contain spaces or control characters')
  }
  const allowedHosts: string[] = []
  for (const item of readList(c, f?.get('allowed_hosts')) ?? []) {
    const name = readChecked(c, item, '', (s) =>
      isHostname(s) ? ok(s.toLowerCase()) : fail(`must be a host name without a port, got "${s}"`),
    )
    if (name !== undefined && name !== '') allowedHosts.push(name)
  }
  const sampleInterval = readDuration(c, f?.get('sample_interval'), d.sampleInterval, 100)
  return { host, port, token, allowedHosts, sampleInterval }
}
