import { test } from 'node:test'
import assert from 'node:assert/strict'
import { minimalEntries } from '../../../src/provider/consul/entries.js'

// At 10,000 services × 3 on 100 nodes, a Node object per instance was 30,000 objects for 100 nodes, and a copy of
// every tag list made by `filter` kept room for 17 strings: together about 2 MB of the provider's heap.

function entry(node: string, address: string, id: string, tags: unknown): unknown {
  return {
    Node: { Node: node, Address: address },
    Service: { ID: id, Service: 'web', Tags: tags, Address: '', Port: 80 },
    Checks: [{ CheckID: `service:${id}`, Status: 'passing', ServiceID: id }],
  }
}

test('instances on one node share its Node object, across answers, until the node moves', () => {
  const first = minimalEntries([
    entry('n-shared', '10.0.0.1', 'a', []),
    entry('n-shared', '10.0.0.1', 'b', []),
  ])
  const second = minimalEntries([entry('n-shared', '10.0.0.1', 'c', [])])
  assert.equal(first[0]?.Node, first[1]?.Node)
  assert.equal(second[0]?.Node, first[0]?.Node)
  assert.deepEqual(first[0]?.Node, { Node: 'n-shared', Address: '10.0.0.1' })

  const moved = minimalEntries([entry('n-shared', '10.0.0.2', 'd', [])])
  assert.deepEqual(moved[0]?.Node, { Node: 'n-shared', Address: '10.0.0.2' })
  assert.deepEqual(first[0]?.Node, { Node: 'n-shared', Address: '10.0.0.1' }, 'the old entries keep theirs')
})

test('a tag list of strings is kept as parsed; one with other values keeps its strings only', () => {
  const tags = ['urlprefix-/a', 'version-1']
  const [plain] = minimalEntries([entry('n', '10.0.0.1', 'a', tags)])
  assert.equal(plain?.Service.Tags, tags)

  const [mixed] = minimalEntries([entry('n', '10.0.0.1', 'b', ['urlprefix-/b', 7, null, 'x'])])
  assert.deepEqual(mixed?.Service.Tags, ['urlprefix-/b', 'x'])

  const [none] = minimalEntries([entry('n', '10.0.0.1', 'c', null)])
  assert.deepEqual(none?.Service.Tags, [])
})
