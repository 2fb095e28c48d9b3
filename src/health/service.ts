/**
 * The health service: the one owner of every server's health and runtime state, run by the primary (with
 * `workers: 0|1` the same code runs in the serving process). It keeps one record per server that has an active
 * check or a runtime override, keyed by service and server name, feeds the checker (checker.ts), counts passive
 * observations, applies `set server … state` and `set weight`, and publishes every change of a record as a
 * `ServerStatus` keyed by the record's numeric id.
 *
 * Serving workers hold no checker. A worker applies the statuses it receives by id (process/worker.ts
 * `applyServers`): the full list comes with every snapshot (binding each id to its service and server), after
 * that only the servers that changed. A record's id lives as long as the record: a server whose address changes
 * is a new server (a new record and id, its checks and overrides start fresh, as haproxy without a state file).
 *
 * Listeners get `routing: true` for what changes where requests go (verdict, admin state, weight) and `false`
 * for a finished check that changed nothing of that (counters and the last result, and a slowstart step): the
 * primary sends only the former to worker processes, and applies both to its own Worker, whose view the admin
 * API shows.
 */
import type { ServerSpec, ServiceSpec, Snapshot } from '../model/snapshot.js'
import { RuntimeError } from '../model/errors.js'
import { MAX_WEIGHT, type AdminState } from '../balance/backend.js'
import type { Logger } from '../log/log.js'
import { HealthChecker, type ProbeFn, type StartProbeFn } from './checker.js'
import type { HealthTarget, ServerHealth } from './server-health.js'
import type { ProbeResult, ProxyVersion } from './probes.js'
import { replayRuns, type HealthStatus } from './view.js'
import type { HealthCheckSpec, ObserveSpec } from '../model/snapshot.js'

/** One server's state as the service publishes it. */
export interface ServerStatus {
  readonly id: number
  /**
   * The server's service and name: in every full state, and the first time an id is published after that (so a
   * worker binds the id once, without splitting a `service/server` label: both names may contain '/').
   */
  readonly service?: string
  readonly server?: string
  /** Runtime `set server … state` override; null = as configured. */
  readonly admin: AdminState | null
  /** Runtime `set weight` override; null = as configured. */
  readonly weight: number | null
  /** null when the server is not actively checked. */
  readonly health: HealthStatus | null
}

/** Servers' statuses, versioned: `seq` grows with every change (a worker ignores an older state). */
export interface ServersState {
  readonly seq: number
  readonly servers: readonly ServerStatus[]
}

/** Where the service finds a server's resolved address (the resolver of the process it runs in). */
export interface AddressBook {
  /** The current address of `host`, or undefined when unknown. Must not block. */
  peek(host: string): string | undefined
}

export type StatusListener = (state: ServersState, routing: boolean) => void

export interface HealthServiceOptions {
  /** ms clock; `Date.now` in production so node:test mock timers can fake it. */
  readonly now: () => number
  readonly rand: () => number
  readonly addresses: AddressBook
  readonly log: Logger
  /** An active check finished (its duration, for the check-duration histogram). */
  readonly onResult?: (id: number, durationMs: number) => void
  /** Replace the probe (tests; see checker.ts). */
  readonly probe?: ProbeFn
  readonly startProbe?: StartProbeFn
}

/** One server with a check or an override. It is the checker's target: its address is read at every check. */
class ServerRecord implements HealthTarget {
  readonly id: number
  readonly service: string
  readonly server: string
  readonly host: string
  readonly port: number
  /** The server's spec in the current snapshot (its configured weight and state). */
  spec: ServerSpec
  admin: AdminState | null
  weight: number | null
  /** The checker's state of this server; null = not actively checked. */
  health: ServerHealth | null
  /** Its names have been published with its id. */
  announced: boolean
  readonly #addresses: AddressBook

  constructor(id: number, service: string, spec: ServerSpec, addresses: AddressBook) {
    this.id = id
    this.service = service
    this.server = spec.name
    this.host = spec.host
    this.port = spec.port
    this.spec = spec
    this.admin = null
    this.weight = null
    this.health = null
    this.announced = false
    this.#addresses = addresses
  }

  get label(): string {
    return `${this.service}/${this.server}`
  }

  get address(): string {
    return this.#addresses.peek(this.host) ?? ''
  }

  /** The admin state in effect: the override, else the configured one. */
  get adminState(): AdminState {
    return (
      this.admin ?? (this.spec.state === 'drain' ? 'drain' : this.spec.state === 'maint' ? 'maint' : 'ready')
    )
  }
}

interface Wanted {
  spec: HealthCheckSpec
  observe: ObserveSpec | null
  slowstart: number
  sendProxy: ProxyVersion
}

/** The services one snapshot removes and adds against the last one synced (provider/delta.ts `Changed`). */
export interface ServiceChange {
  readonly removedServices: readonly ServiceSpec[]
  readonly addedServices: readonly ServiceSpec[]
}

