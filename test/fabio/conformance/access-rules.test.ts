/**
 * fabio `route/access_rules_test.go`: `allow=`/`deny=` rules. Ported rows: parseAccessRule (7, through
 * provider/consul/tags.ts `parseIpList`), denyByIP (8, through a route's ACL: src/route/table.ts
 * `routeAllows`) and AccessDeniedHTTP (5, the client address lb checks: src/proxy/headers.ts `clientAddress`
 * with no trusted proxies, then `routeAllows`).
 */
import { fabioCases } from './cases.js'
import { parseIpList } from '../../../src/fabio/tags.js'
import { buildTable } from '../../../src/route/table.js'
import { routeAllows } from '../../../src/route/lookup.js'
import { clientAddress } from '../../../src/proxy/headers.js'
import { CidrSet } from '../../../src/net/cidr.js'

fabioCases(
  'TestAccessRules_parseAccessRule',
  [
    ['valid ipv4 rule', 'ip:10.0.0.0/8,ip:192.168.0.0/24,ip:1.2.3.4/32', false],
    ['valid ipv6 rule', 'ip:1234:567:beef:cafe::/64,ip:1234:5678:dead:beef::/32', false],
    ['invalid rule type', 'xxx:10.0.0.0/8', true],
    ['ip rule with incomplete address', 'ip:10/8', true],
    ['ip rule with bad cidr mask', 'ip:10.0.0.0/255', true],
    ['single ipv4 with no mask', 'ip:1.2.3.4', false],
    ['single ipv6 with no mask', 'ip:fe80::1', false],
  ].map(([desc, rule, fail]) => ({
    fabio: `TestAccessRules_parseAccessRule/${String(desc)}`,
    in: String(rule),
    want: fail as boolean,
  })),
  (rule) => typeof parseIpList(rule) === 'string',
)

function denied(kind: 'allow' | 'deny', rule: string, client: string): boolean {
  const list = parseIpList(rule)
  if (typeof list === 'string') throw new Error(list)
  const table = buildTable(
    [
      {
        host: '',
        path: '/',
        service: 's',
        strip: '',
        prepend: '',
        hostHeader: '',
        redirect: null,
        source: 'test',
        [kind]: list,
      },
    ],
    { pathMatch: 'prefix' },
  )
  const route = table.routes[0]
  if (route === undefined) throw new Error('no route')
  return !routeAllows(route, client)
}

const v4 = 'ip:10.0.0.0/8,ip:192.168.0.0/24'
const v6 = 'ip:1234:dead:beef:cafe::/64'
fabioCases(
  'TestAccessRules_denyByIP',
  (
    [
      ['allow rule with included ipv4', 'allow', v4, '10.10.0.1', false],
      ['allow rule with exluded ipv4', 'allow', v4, '1.2.3.4', true],
      ['deny rule with included ipv4', 'deny', v4, '10.10.0.1', true],
      ['deny rule with excluded ipv4', 'deny', v4, '1.2.3.4', false],
      ['allow rule with included ipv6', 'allow', v6, '1234:dead:beef:cafe::5678', false],
      ['allow rule with exluded ipv6', 'allow', v6, '1234:5678::1', true],
      ['deny rule with included ipv6', 'deny', v6, '1234:dead:beef:cafe::5678', true],
      ['deny rule with excluded ipv6', 'deny', v6, '1234:5678::1', false],
    ] as const
  ).map(([desc, kind, rule, client, want]) => ({
    fabio: `TestAccessRules_denyByIP/${desc}`,
    in: { kind, rule, client },
    want,
  })),
  (c) => denied(c.kind, c.rule, c.client),
)

const XFF =
  'lb checks the real client address, taking X-Forwarded-For only from http.trusted_proxies (docs/requests.md "Forwarding"); fabio denies when the socket address or any X-Forwarded-For element is outside the rule, so a client can deny itself and spoof nothing in'
const noTrusted = new CidrSet([])
fabioCases(
  'TestAccessRules_AccessDeniedHTTP',
  (
    [
      [
        'single denied xff and allowed remote addr',
        '10.11.12.13, 1.1.1.2, 10.11.12.14',
        '10.11.12.1',
        true,
        false,
      ],
      ['allowed xff and denied remote addr', '10.11.12.13, 1.2.3.4', '1.1.1.2', true, undefined],
      ['single allowed xff and allowed remote addr', '10.11.12.13, 1.2.3.4', '192.168.0.12', true, false],
      [
        'denied xff and denied remote addr',
        '1.2.3.4, 10.11.12.13, 10.11.12.14',
        '200.17.18.20',
        true,
        undefined,
      ],
      [
        'all allowed xff and allowed remote addr',
        '10.11.12.13, 10.110.120.130',
        '192.168.0.12',
        false,
        undefined,
      ],
    ] as const
  ).map(([desc, xff, remote, want, lb]) => ({
    fabio: `TestAccessRules_AccessDeniedHTTP/${desc}`,
    in: { xff, remote },
    want,
    ...(lb === undefined ? {} : { differs: { reason: XFF, lb } }),
  })),
  (c) => denied('allow', v4, clientAddress(c.remote, c.xff, noTrusted)),
)
