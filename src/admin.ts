/**
 * Admin HTTP server (loopback by default): /health and the route table. The full admin API,
 * metrics and the web page arrive with the observability work; this is the part operators need first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describeTable } from './route/table.js'
import type { Worker } from './worker.js'
import type { Upstream } from './proxy/upstream.js'
import { formatReason } from './health/probes.js'

function healthFields(up: Upstream): Record<string, unknown> {
  const h = up.health
  return {
    effective_weight: up.effectiveWeight,
    maxconn: up.maxconn,
    queued: up.queue.length,
    check_status: h === null ? null : h.status(),
    check_health: h === null ? null : h.health,
    last_check:
      h === null || h.last === null
        ? null
        : { result: formatReason(h.last), duration: h.last.duration, detail: h.last.detail },
  }
}

export interface AdminStatus {
  /** False while draining or before the first table: /health answers 503 so keepalived/nginx move away. */
  serving: boolean
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  })
  res.end(body)
}

/** Changes the admin API can ask for (POST, bearer token). */
export interface AdminActions {
  /** The admin token now ('' = changes disabled); read per request so a reload can change it. */
  token(): string
  reload(): Promise<{ ok: boolean; problems: string[] }>
  restartWorkers(): Promise<boolean>
  metrics(): Promise<{ contentType: string; body: string }>
}

const noActions: AdminActions = {
  token: () => '',
  reload: () => Promise.resolve({ ok: false, problems: ['not available'] }),
  restartWorkers: () => Promise.resolve(false),
  metrics: () => Promise.resolve({ contentType: 'text/plain; charset=utf-8', body: '' }),
}

/** Constant-time enough for a short token: compare every byte. */
function tokenMatches(header: string | undefined, token: string): boolean {
  if (token === '' || header === undefined || !header.startsWith('Bearer ')) return false
  const given = header.slice('Bearer '.length)
  if (given.length !== token.length) return false
  let diff = 0
  for (let i = 0; i < token.length; i++) diff |= given.charCodeAt(i) ^ token.charCodeAt(i)
  return diff === 0
}

export class AdminServer {
  readonly server: Server
  readonly #worker: Worker
  readonly #status: AdminStatus
  readonly #actions: AdminActions

  constructor(worker: Worker, status: AdminStatus, actions: AdminActions = noActions) {
    this.#worker = worker
    this.#status = status
    this.#actions = actions
    this.server = createServer((req, res) => this.#handle(req, res))
  }

  #post(url: URL, req: IncomingMessage, res: ServerResponse): void {
    const token = this.#actions.token()
    if (token === '') {
      send(res, 403, 'text/plain; charset=utf-8', 'changes are disabled (admin.token is not set)\n')
      return
    }
    if (!tokenMatches(req.headers.authorization, token)) {
      send(res, 401, 'text/plain; charset=utf-8', 'unauthorized\n')
      return
    }
    req.resume()
    const json = (status: number, body: unknown): void =>
      send(res, status, 'application/json', JSON.stringify(body) + '\n')
    const failed = (err: unknown): void => json(500, { ok: false, problems: [String(err)] })
    switch (url.pathname) {
      case '/api/reload':
        this.#actions.reload().then((r) => json(r.ok ? 200 : 422, r), failed)
        return
      case '/api/restart-workers':
        this.#actions.restartWorkers().then((ok) => json(ok ? 200 : 409, { ok }), failed)
        return
      default:
        send(res, 404, 'text/plain; charset=utf-8', 'not found\n')
    }
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin')
    if (req.method === 'POST') {
      this.#post(url, req, res)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n')
      return
    }
    switch (url.pathname) {
      case '/health':
        if (this.#status.serving) send(res, 200, 'text/plain; charset=utf-8', 'OK\n')
        else send(res, 503, 'text/plain; charset=utf-8', 'draining\n')
        return
      case '/metrics':
        this.#actions.metrics().then(
          (m) => send(res, 200, m.contentType, m.body),
          (err: unknown) => send(res, 500, 'text/plain; charset=utf-8', `metrics failed: ${String(err)}\n`),
        )
        return
      case '/api/routes': {
        const state = this.#worker.state
        send(res, 200, 'text/plain; charset=utf-8', describeTable(state.table))
        return
      }
      case '/api/servers': {
        const rows = []
        for (const svc of this.#worker.state.services.values()) {
          for (const up of svc.upstreams) {
            rows.push({
              service: svc.spec.name,
              server: up.name,
              address: up.hostPort,
              resolved: up.address,
              weight: up.weight,
              backup: up.backup,
              up: up.up,
              admin: up.admin,
              inflight: up.inflight,
              reason: up.downReason,
              // Health and runtime state (issue 4), read-only here.
              ...healthFields(up),
            })
          }
        }
        send(res, 200, 'application/json', JSON.stringify(rows, null, 2) + '\n')
        return
      }
      default:
        send(res, 404, 'text/plain; charset=utf-8', 'not found\n')
    }
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject)
        resolve((this.server.address() as AddressInfo).port)
      })
    })
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }
}
