/**
 * A Consul HTTP API stand-in for tests and benches, on 127.0.0.1 port 0.
 *
 * Endpoints: `GET /v1/agent/self`, `GET /v1/catalog/services`, `GET /v1/catalog/nodes`,
 * `GET /v1/catalog/node-services/:node`, `GET /v1/health/node/:node`, `GET /v1/health/service/:name` (`?passing`),
 * `GET /v1/health/state/:state` (`any|passing|warning|critical`), `GET /v1/kv/:key` (`?recurse`),
 * `PUT /v1/kv/:key`, `DELETE /v1/kv/:key`, `PUT /v1/agent/service/register`, `PUT /v1/agent/service/deregister/:id`,
 * `GET /v1/agent/service/:id`.
 *
 * Consul behaviours reproduced (https://developer.hashicorp.com/consul/api-docs/features/blocking and the
 * endpoint pages under /consul/api-docs/{catalog,health,kv,agent}; docs/consul.md):
 * - every answer carries `X-Consul-Index`; each endpoint's index is the raft index of its last change (health per
 *   service, catalog services, KV per prefix), like Consul's per-table/per-service indexes;
 * - blocking: a request with `?index=N` hangs while the endpoint's index is ≤ N, until a change or until
 *   `wait` (default 5 min, max 10 min) plus a random extra of up to wait/16 has passed, then answers with the
 *   current data — which may be unchanged ("a return is no guarantee of change");
 * - `indexBackwards(to)`: the raft index drops (snapshot restore); like Consul's state store abandon on restore,
 *   every blocked query is woken and answers with the lower index; a query sent with an index above the new one
 *   blocks until the index passes it again, which is how a client that ignores the reset rule misses updates;
 * - `?passing` keeps only instances whose checks (node and service) are all passing;
 * - `Service.Address` is '' when registered without one (clients fall back to `Node.Address`);
 * - `/v1/kv/<prefix>?recurse` lists keys in key order with base64 `Value`; a missing key is 404 with an index;
 * - `/v1/catalog/services` maps each service to the union of its instances' tags;
 * - `/v1/health/state/:state` lists every check (node and service checks, with `ServiceName` and
 *   `ServiceTags`) in that state, `any` = all, a node's checks once per node; it blocks on the checks table's index, which moves whenever any
 *   check is added, removed or changes status (registering or deregistering an instance adds or removes its
 *   checks), like Consul's `checks` table index (https://developer.hashicorp.com/consul/api-docs/health#list-checks-in-state);
 * - faults on demand: `failNext(n)` answers the next n requests with 500; `hang(true)` holds every request
 *   without answering (a wedged agent) until `hang(false)`; `delay(path, ms)` answers requests for `path`
 *   `ms` later (a slow endpoint); `close()` makes the address unreachable.
 * Not reproduced: ACL enforcement (the token header is recorded, not checked), consistency modes (accepted and
 * ignored), `filter`, `near`, streaming backend, `X-Consul-KnownLeader`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { lowerBound } from '../../src/provider/sorted.js'

export interface TestCheck {
  CheckID: string
  Name: string
  Status: 'passing' | 'warning' | 'critical'
  ServiceID: string
  ServiceName: string
}

export interface TestInstance {
  readonly id: string
  readonly service: string
  readonly node?: string
  readonly nodeAddress?: string
  readonly address?: string
  readonly port: number
  readonly tags?: readonly string[]
  readonly weights?: { Passing: number; Warning: number }
  /** Service check status; null = no service check. Default passing. */
  readonly check?: TestCheck['Status'] | null
}

interface Stored {
  node: string
  nodeAddress: string
  service: {
    ID: string
    Service: string
    Tags: string[]
    Address: string
    Port: number
    Weights: { Passing: number; Warning: number }
  }
  checks: TestCheck[]
  /** Bumped whenever a service check of this instance changes (status, added, removed). */
  version: number
}

interface Waiter {
  readonly key: string
  readonly minIndex: number
  readonly wake: () => void
}

