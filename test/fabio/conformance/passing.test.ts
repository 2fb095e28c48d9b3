/**
 * fabio `registry/consul/passing_test.go` TestPassingServices (22 rows): which service instances are routed,
 * given their checks (provider/consul/build.ts `instanceStatus` and the `status` option). fabio filters a flat
 * list of checks; lb reads `/v1/health/service/<name>`, where each instance comes with its node's checks and its
 * own, so each row's checks are grouped per instance (node + service id) and the answer is the list of routed
 * instances. fabio's `strict` (registry.consul.checksRequired=all) is what lb always does: an instance's status
 * is the worst of its checks.
 */
import { fabioCases } from './cases.js'
import { instanceStatus, type ConsulCheck, type HealthEntry } from '../../../src/provider/consul/entries.js'

interface Check {
  readonly Node: string
  readonly CheckID: string
  readonly Status: string
  readonly ServiceID?: string
}

const serfPass: Check = { Node: 'node', CheckID: 'serfHealth', Status: 'passing' }
const serfFail: Check = { Node: 'node', CheckID: 'serfHealth', Status: 'critical' }
const svc1Pass: Check = { Node: 'node', CheckID: 'service:abc', Status: 'passing', ServiceID: 'abc-1' }
const svc1Chk2Warn: Check = { Node: 'node', CheckID: 'service:abc', Status: 'warning', ServiceID: 'abc-1' }
const svc1Node2Pass: Check = { Node: 'node2', CheckID: 'service:abc', Status: 'passing', ServiceID: 'abc-1' }
const svc1Warn: Check = { Node: 'node', CheckID: 'service:abc', Status: 'warning', ServiceID: 'abc-2' }
const svc1Crit: Check = { Node: 'node', CheckID: 'service:abc', Status: 'critical', ServiceID: 'abc-3' }
const svc2Pass: Check = { Node: 'node', CheckID: 'my-check-id', Status: 'passing', ServiceID: 'def-1' }
const svc1Maint: Check = {
  Node: 'node',
  CheckID: '_service_maintenance:abc-1',
  Status: 'critical',
  ServiceID: 'abc-1',
}
const svc1ID2Maint: Check = {
  Node: 'node',
  CheckID: '_service_maintenance:abc-2',
  Status: 'critical',
  ServiceID: 'abc-2',
}
const nodeMaint: Check = { Node: 'node', CheckID: '_node_maintenance', Status: 'critical' }

/** Routed instances (`node/serviceID`) for fabio's flat check list, by lb's rules. */
function routed(input: { checks: Check[]; status: string[] }): string[] {
  const instances = new Map<string, { node: string; id: string }>()
  for (const c of input.checks) {
    if (c.ServiceID === undefined || c.CheckID.startsWith('_service_maintenance:')) continue
    instances.set(`${c.Node}/${c.ServiceID}`, { node: c.Node, id: c.ServiceID })
  }
  const out: string[] = []
  for (const [key, { node, id }] of instances) {
    const checks: ConsulCheck[] = input.checks
      .filter((c) => c.Node === node && (c.ServiceID === undefined || c.ServiceID === id))
      .map((c) => ({ CheckID: c.CheckID, Status: c.Status, ServiceID: c.ServiceID ?? '' }))
    const e: HealthEntry = {
      Node: { Node: node, Address: '10.0.0.1' },
      Service: { ID: id, Service: 'abc', Tags: [], Address: '', Port: 80 },
      Checks: checks,
    }
    const s = instanceStatus(e)
    if (s === 'passing' || (s === 'warning' && input.status.includes('warning'))) out.push(key)
  }
  return out.sort()
}

const key = (c: Check): string => `${c.Node}/${c.ServiceID ?? ''}`
const keys = (cs: Check[]): string[] => [...new Set(cs.map(key))].sort()
const WORST =
  "lb routes an instance by the worst of its checks (Consul's own aggregation, fabio's checksRequired=all); fabio's default keeps it while any one check passes"

