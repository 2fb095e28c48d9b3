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

export class AdminServer {
  readonly server: Server
  readonly #worker: Worker
  readonly #status: AdminStatus

  constructor(worker: Worker, status: AdminStatus) {
    this.#worker = worker
    this.#status = status
    this.server = createServer((req, res) => this.#handle(req, res))
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://admin')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n')
      return
    }
    switch (url.pathname) {
      case '/health':
        if (this.#status.serving) send(res, 200, 'text/plain; charset=utf-8', 'OK\n')
        else send(res, 503, 'text/plain; charset=utf-8', 'draining\n')
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
