/**
 * Cluster scaling: the same keep-alive HTTP load against lb with `workers: 1` (one process) and `workers: 2`
 * (cluster). On Linux with Node ≥ 22.12 every worker listens itself with reusePort (src/net/listen.ts), so the
 * scheduling policy does not apply and there is one `workers 2 (reusePort)` row; elsewhere both policies run:
 * round-robin through the primary, and `none` = workers accept on the shared socket. The upstream runs in its own process; the client is this process (a Node loop, `--connections`
 * keep-alive sockets). Run: `npm run build && node dist/bench/cluster.js [--seconds 5] [--connections 32]`.
 * On a machine with few cores the client, the upstream and lb share them: read the numbers relative to
 * each other, and check `busy` (other processes' CPU) before trusting them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { availableParallelism, loadavg } from 'node:os'
import { clusterConfig } from '../test/helpers/daemon.js'
import { mainJs, writeConfig } from '../test/helpers/process.js'
import { printRuntime } from './runtime.js'
import { supportsReusePort } from '../src/net/listen.js'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback
  return Number.isFinite(v) && v > 0 ? v : fallback
}

const seconds = arg('seconds', 5)
const connections = arg('connections', 32)

function waitLine(
  child: ChildProcess,
  pred: (l: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = ''
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)))
    const onData = (chunk: Buffer): void => {
      buf += chunk.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        try {
          const l = JSON.parse(line) as Record<string, unknown>
          if (pred(l)) {
            child.stderr?.off('data', onData)
            child.stderr?.resume()
            resolve(l)
          }
        } catch {
          // not JSON
        }
      }
    }
    child.stderr?.on('data', onData)
  })
}

const upstreamCode = `
const http = require('node:http')
const s = http.createServer((q, r) => { q.resume(); r.end('ok') })
s.keepAliveTimeout = 60000
s.listen(0, '127.0.0.1', () => process.stderr.write(JSON.stringify({ msg: 'up', port: s.address().port }) + '\\n'))
`

async function load(port: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  let done = 0
  let counting = false
  let running = true
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume()
        res.on('end', () => {
          if (counting && res.statusCode === 200) done++
          resolve()
        })
      })
      req.on('error', () => resolve())
      req.end()
    })
  const loops = Array.from({ length: connections }, async () => {
    while (running) await one()
  })
  await new Promise((r) => setTimeout(r, 1_000)) // warm-up
  counting = true
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, seconds * 1_000))
  counting = false
  const rate = done / ((performance.now() - t0) / 1_000)
  running = false
  await Promise.all(loops)
  agent.destroy()
  return rate
}

async function run(workers: number, policy: 'rr' | 'none', upstream: number): Promise<number> {
  const file = await writeConfig(clusterConfig({ upstream, workers }))
  const child = spawn(process.execPath, [mainJs, '--config', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_CLUSTER_SCHED_POLICY: policy },
  })
  let port = 0
  await waitLine(child, (l) => {
    if (l.msg === 'listening' && typeof l.port === 'number') port = l.port
    return l.msg === 'started'
  })
  const rate = await load(port)
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  return rate
}

printRuntime()
const up = spawn(process.execPath, ['-e', upstreamCode], { stdio: ['ignore', 'ignore', 'pipe'] })
const upstreamPort = (await waitLine(up, (l) => l.msg === 'up')).port as number
const rows: string[] = []
const reusePort = supportsReusePort(process.versions.node, process.platform)
const plans = reusePort
  ? ([
      [1, 'rr'],
      [2, 'rr'],
    ] as const)
  : ([
      [1, 'rr'],
      [2, 'rr'],
      [2, 'none'],
    ] as const)
for (const [workers, policy] of plans) {
  const rate = await run(workers, policy, upstreamPort)
  const how = workers === 1 ? '' : reusePort ? ' (reusePort)' : ` sched ${policy}`
  rows.push(`workers ${workers}${how}: ${Math.round(rate)} req/s`)
  process.stdout.write(rows[rows.length - 1] + '\n')
}
up.kill()
process.stdout.write(
  `cores ${availableParallelism()}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, ${connections} connections, ${seconds}s each\n`,
)