export class HealthService {
  readonly #checker: HealthChecker
  readonly #addresses: AddressBook
  readonly #log: Logger
  readonly #onResult: ((id: number, durationMs: number) => void) | null
  /** Records by service name, then server name. */
  #records: Map<string, Map<string, ServerRecord>>
  #byId: Map<number, ServerRecord>
  /** The current snapshot's services by name (the first of a repeated name). */
  #services: Map<string, ServiceSpec>
  #nextId: number
  #seq: number
  readonly #listeners: StatusListener[]

  constructor(options: HealthServiceOptions) {
    this.#addresses = options.addresses
    this.#log = options.log
    this.#onResult = options.onResult ?? null
    this.#records = new Map()
    this.#byId = new Map()
    this.#services = new Map()
    this.#nextId = 1
    this.#seq = 0
    this.#listeners = []
    this.#checker = new HealthChecker({
      now: options.now,
      rand: options.rand,
      onChange: (h, up, why) => this.#verdict(h, up, why),
      onResult: (h, r) => this.#result(h, r),
      ...(options.probe === undefined ? {} : { probe: options.probe }),
      ...(options.startProbe === undefined ? {} : { startProbe: options.startProbe }),
    })
  }

  /** Call `listener` with every change from now on (synchronously, in the order they happen). */
  subscribe(listener: StatusListener): void {
    this.#listeners.push(listener)
  }

  /** Records kept (checked servers and servers with an override). */
  get size(): number {
    return this.#byId.size
  }

  /** Whether server `id` still has a record (the admin page's health events are kept while it does). */
  has(id: number): boolean {
    return this.#byId.has(id)
  }

  /** The checker's state of a server (tests and the admin view read statuses instead). */
  serverHealth(service: string, server: string): ServerHealth | null {
    return this.#records.get(service)?.get(server)?.health ?? null
  }

  /**
   * A new snapshot: a record for every checked server (new ones start from `init_state`; known ones keep their
   * counter and overrides), records of servers that are gone or moved to another address are dropped, and the
   * checker follows. Then publish the whole state with the snapshot (`state()`).
   */
  sync(snapshot: Snapshot, changed: ServiceChange | null = null): void {
    if (changed !== null && this.#patch(changed)) return
    const services = new Map<string, ServiceSpec>()
    for (const svc of snapshot.services) if (!services.has(svc.name)) services.set(svc.name, svc)
    this.#services = services
    const next = new Map<string, Map<string, ServerRecord>>()
    const wanted = new Map<HealthTarget, Wanted>()
    for (const svc of services.values()) {
      const old = this.#records.get(svc.name)
      const check = svc.check
      if (old === undefined && check === undefined) continue
      let mine: Map<string, ServerRecord> | undefined
      for (const server of svc.servers) {
        if (mine?.has(server.name) === true) continue
        const checked = check !== undefined && server.check !== false
        let r = old?.get(server.name)
        if (r !== undefined && (r.host !== server.host || r.port !== server.port)) r = undefined
        if (r === undefined) {
          if (!checked) continue
          r = new ServerRecord(this.#nextId++, svc.name, server, this.#addresses)
        } else if (!checked && r.admin === null && r.weight === null) continue
        r.spec = server
        if (mine === undefined) next.set(svc.name, (mine = new Map()))
        mine.set(server.name, r)
        if (checked)
          wanted.set(r, {
            spec: check,
            observe: svc.observe ?? null,
            slowstart: svc.slowstart ?? 0,
            sendProxy: svc.sendProxy ?? 'none',
          })
      }
    }
    this.#records = next
    this.#byId = new Map()
    this.#checker.sync(wanted)
    for (const servers of next.values()) {
      for (const r of servers.values()) {
        this.#byId.set(r.id, r)
        r.health = wanted.has(r) ? (this.#checker.get(r) ?? null) : null
        if (r.health !== null) this.#checker.pause(r.health, r.adminState === 'maint')
      }
    }
  }

  /**
   * `sync` for a snapshot that differs from the last one by `changed` only, when none of the services it
   * removes or adds has a check or a record (the usual Consul change): their specs are swapped in the services
   * map and nothing else moves. False when the whole sync is needed.
   */
  #patch(changed: ServiceChange): boolean {
    const { removedServices: removed, addedServices: added } = changed
    for (const list of [removed, added])
      for (const svc of list) if (svc.check !== undefined || this.#records.has(svc.name)) return false
    // In place: nothing reads the map while this runs (copying 10,000 entries took 2–3 ms).
    const services = this.#services
    for (const svc of removed) if (services.get(svc.name) === svc) services.delete(svc.name)
    for (const svc of added) if (!services.has(svc.name)) services.set(svc.name, svc)
    return true
  }

  /** Every record's status, with names (what a worker binds its servers by when it applies a snapshot). */
  state(): ServersState {
    const servers: ServerStatus[] = []
    for (const r of this.#byId.values()) servers.push(this.#status(r, true))
    return { seq: this.#seq, servers }
  }

  /** The status of every record of the services named in `only`, with names (what a delta brings along). */
  stateOf(only: ReadonlySet<string>): ServersState {
    const servers: ServerStatus[] = []
    for (const name of only) {
      const records = this.#records.get(name)
      if (records !== undefined) for (const r of records.values()) servers.push(this.#status(r, true))
    }
    return { seq: this.#seq, servers }
  }

  /** A passive observation of server `id` from live traffic (haproxy `observe`). */
  observe(id: number, ok: boolean): void {
    const h = this.#byId.get(id)?.health
    if (h !== undefined && h !== null) this.#checker.observe(h, ok)
  }

  /**
   * Observations a worker process collected (`recordObservation`), replayed in the order the
   * worker saw them: `runs[0]` failures first, then each later run of failures after one success.
   */
  observeRuns(id: number, runs: readonly number[]): void {
    const h = this.#byId.get(id)?.health
    if (h !== undefined && h !== null) replayRuns(runs, (ok) => this.#checker.observe(h, ok))
  }

  /**
   * haproxy `set server <svc>/<srv> state ready|drain|maint`. drain: no new requests, checks continue; maint: no
   * traffic and no checks (leaving maint restarts them from `init_state`). Throws RuntimeError
   * (EDGE_RUNTIME_NOT_FOUND, EDGE_RUNTIME_INVALID) before changing anything.
   */
  setServerState(service: string, server: string, state: AdminState): void {
    if (state !== 'ready' && state !== 'drain' && state !== 'maint') {
      throw new RuntimeError(
        'EDGE_RUNTIME_INVALID',
        `state must be ready, drain or maint, got ${String(state)}`,
      )
    }
    const r = this.#record(service, server)
    r.admin = state
    if (r.health !== null) this.#checker.pause(r.health, state === 'maint')
    this.#publish(r, true)
  }

  /** haproxy `set weight`: an integer 0..256 or `N%` of the configured weight. Returns the new weight. */
  setServerWeight(service: string, server: string, weight: number | string): number {
    const r = this.#record(service, server)
    let w: number
    if (typeof weight === 'string' && weight.endsWith('%')) {
      const pct = Number(weight.slice(0, -1))
      if (!Number.isFinite(pct) || pct < 0)
        throw new RuntimeError('EDGE_RUNTIME_INVALID', `bad weight ${weight}`)
      w = Math.min(MAX_WEIGHT, Math.round((r.spec.weight * pct) / 100))
    } else {
      w = Number(weight)
    }
    if (!Number.isInteger(w) || w < 0 || w > MAX_WEIGHT) {
      throw new RuntimeError(
        'EDGE_RUNTIME_INVALID',
        `weight must be an integer 0..${MAX_WEIGHT} or N%, got ${weight}`,
      )
    }
    r.weight = w
    this.#publish(r, true)
    return w
  }

  /** Resolves when no probe is in flight (tests drive mock timers, then await this). */
  settled(): Promise<void> {
    return this.#checker.settled()
  }

  stop(): void {
    this.#checker.stop()
  }

  /** The record of a server of the current snapshot, made when it has none (an override of an unchecked server). */
  #record(service: string, server: string): ServerRecord {
    const known = this.#records.get(service)?.get(server)
    if (known !== undefined) return known
    let spec: ServerSpec | undefined
    for (const s of this.#services.get(service)?.servers ?? []) {
      if (s.name === server) {
        spec = s
        break
      }
    }
    if (spec === undefined) throw new RuntimeError('EDGE_RUNTIME_NOT_FOUND', `no server ${service}/${server}`)
    const r = new ServerRecord(this.#nextId++, service, spec, this.#addresses)
    let servers = this.#records.get(service)
    if (servers === undefined) this.#records.set(service, (servers = new Map()))
    servers.set(server, r)
    this.#byId.set(r.id, r)
    return r
  }

  #verdict(h: ServerHealth, up: boolean, why: string): void {
    const r = h.target as ServerRecord
    const fields = { server: r.label, status: h.status(), reason: why }
    if (up) this.#log.info(fields, 'server is UP')
    else this.#log.warn(fields, 'server is DOWN')
    this.#publish(r, true)
  }

  #result(h: ServerHealth, r: ProbeResult): void {
    const record = h.target as ServerRecord
    this.#onResult?.(record.id, r.duration)
    this.#publish(record, false)
  }

  #publish(r: ServerRecord, routing: boolean): void {
    if (this.#listeners.length === 0) return
    const state: ServersState = { seq: ++this.#seq, servers: [this.#status(r, !r.announced)] }
    for (let i = 0; i < this.#listeners.length; i++) (this.#listeners[i] as StatusListener)(state, routing)
  }

  #status(r: ServerRecord, names: boolean): ServerStatus {
    r.announced = true
    const h = r.health
    const health: HealthStatus | null =
      h === null
        ? null
        : {
            up: h.up,
            health: h.health,
            upSince: h.upSince,
            last: h.last,
            lastPassive: h.lastPassive,
            checks: h.checks,
            failedChecks: h.failedChecks,
            downTransitions: h.downTransitions,
          }
    return names
      ? { id: r.id, service: r.service, server: r.server, admin: r.admin, weight: r.weight, health }
      : { id: r.id, admin: r.admin, weight: r.weight, health }
  }
}
