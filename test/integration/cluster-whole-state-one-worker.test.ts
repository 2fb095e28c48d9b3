/**
 * Cluster mode (workers: 2): a whole state sent to one worker alone (here each replacement of a rolling restart)
 * is packed as well (`lb:apply-packed`, src/process/worker-pool.ts `#sendFull`), so that the worker frees its
 * bytes before it applies them (src/process/worker-process.ts `StateReceiver.packed`), and it serves.
 */
import assert from 'node:assert/strict'
import cluster, { type Worker as ClusterWorker } from 'node:cluster'
import { test } from 'node:test'
import { ClusterLb } from '../helpers/cluster.js'
import { clusterConfig, fetchOnce } from '../helpers/daemon.js'
import { startUpstream } from '../helpers/upstream.js'

test('cluster: a worker started alone gets the whole state packed', async () => {
  const a = await startUpstream('a')
  let lb: ClusterLb | null = null
  const sent: string[] = []
  const onFork = (w: ClusterWorker): void => {
    const send = w.send.bind(w) as (...args: unknown[]) => boolean
    ;(w as { send: (...args: unknown[]) => boolean }).send = (...args: unknown[]) => {
      const type = (args[0] as { type?: string }).type ?? ''
      if (type.startsWith('lb:apply')) sent.push(`${type} to ${w.id}`)
      return send(...args)
    }
  }
  try {
    lb = await ClusterLb.start(clusterConfig({ upstream: a.port }))
    await lb.port('web')
    cluster.on('fork', onFork)
    assert.equal(await lb.p.restartWorkers(), true)
    await lb.waitFor((l) => l.msg === 'workers restarted', 'restart')
    const ids = Object.keys(cluster.workers ?? {}).map(Number)
    assert.equal(ids.length, 2)
    assert.deepEqual(sent.sort(), ids.map((id) => `lb:apply-packed to ${id}`).sort())
    assert.equal((await fetchOnce(await lb.port('web'), '/')).body, 'a')
  } finally {
    cluster.off('fork', onFork)
    await lb?.stop()
    await a.close()
  }
})
