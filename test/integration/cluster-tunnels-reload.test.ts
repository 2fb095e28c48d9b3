/** A WebSocket and a TCP tunnel opened before a reload keep working after it (cluster mode, SIGHUP). */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { test } from 'node:test'
import { Daemon, configHead, fetchOnce } from '../helpers/daemon.js'
import { startTcp } from '../helpers/tls.js'
import { startUpstream } from '../helpers/upstream.js'
import { openWebSocket, startEchoServer } from '../helpers/websocket.js'

function config(ws: number, tcp: number, http: number, extraRoute: boolean): string {
  return `
# Bounded: the echo server keeps its half of the WebSocket open, so stopping waits for lb's tunnel fin timeout.
shutdown:
  timeout: 1s
${configHead()}  - name: raw
    address: 127.0.0.1:0
    mode: tcp
    service: tcp-echo
services:
  - name: ws
    servers:
      - address: 127.0.0.1:${ws}
  - name: tcp-echo
    servers:
      - address: 127.0.0.1:${tcp}
  - name: plain
    servers:
      - address: 127.0.0.1:${http}
routes:
  - path: /ws
    service: ws
${extraRoute ? '  - path: /new\n    service: plain\n' : ''}`
}

async function echoOnce(s: Socket, text: string): Promise<string> {
  s.write(text)
  const [chunk] = (await once(s, 'data')) as [Buffer]
  return chunk.toString()
}

test('cluster: a WebSocket and a TCP tunnel survive a reload', async () => {
  const echo = await startEchoServer()
  const tcp = await startTcp((s) => s.pipe(s))
  const plain = await startUpstream('plain')
  const lb = await Daemon.start(config(echo.port, tcp.port, plain.port, false))
  try {
    const web = await lb.port('web')
    const raw = await lb.port('raw')
    const ws = await openWebSocket(web, 'x.test', '/ws')
    assert.equal(await ws.send('before'), 'echo:before')
    const t = connect({ host: '127.0.0.1', port: raw })
    await once(t, 'connect')
    assert.equal(await echoOnce(t, 'before'), 'before')
    assert.equal((await fetchOnce(web, '/new')).status, 404)

    await lb.rewrite(config(echo.port, tcp.port, plain.port, true))
    lb.signal('SIGHUP')
    await lb.waitFor((l) => l.msg === 'configuration reloaded', 'reload')
    assert.equal((await fetchOnce(web, '/new')).body, 'plain')
    assert.equal(await ws.send('after'), 'echo:after')
    assert.equal(await echoOnce(t, 'after'), 'after')
    ws.socket.destroy()
    t.destroy()
    // The test echo server never closes its side of the WebSocket; lb closes the half-closed tunnel after
    // FIN_TIMEOUT (src/proxy/tunnel.ts), within shutdown.timeout.
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await echo.close()
    await plain.close()
    await tcp.close()
  }
})
