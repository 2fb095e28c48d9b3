/**
 * lb's serving side wired to a Consul test server the way primary.ts wires it: the file provider and the Consul
 * provider feed a Watcher whose consumer is `worker.apply`. `applied(pred)` resolves after the first apply whose
 * snapshot satisfies `pred` (event-driven: no polling, no sleeps).
 */
import { pino } from 'pino'
import type { ConsulConfig, MutableConfig } from '../../src/config/types.js'
import { defaultConfig } from '../../src/config/defaults.js'
import { configToSnapshot } from '../../src/provider/file.js'
import { StaticProvider } from '../../src/provider/provider.js'
import { Watcher } from '../../src/provider/watcher.js'
import { ConsulProvider } from '../../src/provider/consul/consul.js'
import type { Snapshot } from '../../src/model/snapshot.js'
import { startLb, type TestLb } from './lb.js'
import { ConsulTestServer } from './consul-server.js'
import { startUpstream, type TestUpstream } from './upstream.js'

export interface ConsulLb {
  readonly lb: TestLb
  readonly provider: ConsulProvider
  readonly watcher: Watcher
  /** Every snapshot applied, in order. */
  readonly snapshots: Snapshot[]
  applied(pred: (s: Snapshot) => boolean, timeout?: number): Promise<Snapshot>
  close(): Promise<void>
}

export function consulConfig(address: string, edit: (c: ConsulConfig) => void = () => {}): ConsulConfig {
  // The shipped defaults, with test timing: short blocking waits, a fast rate limit and backoff, no throttle.
  const c: ConsulConfig = {
    ...(structuredClone(defaultConfig.consul) as ConsulConfig),
    enabled: true,
    addresses: [address],
    wait: 30_000,
    rateLimit: { interval: 10, burst: 20 },
    backoff: { min: 20, max: 200 },
    throttle: 0,
  }
  edit(c)
  return c
}

/**
 * A ConsulProvider alone against `address` (test timing, `edit` applied to its config), collecting what it
 * emits; `stop` aborts it.
 */
export function watchConsul(
  address: string,
  edit: (c: ConsulConfig) => void = () => {},
  nodeReadsFrom?: number,
): { snapshots: Snapshot[]; stop: () => void } {
  const provider = new ConsulProvider({
    config: consulConfig(address, edit),
    defaults: defaultConfig.defaults,
    log: pino({ level: 'silent' }),
    ...(nodeReadsFrom === undefined ? {} : { nodeReadsFrom }),
  })
  const snapshots: Snapshot[] = []
  const controller = new AbortController()
  provider.start((s) => snapshots.push(s), controller.signal)
  return { snapshots, stop: () => controller.abort() }
}

/** The first snapshot a ConsulProvider alone emits (see watchConsul), which is then stopped. */
export async function firstConsulSnapshot(
  address: string,
  edit: (c: ConsulConfig) => void = () => {},
  nodeReadsFrom?: number,
): Promise<Snapshot> {
  const { snapshots, stop } = watchConsul(address, edit, nodeReadsFrom)
  try {
    await waitFor(() => snapshots.length > 0)
    return snapshots[0] as Snapshot
  } finally {
    stop()
  }
}

