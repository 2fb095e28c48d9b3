/**
 * An in-process lb (helpers/lb.ts) with its AdminServer on 127.0.0.1 port 0, wired like primary.ts wires it:
 * the token and the config come from the lb's config, server actions go through the lb's health service.
 */
import type { MutableConfig } from '../../src/config/types.js'
import { AdminServer, type AdminActions, type AdminStatus } from '../../src/admin/server.js'
import type { DashboardSources } from '../../src/admin/dashboard.js'
import { contentType } from '../../src/metrics/exposition.js'
import { DashboardSampler } from '../../src/metrics/dashboard.js'
import { HealthHistory } from '../../src/health/history.js'
import { get, type Reply } from './client.js'
import { startLb, type TestLb } from './lb.js'

export interface TestAdmin {
  readonly lb: TestLb
  readonly admin: AdminServer
  readonly status: AdminStatus
  /** The dashboard's traffic samples and health events, wired as primary.ts wires them. */
  readonly sampler: DashboardSampler
  readonly history: HealthHistory
  /** Take one traffic sample now (the primary does it every `admin.sample_interval`). */
  sample(now?: number): void
  /** `http://127.0.0.1:<admin port>` */
  readonly url: string
  get(path: string, headers?: Record<string, string>): Promise<Reply>
  post(path: string, body?: string, headers?: Record<string, string>): Promise<Reply>
  close(): Promise<void>
}

/** `actions`: replaces the wired actions it names; `consul`: the Consul watches the dashboard and explain see. */
export async function startAdmin(
  edit: (c: MutableConfig) => void,
  rand?: () => number,
  actions: Partial<AdminActions> = {},
  consul: DashboardSources['consul'] = () => null,
): Promise<TestAdmin> {
  const lb = await startLb(edit, rand)
  const status: AdminStatus = { serving: true }
  const sampler = new DashboardSampler()
  const history = new HealthHistory()
  lb.health.subscribe((state) => history.record(state))
  const admin = new AdminServer(
    lb.worker,
    status,
    {
      token: () => lb.config.admin.token,
      config: () => lb.config,
      reload: () => Promise.resolve({ ok: true, problems: [] }),
      restartWorkers: () => Promise.resolve(false),
      metrics: async () => {
        const body = await lb.worker.metrics.exposition()
        return { contentType, body, release: () => lb.worker.metrics.release(body) }
      },
      setServerState: (svc, srv, state) => lb.health.setServerState(svc, srv, state),
      setServerWeight: (svc, srv, w) => lb.health.setServerWeight(svc, srv, w),
      ...actions,
    },
    {
      traffic: (series) => sampler.view(series),
      events: (id) => history.of(id),
      consul,
    },
  )
  const port = await admin.listen('127.0.0.1', 0)
  const url = `http://127.0.0.1:${port}`
  return {
    lb,
    admin,
    status,
    sampler,
    history,
    sample: (now = Date.now()) => sampler.sample([lb.worker.metrics.trafficData()], now),
    url,
    get: (path, headers = {}) => get(url, path, { headers }),
    post: (path, body = '', headers = {}) => get(url, path, { method: 'POST', body, headers }),
    close: async () => {
      await admin.close()
      await lb.close()
    },
  }
}

/** `Authorization: Bearer <token>` */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** Resolves once `lines` (an lb's access lines) holds `n`: its metrics have counted those requests too. */
export function counted(lines: readonly unknown[], n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (lines.length >= n) resolve()
      else setImmediate(check)
    }
    check()
  })
}
