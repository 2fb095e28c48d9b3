/**
 * Shared by the test/hardening/upstream-*.test.ts files: a raw TCP upstream that parses just enough HTTP/1.1 to
 * count requests per method, answers healthily by default and misbehaves on demand; and a leak check that counts
 * this process's open file descriptors and live heap before and after a batch of faulty exchanges.
 */
import { readdirSync } from 'node:fs'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import assert from 'node:assert/strict'
import type { Agent } from 'undici'
import type { MutableConfig } from '../../src/config/types.js'
import { newAgent } from '../helpers/client.js'
import { route, service, startLb, type TestLb } from '../helpers/lb.js'

/** One parsed request: its head (request line + headers) and its body. */
export interface RawRequest {
  readonly method: string
  readonly head: string
  readonly body: Buffer
  /** Index of this request on its connection (0 = first). */
  readonly onSocket: number
}

/** What to do with a request: answer it (write bytes, maybe close) — `null` = the healthy default answer. */
export type Fault = (socket: Socket, req: RawRequest) => void

export interface RawUpstream {
  readonly port: number
  readonly server: Server
  /** Complete requests received, in order, over every connection. */
  readonly requests: RawRequest[]
  /** Connections accepted. */
  connections: number
  /** The misbehaviour for the next requests; `null` answers `200 ok` with keep-alive. */
  fault: Fault | null
  close(): Promise<void>
}

export const OK_RESPONSE = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok'

/** Answer healthily: `200 ok`, keep-alive. */
export function answerOk(socket: Socket): void {
  socket.write(OK_RESPONSE)
}

interface Conn {
  buf: Buffer
  count: number
}

export async function startRawUpstream(fault: Fault | null = null): Promise<RawUpstream> {
  const sockets = new Set<Socket>()
  const up: RawUpstream = {
    port: 0,
    server: createServer(),
    requests: [],
    connections: 0,
    fault,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        up.server.close(() => resolve())
      }),
  }
  up.server.on('connection', (socket: Socket) => {
    up.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    const conn: Conn = { buf: Buffer.alloc(0), count: 0 }
    socket.on('data', (chunk: Buffer) => {
      conn.buf = Buffer.concat([conn.buf, chunk])
      for (;;) {
        const end = conn.buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = conn.buf.subarray(0, end).toString('latin1')
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head)
        const length = cl === null ? 0 : Number(cl[1])
        if (conn.buf.length < end + 4 + length) return
        const body = conn.buf.subarray(end + 4, end + 4 + length)
        conn.buf = conn.buf.subarray(end + 4 + length)
        const req: RawRequest = {
          method: head.slice(0, head.indexOf(' ')),
          head,
          body: Buffer.from(body),
          onSocket: conn.count++,
        }
        up.requests.push(req)
        if (socket.destroyed) return
        if (up.fault === null) answerOk(socket)
        else up.fault(socket, req)
      }
    })
  })
  await new Promise<void>((resolve) => up.server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  ;(up as { port: number }).port = (up.server.address() as AddressInfo).port
  return up
}

/** A raw upstream as the one server (`svc/s0`) of service `svc` behind an in-process lb, and a client agent. */
export interface FaultRig {
  readonly up: RawUpstream
  readonly lb: TestLb
  readonly agent: Agent
  /** Closes the agent, the lb and the upstream. */
  close(): Promise<void>
}

/** Start a rig: the upstream misbehaves with `fault`; `svc` sets the service's options (retries, timeouts …). */
export async function startFaultRig(
  fault: Fault | null,
  svc: Partial<MutableConfig['services'][number]>,
): Promise<FaultRig> {
  const up = await startRawUpstream(fault)
  const lb = await startLb((cfg) => {
    cfg.services = [service('svc', [up.port], svc)]
    cfg.routes = [route('', '/', 'svc')]
  })
  const agent = newAgent()
  return {
    up,
    lb,
    agent,
    close: async () => {
      await agent.close()
      await lb.close()
      await up.close()
    },
  }
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length
}

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Live heap after a full collection (twice: weak callbacks and finalizers run between). */
export function liveHeap(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Let sockets closed by either side finish closing (a few turns of the event loop, no timers). */
export async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r))
}

/**
 * Run `round` `n` times after one warm-up round; assert the open fds and the live heap after are within bounds of
 * before (a leak of one fd or one exchange per round shows as ≥ n fds or ≥ n × exchange size).
 */
export async function assertNoLeak(
  round: () => Promise<void>,
  n = 50,
  limits: { fds?: number; heapBytes?: number } = {},
): Promise<{ fdsBefore: number; fdsAfter: number; heapBefore: number; heapAfter: number }> {
  await round()
  await settle()
  const fdsBefore = fdCount()
  const heapBefore = liveHeap()
  for (let i = 0; i < n; i++) await round()
  await settle()
  const fdsAfter = fdCount()
  const heapAfter = liveHeap()
  const fdSlack = limits.fds ?? 4
  const heapSlack = limits.heapBytes ?? 4 * 1024 * 1024
  assert.ok(
    fdsAfter <= fdsBefore + fdSlack,
    `fd leak: ${fdsBefore} open before ${n} rounds, ${fdsAfter} after (slack ${fdSlack})`,
  )
  assert.ok(
    heapAfter <= heapBefore + heapSlack,
    `heap grew ${heapAfter - heapBefore} bytes over ${n} rounds (slack ${heapSlack})`,
  )
  return { fdsBefore, fdsAfter, heapBefore, heapAfter }
}
