/**
 * Runtime server objects and the per-list picker state: what server selection reads and mutates (haproxy
 * semantics: docs/haproxy.md). Pure: no I/O, logging or metrics.
 *
 * `isAvailable` is the one rule every picker (pickers.ts) and the pool (pool.ts) share: a server takes a new
 * request only when it is up, ready, has weight and is below maxconn.
 */
import type { BalanceName, ServerSpec } from '../model/snapshot.js'

/** Administrative state: `drain` takes no new requests (haproxy `set server … state drain`), `maint` is off. */
export type AdminState = 'ready' | 'drain' | 'maint'

/** Largest weight (haproxy: `weight` is 0..256). */
export const MAX_WEIGHT = 256
/**
 * Largest weight of a server a provider generated to realise fabio traffic shares (src/fabio/routecmd.ts
 * `scaleWeights`): configured and runtime weights stay within MAX_WEIGHT.
 */
export const MAX_GENERATED_WEIGHT = 1_000_000

export interface BackendInit extends Pick<
  ServerSpec,
  'name' | 'host' | 'port' | 'weight' | 'backup' | 'maxconn'
> {
  readonly service: string
  /** Health as known by the control plane. Default `true`. */
  readonly up?: boolean
  /** Default `'ready'`. */
  readonly admin?: AdminState
}

/** What a Backend reads from its server's spec (a `ServerSpec` is one): kept by reference, not copied. */
export type BackendServer = Pick<ServerSpec, 'name' | 'host' | 'port' | 'weight' | 'backup' | 'maxconn'>

/** What a Backend reads from its service (a `ServiceSpec` is one). */
export interface BackendService {
  readonly name: string
}

/**
 * One runtime object per server. The proxy subclasses it (`class Upstream extends Backend`) to attach its
 * connection pool. Every field is initialised in the constructor and none is added later (one hidden class).
 *
 * The spec's constant fields (name, host, port, backup) and the service name are read through `spec` and
 * `serviceSpec` instead of being copied: at 30,000 servers each copied field costs 240 KB (8-byte pointers).
 */
export class Backend {
  /** The server's spec (the Upstream keeps its snapshot's ServerSpec here). */
  spec: BackendServer
  /** The service's spec (the Upstream keeps its snapshot's ServiceSpec here). */
  serviceSpec: BackendService
  /** Configured or admin-set weight, an integer 0..256. Change it with `setWeight`. */
  weight: number
  /** The weight pickers use. Equal to `weight` for now; slowstart will ramp it. */
  effectiveWeight: number
  /** Smooth weighted round-robin state (roundrobin picker). */
  currentWeight: number
  /** Concurrent requests allowed; 0 = unlimited. */
  maxconn: number
  /** Requests in progress. The proxy increments it when it starts a request and decrements it when done. */
  inflight: number
  /** Health: false after failed checks or a DNS failure. Set by the control plane. */
  up: boolean
  admin: AdminState

  /** `init` alone (tests, explain): the service is `init.service`. The Upstream passes its specs. */
  constructor(init: BackendServer & Partial<BackendInit>, service?: BackendService) {
    checkWeight(init.weight)
    if (!Number.isInteger(init.maxconn) || init.maxconn < 0) {
      throw new RangeError(`maxconn must be an integer >= 0, got ${init.maxconn}`)
    }
    this.spec = init
    this.serviceSpec = service ?? { name: init.service ?? '' }
    this.weight = init.weight
    this.effectiveWeight = init.weight
    this.currentWeight = 0
    this.maxconn = init.maxconn
    this.inflight = 0
    this.up = init.up ?? true
    this.admin = init.admin ?? 'ready'
  }

  get service(): string {
    return this.serviceSpec.name
  }

  get name(): string {
    return this.spec.name
  }

  get host(): string {
    return this.spec.host
  }

  get port(): number {
    return this.spec.port
  }

  get backup(): boolean {
    return this.spec.backup
  }

  /**
   * haproxy `set weight`: sets `weight` and `effectiveWeight` together (until slowstart exists).
   * roundrobin, leastconn and random follow at the next pick; static-rr only notices 0 vs non-zero.
   */
  setWeight(weight: number): void {
    checkWeight(weight)
    this.weight = weight
    this.effectiveWeight = weight
  }
}