export async function startConsulLb(
  address: string,
  options: {
    edit?: (c: MutableConfig) => void
    consul?: (c: ConsulConfig) => void
    rand?: () => number
    onBurst?: () => void
  } = {},
): Promise<ConsulLb> {
  let config: MutableConfig | null = null
  const lb = await startLb((c) => {
    c.consul = consulConfig(address, options.consul)
    options.edit?.(c)
    config = c
  }, options.rand)
  const cfg = config as unknown as MutableConfig
  const snapshots: Snapshot[] = []
  const waiters = new Set<{ pred: (s: Snapshot) => boolean; resolve: (s: Snapshot) => void }>()
  const controller = new AbortController()
  const log = pino({ level: process.env.LB_TEST_LOG ?? 'silent' })
  const provider = new ConsulProvider({
    config: cfg.consul,
    defaults: cfg.defaults,
    log,
    // As the daemon runs it (src/process/primary.ts).
    qualify: true,
    ...(options.onBurst === undefined ? {} : { onBurst: options.onBurst }),
  })
  const watcher = new Watcher({
    providers: [new StaticProvider('file', configToSnapshot(cfg))],
    window: cfg.consul.throttle,
    consumer: async (s) => {
      await lb.apply(s)
      snapshots.push(s)
      for (const w of waiters) {
        if (w.pred(s)) {
          waiters.delete(w)
          w.resolve(s)
        }
      }
    },
  })
  watcher.start(controller.signal)
  watcher.add(provider, controller.signal)
  return {
    lb,
    provider,
    watcher,
    snapshots,
    applied(pred, timeout = 10_000) {
      const last = snapshots[snapshots.length - 1]
      if (last !== undefined && pred(last)) return Promise.resolve(last)
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (s: Snapshot) => {
            clearTimeout(timer)
            resolve(s)
          },
        }
        const timer = setTimeout(() => {
          waiters.delete(w)
          reject(
            new Error(
              `no matching snapshot within ${timeout} ms; last: ${JSON.stringify(snapshots.at(-1)?.routes)}`,
            ),
          )
        }, timeout)
        waiters.add(w)
      })
    },
    async close() {
      controller.abort()
      await lb.close()
    },
  }
}

/** The server names (sorted) of the service `s` routes `path` to; [] when none. */
export function serversAt(s: Snapshot, path: string): string[] {
  const r = s.routes.find((x) => x.path === path)
  const svc = s.services.find((x) => x.name === r?.service)
  return (svc?.servers ?? []).map((v) => v.name).sort()
}

/**
 * Services `s0`…`s<services - 1>`, each with an instance `s<s>-<i>` on node `node-<i>` for i < `instances`,
 * at 10.0.<s>.<i + 1>:8000, tagged `urlprefix-/s<s>`.
 */
export function registerGrid(consul: ConsulTestServer, services: number, instances: number): void {
  for (let s = 0; s < services; s++) {
    for (let i = 0; i < instances; i++)
      consul.register({
        id: `s${s}-${i}`,
        service: `s${s}`,
        node: `node-${i}`,
        address: `10.0.${s}.${i + 1}`,
        port: 8000,
        tags: [`urlprefix-/s${s}`],
      })
  }
}

/** True when `s` routes `host+path` to a service with exactly `servers` (names, any order). */
export function hasServers(s: Snapshot, path: string, count: number): boolean {
  const r = s.routes.find((x) => x.path === path)
  if (r === undefined) return count === 0
  const svc = s.services.find((x) => x.name === r.service)
  return (svc?.servers.length ?? 0) === count
}

/**
 * Resolve when `pred` holds, checking after every turn of the event loop (driven by the Consul watches' I/O),
 * bounded by wall-clock `ms` (Consul tests never mock Date).
 */
export async function waitFor(pred: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not reached')
    await new Promise((r) => setImmediate(r))
  }
}

export interface ConsulFixture {
  readonly consul: ConsulTestServer
  readonly ups: TestUpstream[]
  readonly t: ConsulLb
  close(): Promise<void>
}

/**
 * A Consul test server with one instance `<service>-<i>` of `service` per name in `names` (each a test upstream
 * answering its name, tagged `tag`), and lb routing them; resolves once `path` has every instance.
 */
export async function startConsulFixture(
  service: string,
  tag: string,
  path: string,
  names: readonly string[],
): Promise<ConsulFixture> {
  const consul = await ConsulTestServer.start()
  const ups = await Promise.all(names.map((n) => startUpstream(n)))
  ups.forEach((u, i) => consul.register({ id: `${service}-${i}`, service, port: u.port, tags: [tag] }))
  const t = await startConsulLb(consul.address)
  await t.applied((s) => hasServers(s, path, names.length))
  return {
    consul,
    ups,
    t,
    close: async () => {
      await t.close()
      await Promise.all(ups.map((u) => u.close()))
      await consul.close()
    },
  }
}