export class ConsulTestServer {
  readonly server: Server
  port = 0
  /** Global raft index. */
  index = 10
  readonly instances = new Map<string, Stored>()
  /** Service name → its instances' ids (so answering one service does not scan every instance). */
  readonly #byService = new Map<string, Set<string>>()
  readonly kv = new Map<string, { value: string; modifyIndex: number }>()
  /** Endpoint key → index of its last change. */
  readonly indexes = new Map<string, number>()
  readonly requests: { method: string; url: string; token: string | undefined }[] = []
  /** Services registered through the agent API (`PUT /v1/agent/service/register`), by ID. */
  readonly agentServices: Map<string, Record<string, unknown>> = new Map()
  /** Called on every agent (de)registration, before it answers (tests check what lb still does then). */
  onAgent: ((op: 'register' | 'deregister', id: string) => void | Promise<void>) | null = null
  datacenter = 'dc1'
  #fail = 0
  readonly #failPaths = new Set<string>()
  #hang = false
  /** Path → ms to wait before handling a request for it (`delay`). */
  readonly #delays = new Map<string, number>()
  #held: ServerResponse[] = []
  #waiters = new Set<Waiter>()
  /** Each instance's service checks as JSON (joined by commas; empty without any), for the version made from. */
  readonly #checkText = new WeakMap<Stored, { version: number; json: Buffer }>()
  /** The `/v1/health/state/<state>` answers for the checks index they were made at. */
  readonly #stateMade = new Map<string, { index: number; answer: JsonList | Json }>()
  /** The `/v1/catalog/services` answer for the catalog index it was made at. */
  #catalogMade: { index: number; json: Json } | null = null
  /**
   * The catalog answer's parts, kept as instances come and go (Consul answers from indexed tables): each
   * service's member (`"name":[tags]`, made again when one of its instances changes) and the names in order.
   */
  readonly #catalogMember = new Map<string, Buffer>()
  #catalogNames: string[] = []
  /**
   * Consul answers `/v1/health/state/<status>` from an index on the checks' status; so does this server: the
   * instances with a service check that is not passing (kept by register, setCheck and maintenance), and each
   * node's instances in instance order, the first one's node checks standing for the node's (null = find
   * them again).
   */
  readonly #unhealthy = new Set<Stored>()
  #byNode: Map<string, Stored[]> | null = new Map()
  #timers = new Set<NodeJS.Timeout>()

