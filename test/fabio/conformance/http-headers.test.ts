/**
 * fabio `proxy/http_headers_test.go`: the forwarding headers sent upstream (src/proxy/headers.ts
 * `buildUpstreamHeaders`). Ported rows: TestAddHeaders (26 of 27, plus one row run again with an untrusted peer) and TestLocalPort
 * (7 of 8).
 * Not ported: TestAddHeaders "error" and TestLocalPort "nil request" (a request without a peer address or without
 * a request at all cannot reach lb), TestAddResponseHeaders (HSTS on TLS responses: lb terminates no TLS yet),
 * TestUint16Base16 (a Go helper).
 *
 * fabio trusts every peer's forwarding headers; lb only those of `http.trusted_proxies`, so the rows run with a
 * trusted peer, and the untrusted rows at the end show the deliberate difference. fabio's expected header maps
 * list what its addHeaders sets; Go's reverse proxy adds X-Forwarded-For afterwards (except for WebSocket),
 * so only the headers of each row's map are compared (plus X-Forwarded-For where the row lists it).
 */
import { fabioCases, type FabioCase } from './cases.js'
import { buildUpstreamHeaders, forwardedPort, type ForwardContext } from '../../../src/proxy/headers.js'

interface Row {
  /** fabio's RemoteAddr is 1.2.3.4:5555 in every row. */
  readonly tls?: boolean
  readonly ws?: boolean
  /**
   * HTTP version; default 1.1. fabio's rows mostly build requests without `Proto`, so its expected Forwarded has
   * no `httpproto=`; a real request always has a version, and those rows run as HTTP/1.1 with the
   * `; httpproto=http/1.1` that fabio's addHeaders appends for it (its row "set httpproto on Forwarded").
   */
  readonly proto?: string
  readonly host?: string
  readonly headers?: Record<string, string | string[]>
  readonly cfg?: { clientIp?: string; localIp?: string; tlsHeader?: string }
  readonly strip?: string
  readonly trusted?: boolean
}

const NO_TLS = 'lb terminates no TLS yet (a separate issue builds it): no tlsver=, tlscipher= or TLS header'

function run(r: Row): Record<string, string> {
  const raw: string[] = []
  if (r.host !== undefined) raw.push('Host', r.host)
  if (r.ws === true) raw.push('Upgrade', 'websocket')
  for (const [k, v] of Object.entries(r.headers ?? {}))
    for (const x of Array.isArray(v) ? v : [v]) raw.push(k, x)
  const ctx: ForwardContext = {
    remoteAddress: '1.2.3.4',
    clientAddress: '1.2.3.4',
    trusted: r.trusted ?? true,
    proto: r.tls === true ? 'https' : 'http',
    localPort: 9999,
    httpVersion: r.proto ?? '1.1',
    websocket: r.ws === true,
    clientIpHeader: r.cfg?.clientIp ?? '',
    clientIpLower: (r.cfg?.clientIp ?? '').toLowerCase(),
    forwardedBy: r.cfg?.localIp ?? '',
    hostHeader: '',
    prefix: r.strip ?? '',
    requestIdHeader: '',
    requestId: '',
    certHeaders: new Set(),
    certHeader: '',
    certValue: '',
  }
  const out = buildUpstreamHeaders(raw, ctx)
  const got: Record<string, string> = {}
  for (let i = 0; i < out.length; i += 2) {
    const name = (out[i] as string).toLowerCase()
    got[name] = got[name] === undefined ? (out[i + 1] as string) : `${got[name]}, ${out[i + 1] as string}`
  }
  return got
}

/** The headers fabio's row lists, lower-cased, taken from lb's output. */
function pick(got: Record<string, string>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const n of names) if (got[n] !== undefined) out[n] = got[n]
  return out
}

