/**
 * StatusSet (src/provider/consul/checks.ts): from consecutive answers of `/v1/health/state/critical` (or
 * `warning`), the services and nodes whose checks entered or left that state.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { StatusSet } from '../../../src/provider/consul/checks.js'

const check = (node: string, id: string, svc = '', status = 'critical'): object => ({
  Node: node,
  CheckID: id,
  Status: status,
  ServiceID: svc === '' ? '' : `${svc}-1`,
  ServiceName: svc,
  ServiceTags: [],
})

const cases: { desc: string; before: object[]; after: object[]; services: string[]; nodes: string[] }[] = [
  {
    desc: 'nothing changed',
    before: [check('n1', 'c', 'a')],
    after: [check('n1', 'c', 'a')],
    services: [],
    nodes: [],
  },
  { desc: 'a service check fails', before: [], after: [check('n1', 'c', 'a')], services: ['a'], nodes: [] },
  {
    desc: 'a service check passes again',
    before: [check('n1', 'c', 'a')],
    after: [],
    services: ['a'],
    nodes: [],
  },
  { desc: 'a node check fails', before: [], after: [check('n2', 'serfHealth')], services: [], nodes: ['n2'] },
  {
    desc: 'one in, one out, one kept',
    before: [check('n1', 'c', 'a'), check('n1', 'd', 'b')],
    after: [check('n1', 'd', 'b'), check('n3', 'e', 'c')],
    services: ['a', 'c'],
    nodes: [],
  },
  {
    desc: 'the same check with other tags',
    before: [check('n1', 'c', 'a')],
    after: [{ ...check('n1', 'c', 'a'), ServiceTags: ['x'] }],
    services: ['a'],
    nodes: [],
  },
]

test('status set: what entered or left the state between two answers', () => {
  for (const c of cases) {
    const set = new StatusSet()
    assert.equal(set.update(c.before), null, `${c.desc}: the first answer is the baseline`)
    const got = set.update(c.after)
    assert.deepEqual(
      { services: [...(got?.services ?? [])].sort(), nodes: [...(got?.nodes ?? [])].sort() },
      { services: c.services, nodes: c.nodes },
      c.desc,
    )
  }
  assert.equal(new StatusSet().update({ not: 'a list' }), null)
})