const rows: {
  name: string
  strict: boolean
  status: string[]
  in: Check[]
  out: Check[]
  differs?: string[]
}[] = [
  {
    name: 'expect no passing checks if checks array is nil',
    strict: false,
    status: ['passing'],
    in: [],
    out: [],
  },
  {
    name: 'expect no passing checks if checks array is empty',
    strict: false,
    status: ['passing'],
    in: [],
    out: [],
  },
  {
    name: 'expect check to pass if it has a matching status',
    strict: false,
    status: ['passing'],
    in: [svc1Pass],
    out: [svc1Pass],
  },
  {
    name: 'expect all checks to pass if they have a matching status',
    strict: false,
    status: ['passing'],
    in: [svc1Pass, svc2Pass],
    out: [svc1Pass, svc2Pass],
  },
  {
    name: 'expect that internal consul checks are filtered out',
    strict: false,
    status: ['passing'],
    in: [serfPass, svc1Pass],
    out: [svc1Pass],
  },
  {
    name: 'expect no passing checks if consul agent is unhealthy',
    strict: false,
    status: ['passing'],
    in: [serfFail, svc1Pass],
    out: [],
  },
  {
    name: 'expect no passing checks if node is in maintenance mode',
    strict: false,
    status: ['passing'],
    in: [nodeMaint, svc1Pass],
    out: [],
  },
  {
    name: 'expect no passing check if corresponding service is in maintenance mode',
    strict: false,
    status: ['passing'],
    in: [svc1Maint, svc1Pass],
    out: [],
  },
  {
    name: 'expect no passing check if node and service are in maintenance mode',
    strict: false,
    status: ['passing'],
    in: [nodeMaint, svc1Maint, svc1Pass],
    out: [],
  },
  {
    name: 'expect no passing check if agent is unhealthy or node and service are in maintenance mode',
    strict: false,
    status: ['passing'],
    in: [serfFail, nodeMaint, svc1Maint, svc1Pass],
    out: [],
  },
  {
    name: 'expect check of service which is not in maintenance mode to pass if another instance of same service is in maintenance mode',
    strict: false,
    status: ['passing'],
    in: [svc1ID2Maint, svc1Pass],
    out: [svc1Pass],
  },
  {
    name: 'expect that no checks of a service which is in maintenance mode are returned even if it has a passing check',
    strict: false,
    status: ['passing'],
    in: [svc1Maint, svc1Pass, svc2Pass],
    out: [svc2Pass],
  },
  {
    name: "expect that a service's failing check does not affect a healthy instance of same service running on different node",
    strict: false,
    status: ['passing'],
    in: [svc1Crit, svc1Node2Pass],
    out: [svc1Node2Pass],
  },
  {
    name: 'service in maintenance mode does not affect healthy service running on different node',
    strict: false,
    status: ['passing'],
    in: [svc1Maint, svc1Node2Pass],
    out: [svc1Node2Pass],
  },
  {
    name: 'expect that internal consul check and failing check are not returned',
    strict: false,
    status: ['passing', 'warning'],
    in: [serfPass, svc1Pass, svc1Crit],
    out: [svc1Pass],
  },
  {
    name: 'expect that internal consul check is filtered out and check with warning is passing',
    strict: false,
    status: ['passing', 'warning'],
    in: [serfPass, svc1Warn, svc1Crit],
    out: [svc1Warn],
  },
  {
    name: 'expect that warning and passing non-internal checks are returned',
    strict: false,
    status: ['passing', 'warning'],
    in: [serfPass, svc1Pass, svc1Warn],
    out: [svc1Pass, svc1Warn],
  },
  {
    name: 'expect that warning und passing non-internal checks are returned',
    strict: false,
    status: ['passing', 'warning'],
    in: [serfPass, svc1Warn, svc1Crit, svc1Pass],
    out: [svc1Warn, svc1Pass],
  },
  {
    name: 'in non-strict mode, expect that checks which belong to same service are passing, if at least one of them is passing',
    strict: false,
    status: ['passing'],
    in: [svc1Pass, svc1Chk2Warn],
    out: [svc1Pass, svc1Chk2Warn],
    differs: [],
  },
  {
    name: 'in strict mode, expect that no checks which belong to same service are passing, if not all of them are passing',
    strict: true,
    status: ['passing'],
    in: [svc1Pass, svc1Chk2Warn],
    out: [],
  },
  {
    name: "in strict mode, expect that a failing check of one service does not affect a different service's passing check",
    strict: true,
    status: ['passing'],
    in: [svc1Pass, svc1Chk2Warn, svc2Pass],
    out: [svc2Pass],
  },
  {
    name: 'in strict mode, expect a check to pass if all of the other checks that belong to the same service are passing',
    strict: true,
    status: ['passing', 'warning'],
    in: [svc1Pass, svc1Chk2Warn],
    out: [svc1Pass, svc1Chk2Warn],
  },
]

fabioCases(
  'TestPassingServices',
  rows.map((r) => ({
    fabio: `TestPassingServices/${r.name}`,
    in: { checks: r.in, status: r.status },
    want: keys(r.out),
    ...(r.differs === undefined ? {} : { differs: { reason: WORST, lb: r.differs } }),
  })),
  routed,
)
