/**
 * Run lb's serving side in-process on 127.0.0.1 port 0 with a config written as an edit of the defaults.
 */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { Config, MutableConfig } from '../../src/config/types.js'
import { defaultConfig } from '../../src/config/defaults.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { Worker } from '../../src/process/worker.js'
import { applyLocal, localHealth } from '../../src/process/local.js'
import type { HealthService } from '../../src/health/service.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { createAccessLogger } from '../../src/log/log.js'

export interface AccessLine {
  readonly [key: string]: unknown
  readonly status: number
  readonly ts: string
}

export interface TestLb {
  readonly worker: Worker
  /** The health service, wired to the worker as the primary wires its own (src/process/local.ts). */
  readonly health: HealthService
  /** A new snapshot for the health service and the worker. */
  apply(snapshot: Snapshot): Promise<void>
  readonly port: number
  readonly url: string
  readonly access: AccessLine[]
  readonly config: Config
  close(): Promise<void>
}

export function baseConfig(): MutableConfig {
  const c = structuredClone(defaultConfig) as MutableConfig
  c.listeners = [{ name: 'test', host: '127.0.0.1', port: 0, mode: 'http' }]
  c.admin.port = 0
  c.log.level = 'silent'
  return c
}

/**
 * `productionAccessLog`: the access logger is src/log/log.ts `createAccessLogger` (as the daemon makes it, with its
 * preformatted JSON lines) writing into the test's sink, instead of a plain pino logger.
 */
export async function startLb(
  edit: (c: MutableConfig) => void,
  rand?: () => number,
  productionAccessLog = false,
): Promise<TestLb> {
  const config = baseConfig()
  edit(config)
  const access: AccessLine[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line !== '') access.push(JSON.parse(line) as AccessLine)
      cb()
    },
  })
  const accessLog = productionAccessLog
    ? createAccessLogger(config.log, sink)
    : pino({ base: null, timestamp: false }, sink)
  const log = pino({ level: process.env.LB_TEST_LOG ?? 'silent' })
  const worker = new Worker({ config, log, accessLog, ...(rand === undefined ? {} : { rand }) })
  const health = localHealth(worker, log)
  await applyLocal(worker, health, configToSnapshot(config))
  await worker.syncListeners(config, 0)
  const port = [...worker.ports().values()][0] ?? 0
  return {
    worker,
    health,
    apply: (snapshot) => applyLocal(worker, health, snapshot),
    port,
    url: `http://127.0.0.1:${port}`,
    access,
    config,
    close: () => {
      health.stop()
      return worker.stop(1_000)
    },
  }
}

/** A service with the given upstream ports, in the YAML-loaded shape. */
export function service(
  name: string,
  ports: readonly number[],
  extra: Partial<MutableConfig['services'][number]> = {},
): MutableConfig['services'][number] {
  return {
    name,
    balance: 'roundrobin',
    retries: 2,
    maxConnections: 16,
    proto: 'http',
    tlsSkipVerify: false,
    timeouts: { connect: 1_000, server: 5_000, body: 5_000, keepAlive: 4_000 },
    check: null,
    observe: null,
    slowstart: 0,
    maxqueue: 0,
    onMarkedDown: 'none',
    sendProxy: 'none',
    servers: ports.map((port, i) => ({
      name: `s${i}`,
      host: '127.0.0.1',
      port,
      weight: 1,
      backup: false,
      maxconn: 0,
      state: 'up' as const,
      check: true,
    })),
    ...extra,
  }
}

export function route(
  host: string,
  path: string,
  svc: string,
  extra: Partial<MutableConfig['routes'][number]> = {},
): MutableConfig['routes'][number] {
  return { host, path, service: svc, strip: '', prepend: '', hostHeader: '', redirect: null, ...extra }
}

/** Change server `index` of `svc` (throws when it does not exist). */
export function patchServer(
  svc: MutableConfig['services'][number],
  index: number,
  patch: Partial<MutableConfig['services'][number]['servers'][number]>,
): void {
  const current = svc.servers[index]
  if (current === undefined) throw new Error(`no server ${index} in ${svc.name}`)
  svc.servers[index] = { ...current, ...patch }
}

/** A `mode: tcp` listener on 127.0.0.1 port 0 (defaults from `tcpListenerDefaults`). */
export function tcpListener(
  name: string,
  service: string,
  extra: Partial<Extract<MutableConfig['listeners'][number], { mode: 'tcp' }>> = {},
): MutableConfig['listeners'][number] {
  return {
    name,
    host: '127.0.0.1',
    port: 0,
    mode: 'tcp',
    acceptProxy: false,
    service,
    sniRoutes: [],
    timeouts: { client: 10_000, server: 10_000, tunnel: 60_000 },
    ...extra,
  }
}

/** Bound port of listener `name`. */
export function portOf(lb: TestLb, name: string): number {
  const p = lb.worker.ports().get(name)
  if (p === undefined) throw new Error(`no listener ${name}`)
  return p
}

/**
 * Wait until `cond()` holds, yielding to I/O between checks; gives up after 10 s of wall-clock time. No timers and
 * `performance.now()` (which mock timers leave alone), so tests with mocked timers can use it too.
 */
export async function until(cond: () => boolean, what = 'condition', ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}
