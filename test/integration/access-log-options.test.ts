/**
 * log.access options end to end: the haproxy httplog text line for a proxied request, and filters that keep
 * only errors and slow requests (what a busy node runs with).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { baseConfig, service, route, until } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream, type Handler } from '../helpers/upstream.js'
import { createAccessLogger } from '../../src/log/log.js'
import { Worker } from '../../src/process/worker.js'
import { configToSnapshot } from '../../src/provider/file.js'
import type { MutableConfig } from '../../src/config/types.js'

/** An lb whose access log is built by `createAccessLogger` from `c.log` (the daemon's path), into `lines`. */
async function startWithAccessLog(
  edit: (c: MutableConfig) => void,
): Promise<{ url: string; lines: string[]; close: () => Promise<void> }> {
  const config = baseConfig()
  edit(config)
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(l)
      cb()
    },
  })
  const worker = new Worker({
    config,
    log: pino({ level: 'silent' }),
    accessLog: createAccessLogger(config.log, stream),
  })
  await worker.apply(configToSnapshot(config))
  await worker.syncListeners(config, 0)
  const port = [...worker.ports().values()][0] ?? 0
  return { url: `http://127.0.0.1:${port}`, lines, close: () => worker.stop(1_000) }
}

test('access log: format httplog writes haproxy text lines', async () => {
  const a = await startUpstream('a')
  const lb = await startWithAccessLog((c) => {
    c.log.access.format = 'httplog'
    c.services = [service('a', [a.port])]
    c.routes = [route('', '/', 'a')]
  })
  try {
    assert.equal((await get(lb.url, '/hello?x=1')).status, 200)
    assert.equal((await get(lb.url, '/', { host: 'nowhere', method: 'DELETE' })).status, 200)
    await until(() => lb.lines.length === 2, 'two access lines')
    assert.match(
      lb.lines[0] as string,
      /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] test a\/s0 -\/0\/\d+\/\d+\/\d+ 200 1 - - ---- -\/-\/-\/-\/0 -\/- "GET \/hello\?x=1"$/,
    )
    assert.match(lb.lines[1] as string, / 200 1 - - ---- .* "DELETE \/"$/)
  } finally {
    await lb.close()
    await a.close()
  }
})

test('access log: errors + slow filters keep only failed and slow requests', async () => {
  const slowOrFast: Handler = (req, res) => {
    const delay = req.url === '/slow' ? 150 : 0
    setTimeout(() => res.end('ok'), delay)
  }
  const a = await startUpstream('a', slowOrFast)
  const lb = await startWithAccessLog((c) => {
    c.log.access.errors = true
    c.log.access.slowMs = 100
    c.services = [service('a', [a.port])]
    c.routes = [route('', '/', 'a')]
  })
  try {
    assert.equal((await get(lb.url, '/fast')).status, 200)
    assert.equal((await get(lb.url, '/slow')).status, 200)
    assert.equal((await get(lb.url, '/fast')).status, 200)
    await a.close()
    assert.equal((await get(lb.url, '/fast')).status, 503)
    await until(() => lb.lines.length >= 2, 'the slow and the failed line')
    const parsed = lb.lines.map((l) => JSON.parse(l) as { uri: string; status: number; ts: string })
    assert.deepEqual(
      parsed.map((p) => [p.uri, p.status, p.ts]),
      [
        ['/slow', 200, '--'],
        ['/fast', 503, 'SC'],
      ],
    )
  } finally {
    await lb.close()
  }
})