type Want = Record<string, string>
const rows: { desc: string; row: Row; want: Want; differs?: { reason: string; lb: Want } }[] = [
  {
    desc: 'http request',
    row: { strip: '/foo' },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-forwarded-prefix': '/foo',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'https request',
    row: { tls: true, proto: '1.1' },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'https request hack (Connection cannot remove X-Real-Ip)',
    row: { headers: { Connection: ['keep-alive', 'X-Real-Ip'] } },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'ws request',
    row: { ws: true },
    want: {
      forwarded: 'for=1.2.3.4; proto=ws; httpproto=http/1.1',
      'x-forwarded-for': '1.2.3.4',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'wss request',
    row: { ws: true, tls: true },
    want: {
      forwarded: 'for=1.2.3.4; proto=wss; httpproto=http/1.1',
      'x-forwarded-for': '1.2.3.4',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'set client ip header',
    row: { cfg: { clientIp: 'Client-IP' } },
    want: {
      'client-ip': '1.2.3.4',
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'set Forwarded with localIP',
    row: { cfg: { localIp: '5.6.7.8' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; by=5.6.7.8; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'set Forwarded with localIP for https',
    row: { tls: true, cfg: { localIp: '5.6.7.8' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; by=5.6.7.8; httpproto=http/1.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'set httpproto, tlsver and tlscipher on Forwarded for https',
    row: { tls: true },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1; tlsver=tls10; tlscipher=0xc023',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: NO_TLS,
      lb: {
        forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'set httpproto, tlsver and tlscipher on Forwarded for https and tls1.3',
    row: { tls: true, proto: '2.0' },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; httpproto=http/2.0; tlsver=tls13; tlscipher=0x1303',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: NO_TLS,
      lb: {
        forwarded: 'for=1.2.3.4; proto=https; httpproto=http/2.0',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'set httpproto on Forwarded',
    row: { proto: '1.1' },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'extend Forwarded with localIP',
    row: { headers: { Forwarded: 'for=9.9.9.9; proto=http; by=8.8.8.8' }, cfg: { localIp: '5.6.7.8' } },
    want: {
      forwarded: 'for=9.9.9.9; proto=http; by=8.8.8.8; by=5.6.7.8; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason:
        'lb adds its own element to a trusted Forwarded list (RFC 7239 §4), fabio extends the last element, which then claims the previous hop saw by= and httpproto=',
      lb: {
        forwarded:
          'for=9.9.9.9; proto=http; by=8.8.8.8, for=1.2.3.4; proto=http; by=5.6.7.8; httpproto=http/1.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '80',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'set tls header',
    row: { tls: true, cfg: { tlsHeader: 'Secure' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
      secure: '',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: NO_TLS,
      lb: {
        forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'set tls header with value',
    row: { tls: true, cfg: { tlsHeader: 'Secure' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
      secure: 'true',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: NO_TLS,
      lb: {
        forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'overwrite tls header for https, when set',
    row: { tls: true, headers: { Secure: 'on' }, cfg: { tlsHeader: 'Secure' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
      secure: 'true',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: NO_TLS,
      lb: {
        forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
        secure: 'on',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'drop tls header for http, when set',
    row: { headers: { Secure: 'on' }, cfg: { tlsHeader: 'Secure' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: NO_TLS,
      lb: {
        forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
        secure: 'on',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '80',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'do not overwrite X-Forwarded-Proto, if present',
    row: { headers: { 'X-Forwarded-Proto': 'some value' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=some value; httpproto=http/1.1',
      'x-forwarded-proto': 'some value',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: 'lb writes a Forwarded value that is not an RFC 7230 token as a quoted-string (RFC 7239 §4)',
      lb: {
        forwarded: 'for=1.2.3.4; proto="some value"; httpproto=http/1.1',
        'x-forwarded-proto': 'some value',
        'x-forwarded-port': '80',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'set scheme from X-Forwarded-Proto, if present and Forwarded is missing',
    row: { headers: { 'X-Forwarded-Proto': 'some value' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=some value; httpproto=http/1.1',
      'x-forwarded-proto': 'some value',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: 'lb writes a Forwarded value that is not an RFC 7230 token as a quoted-string (RFC 7239 §4)',
      lb: {
        forwarded: 'for=1.2.3.4; proto="some value"; httpproto=http/1.1',
        'x-forwarded-proto': 'some value',
        'x-forwarded-port': '80',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'set scheme from Forwarded, if present and X-Forwarded-Proto is missing',
    row: { headers: { Forwarded: 'for=1.2.3.4; proto=some value' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=some value',
      'x-forwarded-proto': 'some value',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason:
        "lb adds its own Forwarded element after a trusted list (RFC 7239 §4), with a non-token value quoted; the X-Forwarded-Proto derived from Forwarded is fabio's",
      lb: {
        forwarded: 'for=1.2.3.4; proto=some value, for=1.2.3.4; proto="some value"; httpproto=http/1.1',
        'x-forwarded-proto': 'some value',
        'x-forwarded-port': '80',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'do not modify scheme when both Forwarded and X-Forwarded-Proto are present',
    row: { headers: { Forwarded: 'for=1.2.3.4; proto=some value', 'X-Forwarded-Proto': 'other value' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=some value',
      'x-forwarded-proto': 'other value',
      'x-forwarded-port': '80',
      'x-real-ip': '1.2.3.4',
    },
    differs: {
      reason: 'lb adds its own Forwarded element after a trusted list (RFC 7239 §4)',
      lb: {
        forwarded: 'for=1.2.3.4; proto=some value, for=1.2.3.4; proto=http; httpproto=http/1.1',
        'x-forwarded-proto': 'other value',
        'x-forwarded-port': '80',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
  {
    desc: 'set X-Forwarded-Port from Host',
    row: { host: '5.6.7.8:1234' },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': '5.6.7.8:1234',
      'x-forwarded-port': '1234',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'set X-Forwarded-Port from Host for https',
    row: { host: '5.6.7.8:1234', tls: true },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': '5.6.7.8:1234',
      'x-forwarded-port': '1234',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'do not overwrite X-Forwarded-Port header, if present',
    row: { headers: { 'X-Forwarded-Port': '4444' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '4444',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'set X-Forwarded-Host from Host',
    row: { host: '5.6.7.8:1234' },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': '5.6.7.8:1234',
      'x-forwarded-port': '1234',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'do not overwrite X-Forwarded-Host, if present',
    row: { host: '5.6.7.8:1234', headers: { 'X-Forwarded-Host': '9.10.11.12:1234' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': '9.10.11.12:1234',
      'x-forwarded-port': '1234',
      'x-real-ip': '1.2.3.4',
    },
  },
  {
    desc: 'do not overwrite X-Real-Ip, if present',
    row: { headers: { 'X-Real-Ip': '6.6.6.6' } },
    want: {
      forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '80',
      'x-real-ip': '6.6.6.6',
    },
  },
  {
    desc: 'variant of "do not overwrite X-Forwarded-Proto, if present" (and X-Real-Ip), run with an untrusted peer',
    row: { headers: { 'X-Forwarded-Proto': 'https', 'X-Real-Ip': '6.6.6.6' }, trusted: false },
    want: {
      forwarded: 'for=1.2.3.4; proto=https; httpproto=http/1.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '80',
      'x-real-ip': '6.6.6.6',
    },
    differs: {
      reason:
        'lb drops and replaces X-Forwarded-*, Forwarded and X-Real-IP from peers outside http.trusted_proxies (docs/requests.md "Forwarding"); fabio trusts every peer',
      lb: {
        forwarded: 'for=1.2.3.4; proto=http; httpproto=http/1.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '80',
        'x-real-ip': '1.2.3.4',
      },
    },
  },
]

fabioCases(
  'TestAddHeaders',
  rows.map((r): FabioCase<Row, Want> => ({
    fabio: `TestAddHeaders/${r.desc}`,
    in: r.row,
    want: r.want,
    ...(r.differs === undefined ? {} : { differs: r.differs }),
  })),
  (row) => {
    const names = new Set(Object.keys(rows.find((r) => r.row === row)?.want ?? {}))
    for (const k of Object.keys(rows.find((r) => r.row === row)?.differs?.lb ?? {})) names.add(k)
    return pick(run(row), [...names])
  },
)

fabioCases(
  'TestLocalPort',
  [
    { host: '', tls: false, want: '80' },
    { host: ':', tls: false, want: '80' },
    { host: '1.2.3.4:5678', tls: false, want: '5678' },
    { host: '1.2.3.4', tls: false, want: '80' },
    { host: '1.2.3.4', tls: true, want: '443' },
    { host: '1.2.3.4:', tls: false, want: '80' },
    { host: '1.2.3.4:', tls: true, want: '443' },
  ].map((r, i) => ({
    fabio: `TestLocalPort/${i + 1} ${JSON.stringify(r.host)}${r.tls ? ' tls' : ''}`,
    in: r,
    want: r.want,
  })),
  (r) => forwardedPort(r.host, r.tls ? 'https' : 'http'),
)
