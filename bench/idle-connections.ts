/**
 * Memory and fd cost of idle client connections: starts the real daemon (single process) and holds N idle
 * keep-alive connections open against it (each sent one request, then nothing), reading the daemon's RSS
 * and open fds from /proc before, while held, and after they close. With `--maxconn M` the daemon runs with
 * `http.maxconn: M` and the report also shows how many connections it kept.
 *
 *   npm run build && node dist/bench/idle-connections.js [--conns 10000] [--maxconn 0]
 *
 * The client side holds N sockets too, so this needs `ulimit -n` above N + a few hundred in both processes.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { printRuntime } from './runtime.js'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  return i < 0 ? fallback : Number(process.argv[i + 1])
}

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen({ host: '127.0.0.1', port: 0 }, r))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

async function usage(pid: number): Promise<{ rssMiB: number; fds: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return { rssMiB: Math.round((kb / 1024) * 10) / 10, fds: (await readdir(`/proc/${pid}/fd`)).length }
}

/** Opens one connection and sends one request; resolves with the socket once the answer arrived (or it closed). */
function idleConnection(port: number): Promise<{ socket: Socket; open: () => boolean }> {
  return new Promise((resolve) => {
    let open = true
    const socket = connect({ host: '127.0.0.1', port })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      open = false
      resolve({ socket, open: () => open })
    })
    socket.once('connect', () => socket.write('GET / HTTP/1.1\r\nHost: idle\r\n\r\n'))
    socket.once('data', () => resolve({ socket, open: () => open }))
  })
}

async function main(): Promise<void> {
  printRuntime()
  const conns = arg('--conns', 10_000)
  const maxconn = arg('--maxconn', 0)
  const dir = await mkdtemp(join(tmpdir(), 'lb-idle-'))
  const port = await freePort()
  const config = join(dir, 'lb.yaml')
  await writeFile(
    config,
    [
      'listeners: [{ address: "127.0.0.1:' + port + '" }]',
      'admin: { address: off }',
      'log: { level: warn, access: { enabled: false } }',
      `http: { maxconn: ${maxconn}, timeouts: { http_request: 60s, keep_alive: 120s, client: 120s } }`,
      'routes: [{ path: /, redirect: { code: 301, url: /x } }]',
      '',
    ].join('\n'),
  )
  const main = fileURLToPath(new URL('../src/main.js', import.meta.url))
  const child = spawn(process.execPath, [main, '--config', config], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const pid = child.pid ?? 0
  try {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => {
        const s = connect({ host: '127.0.0.1', port }, () => {
          s.destroy()
          r(true)
        })
        s.on('error', () => r(false))
      })
      if (ok) break
      await sleep(100)
    }
    await sleep(500)
    const before = await usage(pid)
    const held: { socket: Socket; open: () => boolean }[] = []
    for (let i = 0; i < conns; i += 500) {
      const batch: Promise<{ socket: Socket; open: () => boolean }>[] = []
      for (let k = i; k < Math.min(conns, i + 500); k++) batch.push(idleConnection(port))
      held.push(...(await Promise.all(batch)))
    }
    await sleep(1_000)
    const during = await usage(pid)
    const kept = held.filter((c) => c.open()).length
    for (const c of held) c.socket.destroy()
    await sleep(2_000)
    const after = await usage(pid)
    const per = kept === 0 ? 0 : ((during.rssMiB - before.rssMiB) * 1024) / kept
    console.table([
      { phase: 'before', 'RSS MiB': before.rssMiB, fds: before.fds },
      { phase: `${conns} idle (${kept} kept)`, 'RSS MiB': during.rssMiB, fds: during.fds },
      { phase: 'after close', 'RSS MiB': after.rssMiB, fds: after.fds },
    ])
    console.log(
      `≈ ${per.toFixed(1)} KiB RSS per idle connection (maxconn ${maxconn === 0 ? 'off' : maxconn})`,
    )
  } finally {
    child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
