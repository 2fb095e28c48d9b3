/**
 * src/net/node-internals.ts: on a supported Node every internal lb uses is found (so a Node upgrade that moves
 * one fails here, not silently as a slower fallback), and switched off every capability is null.
 */
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { test } from 'node:test'
import {
  describeNodeInternals,
  detectNodeInternals,
  internalsWanted,
  logNodeInternals,
  nodeInternals,
  readIntoBuffers,
  socketHandle,
} from '../../src/net/node-internals.js'

test('node-internals: every capability is found on this Node', () => {
  const i = detectNodeInternals(true)
  assert.ok(i.tcpWrap !== null, `no usable tcp_wrap binding in Node ${process.versions.node}`)
  assert.ok(i.streamWrap !== null, `no usable stream_wrap binding in Node ${process.versions.node}`)
  assert.ok(
    i.onreadSlots !== null,
    `no kBuffer/kBufferCb/kBufferGen slots on net.Socket in ${process.versions.node}`,
  )
  assert.ok(i.unrefTimer, `no net.Socket _unrefTimer in Node ${process.versions.node}`)
  assert.ok(i.gc() !== null, 'no gc function: releasing memory would be a no-op on this Node')
  assert.deepEqual(Object.values(describeNodeInternals(i)), [true, true, true, true])
})

test('node-internals: the gc found without --expose-gc frees unreachable objects and is not a global', async () => {
  const gc = detectNodeInternals(true).gc()
  assert.ok(gc !== null)
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'not leaked as a global')
  let ref: WeakRef<object> | null = null
  ;(() => {
    ref = new WeakRef({ big: new Array(1000).fill(1) })
  })()
  await new Promise((resolve) => setImmediate(resolve)) // a WeakRef's target lives until the job ends
  gc()
  assert.equal((ref as WeakRef<object> | null)?.deref(), undefined)
})

test('node-internals: switched off, every capability is null and no accessor reaches inside a socket', () => {
  const i = detectNodeInternals(false)
  assert.equal(i.enabled, false)
  assert.equal(i.tcpWrap, null)
  assert.equal(i.streamWrap, null)
  assert.equal(i.onreadSlots, null)
  assert.equal(i.unrefTimer, false)
  assert.equal(i.gc(), null)
  assert.deepEqual(Object.values(describeNodeInternals(i)), [false, false, false, false])
  const s = new Socket()
  assert.equal(socketHandle(s, i), null)
  assert.equal(
    readIntoBuffers(
      s,
      () => Buffer.alloc(16),
      () => true,
      i,
    ),
    false,
  )
})

const envCases: { desc: string; env: NodeJS.ProcessEnv; want: boolean }[] = [
  { desc: 'unset', env: {}, want: true },
  { desc: 'off', env: { LB_NODE_INTERNALS: 'off' }, want: false },
  { desc: 'on', env: { LB_NODE_INTERNALS: 'on' }, want: true },
]
for (const c of envCases) {
  test(`node-internals: LB_NODE_INTERNALS ${c.desc} → internals ${c.want ? 'on' : 'off'}`, () => {
    assert.equal(internalsWanted(c.env), c.want)
  })
}

test('node-internals: this process follows its LB_NODE_INTERNALS', () => {
  assert.equal(nodeInternals.enabled, internalsWanted(process.env))
})

test('node-internals: one log line says which fast paths are on', () => {
  for (const enabled of [true, false]) {
    const lines: [object, string][] = []
    logNodeInternals({ info: (obj, msg) => lines.push([obj, msg]) }, detectNodeInternals(enabled))
    assert.equal(lines.length, 1)
    const [fields, msg] = lines[0] as [Record<string, unknown>, string]
    assert.equal(fields.nodeInternals, enabled ? 'on' : 'off')
    assert.equal(fields.node, process.versions.node)
    for (const name of ['tcpCheckHandle', 'tcpDirectWrite', 'tcpAcceptedOnread', 'memoryReleaseGc'])
      assert.equal(fields[name], enabled, name)
    assert.match(msg, enabled ? /fast paths/ : /LB_NODE_INTERNALS=off/)
  }
})
