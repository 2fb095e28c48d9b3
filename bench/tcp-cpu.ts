/**
 * CPU per relayed round trip in TCP mode: lb vs haproxy vs the least a Node process can do (bench/bare-relay.ts),
 * in front of the same echo server. Unlike load-tcp.ts's req/s, this does not depend on how the 2 cores are
 * shared with the load generator and the backend, so it holds up on a busy or stolen-from VM: each proxy's user
 * and system CPU (from /proc, clock ticks) is divided by the round trips it relayed.
 *
 * The client (this process) keeps `--conns` connections each sending a `--size`-byte message and waiting for
 * its echo, `--rounds` round trips in all per run; the targets take turns, `--runs` times each.
 *
 *   npm run build && node dist/bench/tcp-cpu.js [--rounds 100000] [--runs 3] [--conns 50] [--size 64]
 *
 * Needs the Debian package haproxy (the haproxy row is left out without it).
 */
import { spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import {
  fail,
  findBinary,
  freePort,
  isEntryPoint,
  processCpu,
  runBench,
  startHaproxyWith,
  startLbWith,
  startProcess,
  versionOf,
  waitForPort,
  wholeNumber,
  type Proc,
} from './load.js'
import { haproxyTcpConfig, lbTcpConfig } from './load-tcp.js'
import { printRuntime } from './runtime.js'

const USAGE = 'usage: node dist/bench/tcp-cpu.js [--rounds N] [--runs N] [--conns N] [--size BYTES]'

interface Options {
  rounds: number
  runs: number
  conns: number
  size: number
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { rounds: 100_000, runs: 3, conns: 50, size: 64 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--rounds') o.rounds = wholeNumber(arg, argv[++i], 1_000, USAGE)
    else if (arg === '--runs') o.runs = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--conns') o.conns = wholeNumber(arg, argv[++i], 1, USAGE)
    else if (arg === '--size') o.size = wholeNumber(arg, argv[++i], 1, USAGE)
    else fail(USAGE)
  }
  return o
}

/** `rounds` round trips of `size` bytes over `conns` connections to `port`. */
async function pingPong(port: number, o: Options, rounds: number): Promise<void> {
  const msg = Buffer.alloc(o.size, 120)
  let left = rounds
  const one = async (): Promise<void> => {
    const c: Socket = connect(port, '127.0.0.1')
    c.setNoDelay(true)
    await once(c, 'connect')
    await new Promise<void>((resolve, reject) => {
      let got = 0
      c.on('error', reject)
      c.on('data', (d: Buffer) => {
        got += d.length
        while (got >= o.size) {
          got -= o.size
          if (left-- > 0) c.write(msg)
          else {
            c.destroy()
            resolve()
            return
          }
        }
      })
      left--
      c.write(msg)
    })
  }
  await Promise.all(Array.from({ length: o.conns }, one))
}

interface Target {
  readonly name: string
  readonly proc: Proc
  readonly port: number
}

async function startEcho(): Promise<{ port: number; stop: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      "const s=require('net').createServer({noDelay:true},c=>{c.on('error',()=>{});c.pipe(c)}).listen(0,'127.0.0.1',()=>console.log(s.address().port))",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer]
  return { port: Number(chunk.toString().trim()), stop: () => child.kill() }
}

async function run(o: Options): Promise<void> {
  printRuntime()
  const echo = await startEcho()
  try {
    const targets: Target[] = []
    const lb = await startLbWith((port) => lbTcpConfig(port, echo.port))
    targets.push({ name: 'lb', proc: lb.proc, port: lb.port })
    const barePort = await freePort()
    const bare = startProcess(
      'bare-relay',
      process.execPath,
      [fileURLToPath(new URL('./bare-relay.js', import.meta.url)), String(barePort), String(echo.port)],
      'ignore',
    )
    await waitForPort(bare, barePort)
    targets.push({ name: 'bare node', proc: bare, port: barePort })
    const haproxy = findBinary('haproxy')
    if (haproxy !== undefined) {
      const h = await startHaproxyWith(haproxy, (port) => haproxyTcpConfig(port, echo.port))
      targets.push({ name: 'haproxy', proc: h.proc, port: h.port })
    }
    for (const t of targets) await pingPong(t.port, o, Math.min(20_000, o.rounds)) // warm-up
    const rows: Record<string, string | number>[] = []
    for (let r = 0; r < o.runs; r++) {
      for (const t of targets) {
        const c0 = processCpu(t.proc.pid)
        const t0 = performance.now()
        await pingPong(t.port, o, o.rounds)
        const wall = performance.now() - t0
        const c1 = processCpu(t.proc.pid)
        const per = (seconds: number): number => Math.round(((seconds * 1e6) / o.rounds) * 100) / 100
        rows.push({
          run: r + 1,
          target: t.name,
          'µs cpu / round trip': per(c1.user - c0.user + c1.sys - c0.sys),
          'µs user': per(c1.user - c0.user),
          'µs sys': per(c1.sys - c0.sys),
          'round trips/s': Math.round((o.rounds * 1000) / wall),
        })
      }
    }
    console.table(rows)
    console.log(
      `${o.rounds} round trips of ${o.size} bytes over ${o.conns} connections per run; CPU from /proc ` +
        '(clock ticks)' +
        (haproxy !== undefined
          ? `; ${versionOf(haproxy, '-v').split('\n')[0] ?? ''}`
          : '; haproxy not found'),
    )
  } finally {
    echo.stop()
  }
}

if (isEntryPoint(import.meta.url)) {
  const o = parseOptions(process.argv.slice(2))
  process.exitCode = await runBench(() => run(o))
}
