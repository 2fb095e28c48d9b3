/**
 * lb's TCP relay reads accepted client sockets through Node's private onread slots (src/proxy/tcp.ts
 * `onreadSlots`). On a Node whose internals moved, lb falls back to 'data' events and stays correct but slower;
 * this test makes that visible instead of silent on every Node version lb supports (20.18 to 24).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { onreadSlots } from '../../src/proxy/tcp.js'

test('tcp: Node’s onread slots are found, so accepted sockets read into a reusable buffer', () => {
  const major = Number(process.versions.node.split('.')[0])
  assert.ok(major >= 20, `lb supports Node ≥ 20.18, this is ${process.versions.node}`)
  assert.notEqual(
    onreadSlots,
    null,
    `no kBuffer/kBufferCb/kBufferGen slots on net.Socket in Node ${process.versions.node}`,
  )
})