function checkWeight(weight: number): void {
  // Config validation rejects bad weights first; this guards the integer arithmetic the pickers rely on.
  if (!Number.isInteger(weight) || weight < 0 || weight > MAX_GENERATED_WEIGHT) {
    throw new RangeError(`weight must be an integer 0..${MAX_GENERATED_WEIGHT}, got ${weight}`)
  }
}

/** Maps the snapshot's server state onto `up` + `admin` (a `down` server is ready but unhealthy). */
export function backendInit(service: string, spec: ServerSpec): BackendInit {
  return {
    service,
    name: spec.name,
    host: spec.host,
    port: spec.port,
    weight: spec.weight,
    backup: spec.backup,
    maxconn: spec.maxconn,
    up: spec.state !== 'down',
    admin: spec.state === 'drain' ? 'drain' : spec.state === 'maint' ? 'maint' : 'ready',
  }
}

/** Can take a new request now: healthy, ready, weight > 0 and below maxconn. */
export function isAvailable(b: Backend): boolean {
  return b.up && b.admin === 'ready' && b.effectiveWeight > 0 && (b.maxconn === 0 || b.inflight < b.maxconn)
}

/** Picker state for one server list (a pool has one for `normal` and one for `backup`). */
export class ListState {
  /** static-rr: indexes into the list, smoothly interleaved by configured weight. Empty for other algorithms. */
  readonly sequence: Uint32Array
  /** static-rr: next position in `sequence`. */
  seqCursor: number
  /** leastconn: index where the next scan starts (one past the last pick), so that ties rotate. */
  lcCursor: number

  constructor(servers: readonly Backend[], balance: BalanceName) {
    this.sequence = balance === 'static-rr' ? buildSequence(servers) : EMPTY
    this.seqCursor = 0
    this.lcCursor = 0
  }
}

const EMPTY = new Uint32Array(0)

/** What a picker reads of its pool (a `Pool` is one): the two server lists and their picker state. */
export interface PickerPool {
  readonly service: string
  readonly normal: readonly Backend[]
  readonly backup: readonly Backend[]
  readonly normalState: ListState
  readonly backupState: ListState
}

/**
 * The static-rr sequence: server i appears weight_i / gcd times, at virtual times (2k + 1) / (2 w_i),
 * emitted in time order with ties in list order (stride scheduling, the Sainte-Laguë divisor sequence).
 * 5,1,1 gives a a a b c a a; 2,2,1 gives a b c a b. haproxy builds its map by simulating smooth WRR, which
 * costs O(total weight × servers); a heap keeps this at O(total weight × log servers), which matters at
 * hundreds of servers with unequal weights (up to 256 × N entries).
 */
function buildSequence(servers: readonly Backend[]): Uint32Array {
  const n = servers.length
  let g = 0
  for (let i = 0; i < n; i++) {
    const w = (servers[i] as Backend).weight
    if (w > 0) g = gcd(g, w)
  }
  if (g === 0) return EMPTY
  const weight = new Uint32Array(n)
  const count = new Uint32Array(n)
  const heap = new Uint32Array(n)
  let size = 0
  let total = 0
  for (let i = 0; i < n; i++) {
    const w = (servers[i] as Backend).weight / g
    weight[i] = w
    total += w
    if (w > 0) heap[size++] = i
  }
  // heap[] holds server indexes; earlier is (2c_i + 1) / w_i < (2c_j + 1) / w_j, cross-multiplied, ties by index.
  const earlier = (i: number, j: number): boolean => {
    const l = (2 * (count[i] as number) + 1) * (weight[j] as number)
    const r = (2 * (count[j] as number) + 1) * (weight[i] as number)
    return l < r || (l === r && i < j)
  }
  const siftDown = (at: number): void => {
    const x = heap[at] as number
    for (;;) {
      let child = 2 * at + 1
      if (child >= size) break
      if (child + 1 < size && earlier(heap[child + 1] as number, heap[child] as number)) child++
      const c = heap[child] as number
      if (!earlier(c, x)) break
      heap[at] = c
      at = child
    }
    heap[at] = x
  }
  for (let at = (size >> 1) - 1; at >= 0; at--) siftDown(at)
  const seq = new Uint32Array(total)
  for (let t = 0; t < total; t++) {
    const top = heap[0] as number
    seq[t] = top
    count[top] = (count[top] as number) + 1
    if (count[top] === weight[top]) heap[0] = heap[--size] as number
    if (size > 0) siftDown(0)
  }
  return seq
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b
    a = b
    b = t
  }
  return a
}
