/**
 * Admin HTTP server (primary, loopback by default). GET is read-only and needs no token; POST needs
 * `Authorization: Bearer <admin.token>` (401 when missing or wrong, 403 when no token is configured).
 *
 *   GET  /                      the web page (src/admin/page.ts)
 *   GET  /health                200 serving, 503 draining or before the first table
 *   GET  /metrics               Prometheus text
 *   GET  /api/routes            JSON; `?format=text` or `Accept: text/plain` → describeTable's canonical text
 *   GET  /api/services          one row per service (balance, servers up/available, queue, routes)
 *   GET  /api/servers           servers.ts showServers: state, weights, health counter, last check, in-flight
 *   GET  /api/explain?host=&path=[&client=]  route trace and the picker's next choice (src/admin/explain.ts)
 *   GET  /api/dashboard[?series=a,b&q=&limit=]  traffic samples, health events, failing now, Consul age (dashboard.ts)
 *   GET  /api/config            effective config, secrets redacted (src/admin/redact.ts)
 *   POST /api/servers/<svc>/<srv>/state   body or ?state= ready|drain|maint
 *   POST /api/servers/<svc>/<srv>/weight  body or ?weight= 0..256 or N%
 *   POST /api/reload, /api/restart-workers
 *
 * Errors are JSON `{ error, code? }` with 400 (bad input, with the reason), 404 (unknown path or server),
 * 405 (wrong method, with `Allow`), 413 (body over 4 KiB). Secrets never appear in a response.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AdminState } from '../balance/backend.js'
import type { Config } from '../config/types.js'
import { explainPick, explainRoute, formatExplain, routeInfo } from './explain.js'
import { describeTable } from '../route/describe.js'
import { RuntimeError } from '../model/errors.js'
import { showServers, type ServerRow, type ServingView } from './servers.js'
import type { Upstream } from '../proxy/upstream.js'
import { redactSecrets } from './redact.js'
import { nodeHttp } from '../net/node-http.js'
import { adminPage } from './page.js'
import { consulAge, dashboard, DEFAULT_LIMIT, type DashboardSources } from './dashboard.js'
import {
  TEXT,
  MAX_BODY,
  send,
  sendJson,
  fail,
  hostAllowed,
  tokenMatches,
  wantsText,
  parseServerAction,
  actionValue,
} from './http.js'

export interface AdminStatus {
  /** False while draining or before the first table: /health answers 503 so keepalived/nginx move away. */
  serving: boolean
}

/** Changes the admin API can ask for (POST, bearer token), and the config it shows. */
export interface AdminActions {
  /** The admin token now ('' = changes disabled); read per request so a reload can change it. */
  token(): string
  /** The effective config (shown redacted). */
  config(): Config | null
  reload(): Promise<{ ok: boolean; problems: string[] }>
  restartWorkers(): Promise<boolean>
  /**
   * The /metrics body: a string, or UTF-8 chunks written in order (lb's writer, src/metrics/exposition.ts); `release` is
   * called once the response has been written (the chunks' memory is reused), not when it failed.
   */
  metrics(): Promise<{
    contentType: string
    body: string | readonly Uint8Array[]
    release?: () => void
  }>
  /** haproxy `set server <svc>/<srv> state`; throws RuntimeError for an unknown server or state. */
  setServerState(service: string, server: string, state: AdminState): void | Promise<void>
  /** haproxy `set weight`; returns the new weight. */
  setServerWeight(service: string, server: string, weight: number | string): number | Promise<number>
}

const notAvailable = (): never => {
  throw new RuntimeError('EDGE_RUNTIME_NOT_FOUND', 'not available')
}

const noSources: DashboardSources = {
  traffic: () => null,
  events: () => [],
  consul: () => null,
}

const noActions: AdminActions = {
  token: () => '',
  config: () => null,
  reload: () => Promise.resolve({ ok: false, problems: ['not available'] }),
  restartWorkers: () => Promise.resolve(false),
  metrics: () => Promise.resolve({ contentType: 'text/plain; charset=utf-8', body: '' }),
  setServerState: notAvailable,
  setServerWeight: notAvailable,
}

/** GET paths, for 405 on POST (the POST ones answer 405 on GET). */
const getPaths = new Set([
  '/',
  '/health',
  '/metrics',
  '/api/routes',
  '/api/services',
  '/api/servers',
  '/api/explain',
  '/api/config',
  '/api/dashboard',
])

const postPaths = new Set(['/api/reload', '/api/restart-workers'])

export class AdminServer {
  readonly server: Server
  readonly #worker: ServingView
  readonly #status: AdminStatus
  readonly #actions: AdminActions
  readonly #sources: DashboardSources

