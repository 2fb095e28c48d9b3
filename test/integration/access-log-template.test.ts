/** fabio's access-log templates (`log.access.format`: fabio's combined format plus `$upstream_*` fields) from a running lb. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { baseConfig, service, route } from '../helpers/lb.js'
import { get } from '../helpers/client.js'
import { startUpstream } from '../helpers/upstream.js'
import { Worker } from '../../src/process/worker.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { createAccessLogger } from '../../src/log/log.js'
import { COMBINED_FORMAT } from '../../src/fabio/access-log.js'

test('access log: combined and a $field template', async () => {
  const up = await startUpstream('u')
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'))
      cb()
    },
  })
  const config = baseConfig()
  config.services = [service('svc', [up.port])]
  config.routes = [route('', '/', 'svc')]
  config.log.access.format = `${COMBINED_FORMAT} $upstream_addr $upstream_request_uri $upstream_service`
  const worker = new Worker({
    config,
    log: pino({ level: 'silent' }),
    accessLog: createAccessLogger(config.log, sink),
  })
  await worker.apply(configToSnapshot(config))
  await worker.syncListeners(config, 0)
  const port = [...worker.ports().values()][0] ?? 0
  try {
    const r = await get(`http://127.0.0.1:${port}`, '/a?b=1', {
      host: 'site.test',
      headers: {
        referer: 'http://ref.test/',
        'user-agent': 'ua/1',
        authorization: 'Basic c2VjcmV0OnNlY3JldA==',
      },
    })
    assert.equal(r.status, 200)
    for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((resolve) => setImmediate(resolve))
    const line = lines.join('')
    assert.match(
      line,
      new RegExp(
        String.raw`^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET /a\?b=1 HTTP/1\.1" 200 1 "http://ref\.test/" "ua/1" 127\.0\.0\.1:${up.port} /a\?b=1 svc\n$`,
      ),
    )
    assert.ok(!line.includes('c2VjcmV0'), 'credentials are not logged')
  } finally {
    await worker.stop(1_000)
    await up.close()
  }
})