  constructor() {
    this.server = createServer((req, res) => this.#handle(req, res))
  }

  static async start(port = 0): Promise<ConsulTestServer> {
    const s = new ConsulTestServer()
    await new Promise<void>((resolve) => s.server.listen({ host: '127.0.0.1', port }, resolve))
    s.port = (s.server.address() as AddressInfo).port
    return s
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  register(i: TestInstance): void {
    const node = i.node ?? 'node1'
    const checks: TestCheck[] = [
      {
        CheckID: 'serfHealth',
        Name: 'Serf Health Status',
        Status: 'passing',
        ServiceID: '',
        ServiceName: '',
      },
    ]
    const status = i.check === undefined ? 'passing' : i.check
    if (status !== null) {
      checks.push({
        CheckID: `service:${i.id}`,
        Name: `${i.service} check`,
        Status: status,
        ServiceID: i.id,
        ServiceName: i.service,
      })
    }
    const old = this.instances.get(i.id)
    // Like the Map of instances, a re-registered id keeps its place in its service's answer.
    if (old !== undefined && old.service.Service !== i.service)
      this.#byService.get(old.service.Service)?.delete(i.id)
    let ids = this.#byService.get(i.service)
    if (ids === undefined) {
      ids = new Set()
      this.#byService.set(i.service, ids)
    }
    if (ids.size === 0) this.#catalogName(i.service, true)
    ids.add(i.id)
    this.#catalogMember.delete(i.service)
    if (old !== undefined && old.service.Service !== i.service) this.#serviceLeft(old.service.Service)
    if (old !== undefined) this.#forget(old)
    const stored: Stored = {
      node,
      nodeAddress: i.nodeAddress ?? '127.0.0.1',
      service: {
        ID: i.id,
        Service: i.service,
        Tags: [...(i.tags ?? [])],
        Address: i.address ?? '',
        Port: i.port,
        Weights: i.weights ?? { Passing: 1, Warning: 1 },
      },
      checks,
      version: 0,
    }
    this.instances.set(i.id, stored)
    if (old === undefined && this.#byNode !== null) {
      const list = this.#byNode.get(node)
      if (list === undefined) this.#byNode.set(node, [stored])
      else list.push(stored)
    }
    this.#checked(stored)
    this.#changed(['catalog', `health:${i.service}`])
  }

  deregister(id: string): void {
    const s = this.instances.get(id)
    if (s === undefined) return
    this.instances.delete(id)
    this.#forget(s)
    this.#byService.get(s.service.Service)?.delete(id)
    this.#serviceLeft(s.service.Service)
    this.#changed(['catalog', `health:${s.service.Service}`])
  }

  setCheck(id: string, status: TestCheck['Status']): void {
    const s = this.instances.get(id)
    if (s === undefined) throw new Error(`no instance ${id}`)
    for (const c of s.checks) if (c.ServiceID === id) c.Status = status
    this.#checked(s)
    s.version++
    this.#changed([`health:${s.service.Service}`])
  }

  /** Service maintenance on/off (Consul adds a critical `_service_maintenance:<id>` check). */
  maintenance(id: string, on: boolean): void {
    const s = this.instances.get(id)
    if (s === undefined) throw new Error(`no instance ${id}`)
    s.checks = s.checks.filter((c) => c.CheckID !== `_service_maintenance:${id}`)
    if (on) {
      s.checks.push({
        CheckID: `_service_maintenance:${id}`,
        Name: 'Service Maintenance Mode',
        Status: 'critical',
        ServiceID: id,
        ServiceName: s.service.Service,
      })
    }
    this.#checked(s)
    s.version++
    this.#changed([`health:${s.service.Service}`])
  }

  /** `s`'s service checks changed: keep the index of instances with one not passing. */
  #checked(s: Stored): void {
    if (s.checks.some((c) => c.ServiceID !== '' && c.Status !== 'passing')) this.#unhealthy.add(s)
    else this.#unhealthy.delete(s)
  }

  /** `s` is no longer stored (deregistered or registered again). */
  #forget(s: Stored): void {
    this.#unhealthy.delete(s)
    this.#byNode = null
  }

