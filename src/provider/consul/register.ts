/**
 * lb registers itself in Consul (fabio `registry.consul.register.*`): a service `name` (default `lb`) at the
 * admin address with an HTTP check on its `/health`, plus one registration per `register=<alias>` route option
 * (DNS names for host routes point at lb). Deregistration runs first on shutdown, before lb stops listening, so
 * Consul (and what follows it) moves traffic away while lb still answers.
 *
 * `registrations` is pure (the agent payloads); `SelfRegistration` does the I/O: register on `sync`, re-register
 * what the agent lost (checked every `refresh`), deregister aliases that went away, and `deregisterAll`.
 */
import type { ConsulHttp } from './client.js'
import type { Logger } from '../../log/log.js'

export interface RegisterOptions {
  readonly name: string
  /** Address registered and checked (`host:port`, host an IP or name). */
  readonly host: string
  readonly port: number
  readonly tags: readonly string[]
  /** ms */
  readonly checkInterval: number
  readonly checkTimeout: number
  readonly deregisterCriticalAfter: number
}

/** The body of `PUT /v1/agent/service/register`. */
export interface AgentService {
  readonly ID: string
  readonly Name: string
  readonly Address: string
  readonly Port: number
  readonly Tags: readonly string[]
  readonly Check: {
    readonly HTTP: string
    readonly Interval: string
    readonly Timeout: string
    readonly DeregisterCriticalServiceAfter: string
  }
}

/** `<name>-<hostname>-<port>`, fabio's service id. */
export function serviceId(name: string, hostname: string, port: number): string {
  return `${name}-${hostname}-${port}`
}

/** lb's own registration and one per alias (duplicates of `name` and of each other dropped), in order. */
export function registrations(
  o: RegisterOptions,
  aliases: readonly string[],
  hostname: string,
): AgentService[] {
  const names = [o.name]
  for (const a of aliases) if (!names.includes(a)) names.push(a)
  const host = o.host.includes(':') ? `[${o.host}]` : o.host
  return names.map((name) => ({
    ID: serviceId(name, hostname, o.port),
    Name: name,
    Address: o.host,
    Port: o.port,
    Tags: [...o.tags],
    Check: {
      HTTP: `http://${host}:${o.port}/health`,
      Interval: `${o.checkInterval}ms`,
      Timeout: `${o.checkTimeout}ms`,
      DeregisterCriticalServiceAfter: `${o.deregisterCriticalAfter}ms`,
    },
  }))
}

export interface SelfRegistrationOptions {
  readonly http: Pick<ConsulHttp, 'get' | 'put'>
  readonly options: RegisterOptions
  readonly hostname: string
  readonly log: Logger
  /** ms between checks that the agent still has every registration (fabio: 10 s). */
  readonly refresh?: number
}

export class SelfRegistration {
  readonly #o: SelfRegistrationOptions
  /** Registered (or to register) services by id. */
  readonly #wanted: Map<string, AgentService>
  readonly #registered: Set<string>
  readonly #stop: AbortController
  #timer: ReturnType<typeof setInterval> | null
  #aliases: readonly string[]
  #chain: Promise<void>

  constructor(o: SelfRegistrationOptions) {
    this.#o = o
    this.#wanted = new Map()
    this.#registered = new Set()
    this.#stop = new AbortController()
    this.#timer = null
    this.#aliases = []
    this.#chain = Promise.resolve()
  }

  /** The registrations wanted now (for tests and the admin view). */
  get wanted(): readonly AgentService[] {
    return [...this.#wanted.values()]
  }

  /** Start: register lb itself, and keep checking every `refresh`. */
  start(): Promise<void> {
    const refresh = this.#o.refresh ?? 10_000
    this.#timer = setInterval(() => void this.#enqueue(() => this.#ensure()), refresh)
    this.#timer.unref()
    return this.sync(this.#aliases)
  }

  /** Make the registrations match lb's own plus `aliases` (route `register=` options). */
  sync(aliases: readonly string[]): Promise<void> {
    this.#aliases = aliases
    return this.#enqueue(async () => {
      const next = registrations(this.#o.options, aliases, this.#o.hostname)
      const ids = new Set(next.map((s) => s.ID))
      for (const id of [...this.#wanted.keys()]) {
        if (ids.has(id)) continue
        this.#wanted.delete(id)
        await this.#deregister(id)
      }
      for (const s of next) {
        const was = this.#wanted.get(s.ID)
        this.#wanted.set(s.ID, s)
        if (was === undefined || JSON.stringify(was) !== JSON.stringify(s) || !this.#registered.has(s.ID))
          await this.#register(s)
      }
    })
  }

  /** Deregister everything (shutdown), within `timeout` ms; stops the refresh. */
  async deregisterAll(timeout: number): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    const ids = [...this.#wanted.keys()]
    this.#wanted.clear()
    await this.#chain
    const signal = AbortSignal.timeout(timeout)
    await Promise.all(ids.map((id) => this.#deregister(id, signal)))
    this.#stop.abort()
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(step, step)
    return this.#chain
  }

  /** Re-register what the agent no longer has (an agent restart forgets services registered through its API). */
  async #ensure(): Promise<void> {
    for (const s of this.#wanted.values()) {
      if (!this.#registered.has(s.ID)) {
        await this.#register(s)
        continue
      }
      try {
        const r = await this.#o.http.get(
          `/v1/agent/service/${encodeURIComponent(s.ID)}`,
          {},
          0,
          this.#stop.signal,
        )
        if (r.status === 404) {
          this.#registered.delete(s.ID)
          await this.#register(s)
        }
      } catch (err) {
        this.#o.log.warn({ service: s.ID, err: String(err) }, 'consul: checking lb registration failed')
      }
    }
  }

  async #register(s: AgentService): Promise<void> {
    try {
      await this.#o.http.put('/v1/agent/service/register', s, this.#stop.signal)
      this.#registered.add(s.ID)
      this.#o.log.info(
        { service: s.ID, name: s.Name, address: `${s.Address}:${s.Port}` },
        'consul: registered lb',
      )
    } catch (err) {
      this.#registered.delete(s.ID)
      this.#o.log.warn({ service: s.ID, err: String(err) }, 'consul: registering lb failed; retrying')
    }
  }

  async #deregister(id: string, signal: AbortSignal = this.#stop.signal): Promise<void> {
    try {
      await this.#o.http.put(`/v1/agent/service/deregister/${encodeURIComponent(id)}`, null, signal)
      this.#registered.delete(id)
      this.#o.log.info({ service: id }, 'consul: deregistered lb')
    } catch (err) {
      this.#o.log.warn({ service: id, err: String(err) }, 'consul: deregistering lb failed')
    }
  }
}
