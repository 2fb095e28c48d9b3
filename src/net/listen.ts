/**
 * Listen options for cluster workers. Node ≥ 22.12 / 23.1 on Linux gives every worker its own socket on the
 * same port (`reusePort`, the kernel spreads connections; `exclusive` keeps `listen()` from asking the primary
 * for a shared handle), so the primary is not in the accept path and never holds a client connection. Where
 * reusePort is missing (another OS) the workers share the primary's handle and the primary accepts every
 * connection and hands it to a worker round-robin (cluster's default scheduling).
 */
import cluster from 'node:cluster'
import { createServer, type AddressInfo, type Server } from 'node:net'

/** `server.listen({ reusePort })` exists from v22.12.0 and v23.1.0, and works only on Linux here. */
export function supportsReusePort(version: string, platform: string): boolean {
  if (platform !== 'linux') return false
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

const reusePortHere = supportsReusePort(process.versions.node, process.platform)
const reusePort = cluster.isWorker && reusePortHere

/**
 * Extra `listen()` options for `port`. Port 0 keeps the shared handle: with reusePort every worker would bind
 * a different ephemeral port (the primary gives cluster workers a real port instead: SharedPorts).
 */
export function listenExtras(port: number): { reusePort?: boolean; exclusive?: boolean } {
  return reusePort && port !== 0 ? { reusePort: true, exclusive: true } : {}
}

/** What SharedPorts reads of a configured listener. */
export interface NamedListener {
  readonly name: string
  readonly host: string
  readonly port: number
}

/**
 * One port per `port: 0` listener for all cluster workers (tests use port 0; production configs name ports).
 * With reusePort each worker binds its own socket, so port 0 would give each a different port. The primary
 * instead binds the listener's host on port 0 with reusePort itself and puts that port in the config it loaded,
 * before anything is built from it (TCP routes are keyed by the listener's port), so the workers and the
 * primary's own view see the real port. The primary's socket closes (`release`) once the workers listen: it is
 * held only while no one has been told the port, and it accepts nothing. A reload keeps a listener's port while
 * its name and host stay. Disabled (single process, or no reusePort), configs pass through unchanged.
 */
export class SharedPorts {
  readonly #enabled: boolean
  /** Listener name → the host it was bound on and its port. */
  readonly #ports: Map<string, { readonly host: string; readonly port: number }>
  readonly #held: Server[]

  constructor(enabled: boolean) {
    this.#enabled = enabled && reusePortHere
    this.#ports = new Map()
    this.#held = []
  }

  /** `config` with every port-0 listener given its shared port, binding a new one where needed. */
  async assign<C extends { readonly listeners: readonly NamedListener[] }>(config: C): Promise<C> {
    if (!this.#enabled) return config
    const names = new Set<string>()
    const listeners: C['listeners'][number][] = []
    let changed = false
    for (const l of config.listeners) {
      names.add(l.name)
      if (l.port !== 0) {
        listeners.push(l)
        continue
      }
      let known = this.#ports.get(l.name)
      if (known === undefined || known.host !== l.host) {
        const server = await bindReusePort(l.host)
        this.#held.push(server)
        known = { host: l.host, port: (server.address() as AddressInfo).port }
        this.#ports.set(l.name, known)
      }
      listeners.push({ ...l, port: known.port })
      changed = true
    }
    for (const name of this.#ports.keys()) if (!names.has(name)) this.#ports.delete(name)
    return changed ? { ...config, listeners } : config
  }

  /** The workers listen on the ports given out so far: close the primary's sockets. */
  release(): void {
    for (const server of this.#held.splice(0)) server.close()
  }
}

function bindReusePort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    // Serves nothing: a connection that reaches it before it closes is closed at once.
    server.maxConnections = 0
    server.once('error', reject)
    const opts = host === '' ? { port: 0, reusePort: true } : { port: 0, host, reusePort: true }
    server.listen(opts, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}