  /** Each node's instances in instance order. */
  #nodes(): Map<string, Stored[]> {
    if (this.#byNode === null) {
      const byNode = new Map<string, Stored[]>()
      for (const s of this.instances.values()) {
        const list = byNode.get(s.node)
        if (list === undefined) byNode.set(s.node, [s])
        else list.push(s)
      }
      this.#byNode = byNode
    }
    return this.#byNode
  }

  putKv(key: string, value: string): void {
    this.index++
    this.kv.set(key, { value, modifyIndex: this.index })
    this.#changed(['kv'], false)
  }

  deleteKv(key: string): void {
    this.kv.delete(key)
    this.#changed(['kv'])
  }

  /** Bump an endpoint's index without changing its data (Consul: idempotent writes, churn elsewhere). */
  touch(key: string): void {
    this.#changed([key])
  }

  /** Blocking queries currently held on endpoint `key` (`catalog`, `health:<name>`, `kv`). */
  blocked(key: string): number {
    let n = 0
    for (const w of this.#waiters) if (w.key === key) n++
    return n
  }

  failNext(n: number): void {
    this.#fail = n
  }

  /** Answer every request for `path` (exact, without the query) with 500 while `on`. */
  failPath(path: string, on: boolean): void {
    if (on) this.#failPaths.add(path)
    else this.#failPaths.delete(path)
  }

  /** Handle requests for `path` (exact, without the query) `ms` later; 0 = no delay. */
  delay(path: string, ms: number): void {
    if (ms > 0) this.#delays.set(path, ms)
    else this.#delays.delete(path)
  }

  hang(on: boolean): void {
    this.#hang = on
    if (!on) {
      for (const res of this.#held) res.destroy()
      this.#held = []
    }
  }

  /** The raft index drops to `to` (snapshot restore): all endpoint indexes are clamped and blocked queries woken. */
  indexBackwards(to: number): void {
    this.index = to
    for (const [k, v] of this.indexes) if (v > to) this.indexes.set(k, to)
    this.#stateMade.clear()
    this.#catalogMade = null
    for (const w of this.#waiters) w.wake()
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    for (const res of this.#held) res.destroy()
    this.#held = []
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  #changed(keys: readonly string[], bump = true): void {
    // Every health change is a change of the checks table (register/deregister add/remove checks too).
    if (keys.some((k) => k.startsWith('health:'))) keys = [...keys, 'checks']
    if (bump) this.index++
    for (const k of keys) this.indexes.set(k, this.index)
    for (const w of this.#waiters) if (keys.includes(w.key) && this.index > w.minIndex) w.wake()
  }

  #indexOf(key: string): number {
    return this.indexes.get(key) ?? 1
  }

  #handle(req: IncomingMessage, res: ServerResponse, delayed = false): void {
    const url = new URL(req.url ?? '/', 'http://consul')
    const slow = delayed ? undefined : this.#delays.get(url.pathname)
    if (slow !== undefined) {
      const t = setTimeout(() => {
        this.#timers.delete(t)
        this.#handle(req, res, true)
      }, slow)
      this.#timers.add(t)
      return
    }
    const token = req.headers['x-consul-token']
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      token: typeof token === 'string' ? token : undefined,
    })
    if (this.#hang) {
      this.#held.push(res)
      return
    }
    if (this.#fail > 0 || this.#failPaths.has(url.pathname)) {
      if (this.#fail > 0) this.#fail--
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('rpc error: No cluster leader')
      return
    }
    const path = url.pathname
    if (req.method === 'PUT' && path.startsWith('/v1/kv/')) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.putKv(decodeURIComponent(path.slice('/v1/kv/'.length)), Buffer.concat(chunks).toString('utf8'))
        this.#json(res, 'kv', true)
      })
      return
    }
    if (req.method === 'PUT' && path === '/v1/agent/service/register') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
        const id = String(body.ID)
        this.agentServices.set(id, body)
        void Promise.resolve(this.onAgent?.('register', id)).then(() => res.end())
      })
      return
    }
    if (req.method === 'PUT' && path.startsWith('/v1/agent/service/deregister/')) {
      const id = decodeURIComponent(path.slice('/v1/agent/service/deregister/'.length))
      this.agentServices.delete(id)
      req.resume()
      void Promise.resolve(this.onAgent?.('deregister', id)).then(() => res.end())
      return
    }
    if (req.method === 'GET' && path.startsWith('/v1/agent/service/')) {
      const s = this.agentServices.get(decodeURIComponent(path.slice('/v1/agent/service/'.length)))
      res.writeHead(s === undefined ? 404 : 200, { 'content-type': 'application/json' })
      res.end(s === undefined ? 'unknown service' : JSON.stringify(s))
      return
    }
    if (req.method === 'DELETE' && path.startsWith('/v1/kv/')) {
      this.deleteKv(decodeURIComponent(path.slice('/v1/kv/'.length)))
      this.#json(res, 'kv', true)
      return
    }
    if (path === '/v1/agent/self') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ Config: { Datacenter: this.datacenter, NodeName: 'node1' } }))
      return
    }
    let key: string
    let body: () => { status: number; data: unknown }
    if (path === '/v1/catalog/services') {
      key = 'catalog'
      body = () => ({ status: 200, data: this.#catalogAnswer() })
    } else if (path === '/v1/catalog/nodes') {
      key = 'catalog'
      body = () => ({ status: 200, data: this.#catalogNodes() })
    } else if (path.startsWith('/v1/catalog/node-services/')) {
      const node = decodeURIComponent(path.slice('/v1/catalog/node-services/'.length))
      key = 'catalog'
      body = () => ({ status: 200, data: this.#nodeServices(node) })
    } else if (path.startsWith('/v1/health/node/')) {
      const node = decodeURIComponent(path.slice('/v1/health/node/'.length))
      key = 'checks'
      body = () => ({ status: 200, data: this.#nodeChecks(node) })
    } else if (path.startsWith('/v1/health/service/')) {
      const name = decodeURIComponent(path.slice('/v1/health/service/'.length))
      key = `health:${name}`
      body = () => ({ status: 200, data: this.#health(name, url.searchParams.has('passing')) })
    } else if (path.startsWith('/v1/health/state/')) {
      const state = decodeURIComponent(path.slice('/v1/health/state/'.length))
      if (!['any', 'passing', 'warning', 'critical'].includes(state)) {
        res.writeHead(400, { 'content-type': 'text/plain' })
        res.end(`Invalid state: ${state}`)
        return
      }
      key = 'checks'
      body = () => ({ status: 200, data: this.#stateAnswer(state) })
    } else if (path.startsWith('/v1/kv/')) {
      const k = decodeURIComponent(path.slice('/v1/kv/'.length))
      key = 'kv'
      body = () => this.#kvGet(k, url.searchParams.has('recurse'))
    } else {
      res.writeHead(404)
      res.end()
      return
    }
    const indexParam = url.searchParams.get('index')
    const minIndex = indexParam === null ? 0 : Number(indexParam)
    const reply = (): void => {
      const b = body()
      this.#json(res, key, b.data, b.status)
    }
    if (minIndex <= 0 || this.#indexOf(key) > minIndex) {
      reply()
      return
    }
    const wait = Math.min(parseWait(url.searchParams.get('wait')), 600_000)
    const ms = wait + Math.random() * (wait / 16)
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      this.#timers.delete(timer)
      this.#waiters.delete(waiter)
      if (!res.destroyed) reply()
    }
    const waiter: Waiter = { key, minIndex, wake: finish }
    const timer = setTimeout(finish, ms)
    this.#timers.add(timer)
    this.#waiters.add(waiter)
    res.on('close', () => {
      done = true
      clearTimeout(timer)
      this.#timers.delete(timer)
      this.#waiters.delete(waiter)
    })
  }

  #json(res: ServerResponse, key: string, data: unknown, status = 200): void {
    const headers = { 'content-type': 'application/json', 'x-consul-index': String(this.#indexOf(key)) }
    if (data instanceof JsonList && status !== 404) {
      res.writeHead(status, { ...headers, 'content-length': String(data.length) })
      writeList(res, data, 0)
      return
    }
    res.writeHead(status, headers)
    res.end(status === 404 ? '' : data instanceof Json ? data.text : JSON.stringify(data))
  }

  /** An instance of `service` left it (deregistered, or registered again under another service). */
  #serviceLeft(service: string): void {
    this.#catalogMember.delete(service)
    if (this.#byService.get(service)?.size === 0) this.#catalogName(service, false)
  }

  /** Add `name` to the catalog's sorted names, or take it out. */
  #catalogName(name: string, add: boolean): void {
    const names = this.#catalogNames
    const lo = lowerBound(names, name, (n) => n)
    if (add && names[lo] !== name) names.splice(lo, 0, name)
    else if (!add && names[lo] === name) names.splice(lo, 1)
  }

  /**
   * The catalog answer, made once per catalog index from the services' members (each made again only when one
   * of its instances changed): 0.8 MB at 10,000 services, a few ms.
   */
  #catalogAnswer(): Json {
    const index = this.#indexOf('catalog')
    const made = this.#catalogMade
    if (made !== null && made.index === index) return made.json
    const parts: Buffer[] = [OPEN_OBJECT]
    for (const name of this.#catalogNames) {
      let member = this.#catalogMember.get(name)
      if (member === undefined) {
        const tags = new Set<string>()
        for (const id of this.#byService.get(name) ?? [])
          for (const t of this.instances.get(id)?.service.Tags ?? []) tags.add(t)
        member = Buffer.from(`${JSON.stringify(name)}:${JSON.stringify([...tags])}`)
        this.#catalogMember.set(name, member)
      }
      if (parts.length > 1) parts.push(COMMA)
      parts.push(member)
    }
    parts.push(CLOSE_OBJECT)
    const json = new Json(Buffer.concat(parts))
    this.#catalogMade = { index, json }
    return json
  }

  /** `/v1/catalog/nodes`: every node with an instance, in instance order. */
  #catalogNodes(): unknown[] {
    return [...this.#nodes().values()].map(([s]) => nodeJson(s as Stored, this.datacenter))
  }

  /** `/v1/catalog/node-services/<node>` (Consul 1.7+): the node and its service instances. */
  #nodeServices(node: string): unknown {
    const list = this.#nodes().get(node)
    if (list === undefined) return { Node: null, Services: [] }
    return {
      Node: nodeJson(list[0] as Stored, this.datacenter),
      Services: list.map((s) => serviceJson(s)),
    }
  }

  /** `/v1/health/node/<node>`: the node's checks and its instances' service checks. */
  #nodeChecks(node: string): unknown[] {
    const out: unknown[] = []
    const list = this.#nodes().get(node) ?? []
    for (const c of list[0]?.checks ?? []) if (c.ServiceID === '') out.push(checkJson(list[0] as Stored, c))
    for (const s of list) for (const c of s.checks) if (c.ServiceID !== '') out.push(checkJson(s, c))
    return out
  }

  #health(name: string, passing: boolean): unknown[] {
    const out: unknown[] = []
    for (const id of this.#byService.get(name) ?? []) {
      const s = this.instances.get(id)
      if (s === undefined) continue
      if (passing && s.checks.some((c) => c.Status !== 'passing')) continue
      // The fields of a real answer (Consul 1.15+), most of which lb does not read: payload size and parse cost
      // in the benches are those of production.
      out.push({
        Node: nodeJson(s, this.datacenter),
        Service: serviceJson(s),
        Checks: s.checks.map((c) => checkJson(s, c)),
      })
    }
    return out
  }

  /**
   * `/v1/health/state/<state>`, made once per checks index and state. `any` is a list of JSON elements written a
   * slice at a time (writeList), each instance's service checks serialized once per version: at 10,000 services
   * × 3 serializing the 12 MB answer whole on every change took 0.2–0.6 s of this single-threaded server, during
   * which it answered nothing else (the `critical` watch, a service read), where Consul serves other requests on
   * other goroutines meanwhile. Node checks (serfHealth) are serialized on every answer: tests change them in
   * place, then publish with `setCheck`.
   */
  #stateAnswer(state: string): JsonList | Json {
    const index = this.#indexOf('checks')
    const made = this.#stateMade.get(state)
    if (made !== undefined && made.index === index) return made.answer
    const answer = state === 'any' ? this.#stateAny() : new Json(JSON.stringify(this.#state(state)))
    this.#stateMade.set(state, { index, answer })
    return answer
  }

  #stateAny(): JsonList {
    const parts: Buffer[] = []
    const nodes = this.#nodes()
    for (const s of this.instances.values()) {
      if (nodes.get(s.node)?.[0] === s) {
        for (const c of s.checks)
          if (c.ServiceID === '') parts.push(Buffer.from(JSON.stringify(checkJson(s, c))))
      }
      let cached = this.#checkText.get(s)
      if (cached === undefined || cached.version !== s.version) {
        const texts = s.checks.filter((c) => c.ServiceID !== '').map((c) => JSON.stringify(checkJson(s, c)))
        cached = { version: s.version, json: Buffer.from(texts.join(',')) }
        this.#checkText.set(s, cached)
      }
      if (cached.json.length > 0) parts.push(cached.json)
    }
    return new JsonList(parts)
  }

  /**
   * The checks in `state`: a node's checks (serfHealth) exist once per node in Consul, not once per instance on
   * it; the service checks are looked up in the index of instances with one not passing (but for `passing`).
   */
  #state(state: string): unknown[] {
    const out: unknown[] = []
    for (const [s] of this.#nodes().values())
      for (const c of s?.checks ?? [])
        if (c.ServiceID === '' && c.Status === state) out.push(checkJson(s as Stored, c))
    for (const s of state === 'passing' ? this.instances.values() : this.#unhealthy)
      for (const c of s.checks) if (c.ServiceID !== '' && c.Status === state) out.push(checkJson(s, c))
    return out
  }

  #kvGet(key: string, recurse: boolean): { status: number; data: unknown } {
    const items = [...this.kv]
      .filter(([k]) => (recurse ? k.startsWith(key) : k === key))
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => ({
        Key: k,
        Value: Buffer.from(v.value).toString('base64'),
        Flags: 0,
        CreateIndex: v.modifyIndex,
        ModifyIndex: v.modifyIndex,
        LockIndex: 0,
      }))
    return items.length === 0 ? { status: 404, data: null } : { status: 200, data: items }
  }
}

/** An answer already serialized. */
/** A JSON list as its elements' bytes, written a slice at a time (`writeList`). */
class JsonList {
  readonly parts: readonly Buffer[]
  /** Bytes of the whole list: brackets and commas included. */
  readonly length: number
  constructor(parts: readonly Buffer[]) {
    this.parts = parts
    let n = parts.length === 0 ? 2 : 1 + parts.length
    for (const p of parts) n += p.length
    this.length = n
  }
}

/** Elements per write: ≈ 0.2 MB of state checks. */
const LIST_SLICE = 512

/** Write `list` from element `from` on, yielding to other requests between slices. */
function writeList(res: ServerResponse, list: JsonList, from: number): void {
  if (res.destroyed) return
  const parts = list.parts
  const to = Math.min(parts.length, from + LIST_SLICE)
  const out: Buffer[] = []
  for (let i = from; i < to; i++) {
    out.push(i === 0 ? OPEN : COMMA)
    out.push(parts[i] as Buffer)
  }
  if (to === parts.length) {
    out.push(parts.length === 0 ? EMPTY_LIST : CLOSE)
    res.end(Buffer.concat(out))
    return
  }
  res.write(Buffer.concat(out))
  setImmediate(writeList, res, list, to)
}

const OPEN = Buffer.from('[')
const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']')
const OPEN_OBJECT = Buffer.from('{')
const CLOSE_OBJECT = Buffer.from('}')
const EMPTY_LIST = Buffer.from('[]')

class Json {
  readonly text: string | Buffer
  constructor(text: string | Buffer) {
    this.text = text
  }
}

/** Consul duration: `10s`, `250ms`, `5m`; default 5 min. */
function parseWait(s: string | null): number {
  const m = /^(\d+)(ms|s|m)$/.exec(s ?? '')
  if (m === null) return 300_000
  const n = Number(m[1])
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1_000 : n * 60_000
}

/** A check as Consul's HTTP API shows it (the fields of a real HealthCheck, Consul 1.15+). */
function nodeJson(s: Stored, datacenter: string): object {
  return {
    ID: '40e4a748-2192-161a-0510-9bf59fe950b5',
    Node: s.node,
    Address: s.nodeAddress,
    Datacenter: datacenter,
    TaggedAddresses: { lan: s.nodeAddress, wan: s.nodeAddress },
    Meta: { 'consul-network-segment': '' },
    CreateIndex: 5,
    ModifyIndex: 9,
  }
}

function serviceJson(s: Stored): object {
  return {
    ...s.service,
    Tags: [...s.service.Tags],
    TaggedAddresses: {},
    Meta: {},
    EnableTagOverride: false,
    Proxy: { Mode: '', MeshGateway: {}, Expose: {} },
    Connect: {},
    PeerName: '',
    CreateIndex: 12,
    ModifyIndex: 12,
  }
}

function checkJson(s: Stored, c: TestCheck): object {
  return {
    Node: s.node,
    ...c,
    Notes: '',
    Output: c.ServiceID === '' ? 'Agent alive and reachable' : 'HTTP GET http://127.0.0.1/health: 200 OK',
    ServiceTags: c.ServiceID === '' ? [] : [...s.service.Tags],
    Type: c.ServiceID === '' ? '' : 'http',
    Interval: c.ServiceID === '' ? '' : '10s',
    Timeout: c.ServiceID === '' ? '' : '5s',
    ExposedPort: 0,
    Definition: {},
    CreateIndex: 12,
    ModifyIndex: 14,
  }
}
