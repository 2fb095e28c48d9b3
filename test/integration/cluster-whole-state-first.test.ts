/**
 * Cluster mode (workers: 2): a whole state (here a reload that changes the config) goes to the workers as one
 * message serialized once for both (`lb:apply-packed`), and the primary applies its own copy (the admin API's
 * view) only after both workers acked it, so that its apply does not take a core from theirs
 * (src/process/primary.ts `#publishFirst`, src/process/worker-pool.ts `#sendFull`).
 */
import assert from 'node:assert/strict'
import cluster, { type Worker as ClusterWorker } from 'node:cluster'
import { writeFile } from 'node:fs/promises'
import { test } from 'node:test'
import { unpackWhole } from '../../src/process/ipc.js'
import { ClusterLb } from '../helpers/cluster.js'
import { configHead, fetchOnce } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'

const config = (port: number, paths: readonly string[]): string => `${configHead()}services:
  - name: svc
    servers:
      - name: a1
        address: 127.0.0.1:${port}
routes:
${paths.map((p) => `  - path: ${p}\n    service: svc\n`).join('')}`

test('cluster: a whole state reaches the workers, serialized once, before the primary applies it', async () => {
  const a = await startUpstream('a')
  let lb: ClusterLb | null = null
  const events: string[] = []
  // The version of the whole state sent, then the acks of that version only.
  let version = -1
  const onMessage = (w: ClusterWorker, msg: { type?: string; version?: number }): void => {
    if (msg.type === 'lb:ack' && msg.version === version) events.push(`ack from ${w.id}`)
  }
  try {
    lb = await ClusterLb.start(config(a.port, ['/a']))
    const primary = lb.p
    for (const w of Object.values(cluster.workers ?? {})) {
      if (w === undefined) continue
      const send = w.send.bind(w) as (...args: unknown[]) => boolean
      ;(w as { send: (...args: unknown[]) => boolean }).send = (...args: unknown[]) => {
        const msg = args[0] as { type?: string; bytes?: Uint8Array }
        const type = msg.type ?? ''
        if (type.startsWith('lb:apply')) {
          version = msg.bytes === undefined ? -1 : unpackWhole(msg.bytes).version
          events.push(`${type} to ${w.id}`)
        }
        return send(...args)
      }
    }
    cluster.on('message', onMessage)
    const apply = primary.worker.apply.bind(primary.worker)
    primary.worker.apply = (...args: Parameters<typeof apply>) => {
      events.push('primary applies')
      return apply(...args)
    }
    await writeFile(primary.configPath, config(a.port, ['/a', '/b']))
    const result = await primary.reload()
    assert.equal(result.ok, true, JSON.stringify(result))
    const ids = Object.keys(cluster.workers ?? {}).map(Number)
    assert.equal(ids.length, 2)
    const sent = events.filter((e) => e.startsWith('lb:apply'))
    assert.deepEqual(sent.sort(), ids.map((id) => `lb:apply-packed to ${id}`).sort())
    const applies = events.indexOf('primary applies')
    assert.ok(applies > 0, events.join(', '))
    assert.deepEqual(
      events
        .slice(0, applies)
        .filter((e) => e.startsWith('ack'))
        .sort(),
      ids.map((id) => `ack from ${id}`).sort(),
      `both workers acked before the primary applied: ${events.join(', ')}`,
    )
    const port = await lb.port('web')
    assert.equal((await fetchOnce(port, '/b')).body, 'a')
  } finally {
    cluster.off('message', onMessage)
    await lb?.stop()
    await a.close()
  }
})