  constructor(
    worker: ServingView,
    status: AdminStatus,
    actions: AdminActions = noActions,
    sources: DashboardSources = noSources,
  ) {
    this.#worker = worker
    this.#status = status
    this.#actions = actions
    this.#sources = sources
    this.server = nodeHttp.createServer((req, res) => this.#handle(req, res))
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const host = req.headers.host
    if (!hostAllowed(host, this.#actions.config()?.admin.allowedHosts ?? [])) {
      // DNS rebinding: a page in an operator's browser reaches this port under the attacker's name.
      fail(res, 421, `Host ${JSON.stringify(host)} is not served here: list it in admin.allowed_hosts`)
      req.resume()
      return
    }
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://admin')
    } catch {
      fail(res, 400, 'bad request target')
      return
    }
    const action = parseServerAction(url.pathname)
    if (req.method === 'POST') {
      if (action === null && !postPaths.has(url.pathname)) {
        if (getPaths.has(url.pathname))
          fail(res, 405, `${url.pathname} is read-only: use GET`, { allow: 'GET, HEAD' })
        else fail(res, 404, `no admin endpoint ${url.pathname}`)
        req.resume()
        return
      }
      this.#post(url, req, res, action)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      fail(res, 405, `method ${req.method ?? ''} not allowed`, { allow: 'GET, HEAD, POST' })
      return
    }
    if (action !== null || postPaths.has(url.pathname)) {
      fail(res, 405, `${url.pathname} changes state: use POST with the admin token`, { allow: 'POST' })
      return
    }
    this.#get(url, req, res)
  }

  #get(url: URL, req: IncomingMessage, res: ServerResponse): void {
    const state = this.#worker.state
    switch (url.pathname) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', adminPage, {
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        })
        return
      case '/health':
        if (this.#status.serving) send(res, 200, TEXT, 'OK\n')
        else send(res, 503, TEXT, 'draining\n')
        return
      case '/metrics':
        this.#actions.metrics().then(
          (m) => {
            if (m.release !== undefined) res.once('finish', m.release)
            send(res, 200, m.contentType, m.body)
          },
          (err: unknown) => send(res, 500, TEXT, `metrics failed: ${String(err)}\n`),
        )
        return
      case '/api/routes': {
        if (wantsText(url, req)) {
          send(res, 200, TEXT, describeTable(state.table))
          return
        }
        const byService = this.#serversByService()
        sendJson(res, 200, {
          version: state.version,
          pathMatch: state.table.pathMatch,
          routes: state.table.routes.map((r) => ({
            ...routeInfo(r),
            servers: (byService.get(r.service) ?? []).map((s) => ({
              server: s.server,
              address: s.address,
              status: s.status,
              weight: s.weight,
              effectiveWeight: s.effectiveWeight,
            })),
          })),
        })
        return
      }
      case '/api/services': {
        const routesOf = new Map<string, string[]>()
        for (const r of state.table.routes) {
          const list = routesOf.get(r.service) ?? []
          list.push(r.host + r.path)
          routesOf.set(r.service, list)
        }
        const rows = []
        for (const svc of state.services.values()) {
          let up = 0
          for (const u of svc.upstreams) if (u.up && u.admin === 'ready') up++
          rows.push({
            service: svc.spec.name,
            balance: svc.spec.balance,
            proto: svc.spec.proto,
            check: svc.spec.check?.type ?? null,
            servers: svc.upstreams.length,
            serving: up,
            queued: svc.queue.length,
            routes: routesOf.get(svc.spec.name) ?? [],
          })
        }
        sendJson(res, 200, rows)
        return
      }
      case '/api/servers':
        sendJson(res, 200, showServers(this.#worker))
        return
      case '/api/explain':
        this.#explain(url, req, res)
        return
      case '/api/dashboard': {
        const asked = (url.searchParams.get('series') ?? '').split(',').filter((n) => n !== '')
        const limit = Number(url.searchParams.get('limit') ?? DEFAULT_LIMIT)
        const query = {
          series: asked.slice(0, 100),
          filter: (url.searchParams.get('q') ?? '').trim().toLowerCase(),
          limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, 10_000) : DEFAULT_LIMIT,
        }
        sendJson(res, 200, dashboard(this.#worker, this.#sources, query, Date.now()))
        return
      }
      case '/api/config': {
        const config = this.#actions.config()
        if (config === null) fail(res, 404, 'no config available')
        else sendJson(res, 200, redactSecrets(config))
        return
      }
      default:
        fail(res, 404, `no admin endpoint ${url.pathname}`)
    }
  }

  #serversByService(): Map<string, ServerRow[]> {
    const out = new Map<string, ServerRow[]>()
    for (const row of showServers(this.#worker)) {
      const list = out.get(row.service) ?? []
      list.push(row)
      out.set(row.service, list)
    }
    return out
  }

  #explain(url: URL, req: IncomingMessage, res: ServerResponse): void {
    const path = url.searchParams.get('path')
    if (path === null || path === '') {
      fail(res, 400, 'path is required: /api/explain?host=example.com&path=/a/b')
      return
    }
    if (!path.startsWith('/')) {
      fail(res, 400, `path must start with '/', got ${JSON.stringify(path)}`)
      return
    }
    const host = url.searchParams.get('host') ?? ''
    if (/[\s/]/.test(host)) {
      fail(res, 400, `host must be a host name with an optional port, got ${JSON.stringify(host)}`)
      return
    }
    const client = url.searchParams.get('client') ?? ''
    const state = this.#worker.state
    const route = explainRoute(state.table, host, path, client)
    const svc =
      route.route === null || route.route.redirect !== null
        ? undefined
        : state.services.get(route.route.service)
    const pick =
      svc === undefined
        ? null
        : explainPick(
            svc.pool,
            this.#worker.ctx.rand,
            (b) => (b as Upstream).downReason || ((b as Upstream).health?.last?.detail ?? ''),
          )
    const consul = consulAge(this.#sources.consul(), Date.now())
    if (wantsText(url, req)) {
      const age =
        consul === null
          ? ''
          : `consul view: ${consul.ageSeconds === null ? 'no answer yet' : `last answer ${consul.ageSeconds} s ago`}${consul.errors > 0 ? ` (${consul.errors} errors: ${consul.lastError})` : ''}\n`
      send(res, 200, TEXT, formatExplain(route, pick) + age)
    } else sendJson(res, 200, { ...route, servers: pick, consul })
  }

  #post(
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
    action: ReturnType<typeof parseServerAction>,
  ): void {
    const token = this.#actions.token()
    if (token === '') {
      req.resume()
      fail(res, 403, 'changes are disabled (admin.token is not set)')
      return
    }
    if (!tokenMatches(req.headers.authorization, token)) {
      req.resume()
      fail(res, 401, 'unauthorized: send Authorization: Bearer <admin.token>', {
        'www-authenticate': 'Bearer',
      })
      return
    }
    let body = ''
    let tooLarge = false
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      if (tooLarge) return
      body += chunk
      if (body.length > MAX_BODY) tooLarge = true
    })
    req.on('end', () => {
      if (tooLarge) fail(res, 413, `the body is over ${MAX_BODY} bytes`)
      else this.#postAction(url, body, req.headers['content-type'] ?? '', res, action)
    })
  }

  #postAction(
    url: URL,
    body: string,
    contentType: string,
    res: ServerResponse,
    action: ReturnType<typeof parseServerAction>,
  ): void {
    const failed = (err: unknown): void => {
      if (err instanceof RuntimeError) {
        fail(res, err.code === 'EDGE_RUNTIME_NOT_FOUND' ? 404 : 400, err.message)
      } else {
        sendJson(res, 500, { ok: false, problems: [String(err)] })
      }
    }
    if (action !== null) {
      const { service, server } = action
      new Promise<unknown>((resolve) => {
        if (action.action === 'state') {
          const value = actionValue('state', url, body, contentType)
          if (value !== 'ready' && value !== 'drain' && value !== 'maint') {
            throw new RuntimeError(
              'EDGE_RUNTIME_INVALID',
              // The value is not echoed: a mistyped secret must not come back in a response.
              value === ''
                ? 'state is required: ready, drain or maint'
                : 'state must be ready, drain or maint',
            )
          }
          resolve(
            Promise.resolve(this.#actions.setServerState(service, server, value)).then(() => ({
              ok: true,
              service,
              server,
              state: value,
            })),
          )
        } else {
          const value = actionValue('weight', url, body, contentType)
          if (value === '') throw new RuntimeError('EDGE_RUNTIME_INVALID', 'weight is required: 0..256 or N%')
          if (!/^\d{1,6}%?$/.test(value)) {
            throw new RuntimeError(
              'EDGE_RUNTIME_INVALID',
              'weight must be an integer 0..256 or N% (digits only)',
            )
          }
          resolve(
            Promise.resolve(this.#actions.setServerWeight(service, server, value)).then((w) => ({
              ok: true,
              service,
              server,
              weight: w,
            })),
          )
        }
      }).then((r) => sendJson(res, 200, r), failed)
      return
    }
    switch (url.pathname) {
      case '/api/reload':
        this.#actions.reload().then((r) => sendJson(res, r.ok ? 200 : 422, r), failed)
        return
      case '/api/restart-workers':
        this.#actions.restartWorkers().then((ok) => sendJson(res, ok ? 200 : 409, { ok }), failed)
        return
      default:
        fail(res, 404, `no admin endpoint ${url.pathname}`)
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
