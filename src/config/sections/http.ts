/** `http:`: forwarding headers, trusted proxies, path matching, auth schemes, the no-route answer and timeouts. */
import { parseHtpasswd } from '../../route/auth.js'
import { isIPv4, isIPv6 } from '../../net/address.js'
import type { HttpConfig, AuthSchemeSpec, NoRouteConfig } from '../types.js'
import { defaultConfig, pathMatches } from '../defaults.js'
import {
  type Checker,
  tokenRe,
  ok,
  fail,
  readCidrList,
  type Slot,
  section,
  required,
  readList,
  readString,
  readChecked,
  readName,
  readInt,
  readEnum,
  readDuration,
  unique,
} from '../reader.js'

export const httpKeys = [
  'trusted_proxies',
  'request_id_header',
  'client_ip_header',
  'local_ip',
  'auth',
  'no_route',
  'gzip_content_types',
  'path_match',
  'max_header_size',
  'maxconn',
  'http2',
  'timeouts',
] as const

export const http2Keys = ['max_concurrent_streams', 'max_resets', 'reset_interval'] as const

export const httpTimeoutKeys = ['http_request', 'client', 'keep_alive', 'tunnel'] as const

export const authKeys = ['name', 'type', 'realm', 'htpasswd'] as const

export const noRouteKeys = ['status', 'page'] as const

export function readHttp(c: Checker, slot: Slot | undefined): HttpConfig {
  const d = defaultConfig.http
  const f = section(c, slot, httpKeys)
  const trustedProxies = readCidrList(c, f?.get('trusted_proxies'))
  const t = section(c, f?.get('timeouts'), httpTimeoutKeys)
  const h2 = section(c, f?.get('http2'), http2Keys)
  return {
    trustedProxies: trustedProxies ?? [...d.trustedProxies],
    requestIdHeader:
      readChecked(c, f?.get('request_id_header'), d.requestIdHeader, (s) =>
        s === '' || tokenRe.test(s) ? ok(s) : fail(`"${s}" is not a valid header name`),
      ) ?? '',
    clientIpHeader:
      readChecked(c, f?.get('client_ip_header'), d.clientIpHeader, (s) =>
        s === '' || tokenRe.test(s) ? ok(s) : fail(`"${s}" is not a valid header name`),
      ) ?? '',
    localIp:
      readChecked(c, f?.get('local_ip'), d.localIp, (s) =>
        s === '' || isIPv4(s) || isIPv6(s) ? ok(s) : fail(`"${s}" is not an IP address`),
      ) ?? '',
    auth: readAuthSchemes(c, f?.get('auth')),
    noRoute: readNoRoute(c, f?.get('no_route')),
    gzipContentTypes:
      readChecked(c, f?.get('gzip_content_types'), d.gzipContentTypes, (s) => {
        try {
          new RegExp(s, 'i')
          return ok(s)
        } catch (err) {
          return fail(`not a regular expression: ${err instanceof Error ? err.message : String(err)}`)
        }
      }) ?? '',
    pathMatch: readEnum(c, f?.get('path_match'), d.pathMatch, pathMatches),
    maxHeaderSize: readInt(c, f?.get('max_header_size'), d.maxHeaderSize, 1_024, 1_048_576),
    maxconn: readInt(c, f?.get('maxconn'), d.maxconn, 0, 1_000_000),
    http2: {
      maxConcurrentStreams: readInt(
        c,
        h2?.get('max_concurrent_streams'),
        d.http2.maxConcurrentStreams,
        1,
        10_000,
      ),
      maxResets: readInt(c, h2?.get('max_resets'), d.http2.maxResets, 1, 1_000_000),
      resetInterval: readDuration(c, h2?.get('reset_interval'), d.http2.resetInterval, 1),
    },
    timeouts: {
      httpRequest: readDuration(c, t?.get('http_request'), d.timeouts.httpRequest, 1),
      client: readDuration(c, t?.get('client'), d.timeouts.client, 1),
      keepAlive: readDuration(c, t?.get('keep_alive'), d.timeouts.keepAlive, 1),
      tunnel: readDuration(c, t?.get('tunnel'), d.timeouts.tunnel, 1),
    },
  }
}

/** `http.auth`: named basic-auth schemes, each with its htpasswd content (`htpasswd_file` reads the file). */
function readAuthSchemes(c: Checker, slot: Slot | undefined): AuthSchemeSpec[] {
  const out: AuthSchemeSpec[] = []
  const names = new Map<string, string>()
  for (const item of readList(c, slot) ?? []) {
    const f = section(c, item, authKeys)
    if (f === undefined) continue
    const name = readName(c, required(c, f, item, 'name'), undefined)
    if (name !== undefined) unique(c, names, name, f.get('name')?.path ?? item.path, 'auth scheme name')
    const type = readEnum(c, f.get('type'), 'basic', ['basic'] as const)
    const realm = readString(c, f.get('realm'), name ?? '')
    const htpasswdSlot = required(c, f, item, 'htpasswd')
    const htpasswd = readString(c, htpasswdSlot, '', true)
    if (htpasswdSlot !== undefined) {
      const bad = parseHtpasswd(htpasswd).badLines
      // Line numbers only: the content holds password hashes.
      if (bad.length > 0) c.add(htpasswdSlot.path, `lines ${bad.join(', ')} are not user:hash`)
    }
    out.push({ name: name ?? '', type, realm, htpasswd })
  }
  return out
}

function readNoRoute(c: Checker, slot: Slot | undefined): NoRouteConfig {
  const d = defaultConfig.http.noRoute
  const f = section(c, slot, noRouteKeys)
  return {
    status: readInt(c, f?.get('status'), d.status, 200, 599),
    page: readString(c, f?.get('page'), d.page),
  }
}
