/**
 * `watch: state`: what lb remembers of `/v1/health/state/any` (every check of the datacenter) to tell which
 * services and nodes a new answer changed. Each check is kept as a 52-bit fingerprint of the fields lb reads, not
 * as text (see docs/consul.md for what a fingerprint collision would cost).
 */

/** One entry of `/v1/health/state/any` (HealthCheck), as far as lb reads it. */
interface StateCheck {
  readonly Node?: unknown
  readonly CheckID?: unknown
  readonly Status?: unknown
  readonly ServiceID?: unknown
  readonly ServiceName?: unknown
  readonly ServiceTags?: unknown
}

/** What lb compares of one check: a fingerprint of the fields read, its service ('' = node check) and node. */
export interface CheckInfo {
  readonly hash: number
  readonly svc: string
  readonly node: string
}

export function checkInfo(item: unknown): CheckInfo | null {
  if (typeof item !== 'object' || item === null) return null
  const c = item as StateCheck
  const node = typeof c.Node === 'string' ? c.Node : ''
  const svc = typeof c.ServiceName === 'string' ? c.ServiceName : ''
  const tags = Array.isArray(c.ServiceTags) ? c.ServiceTags.join(',') : ''
  const id = String(c.CheckID)
  return {
    hash: fingerprint(`${node}\0${id}\0${String(c.Status)}\0${String(c.ServiceID ?? '')}\0${svc}\0${tags}`),
    svc,
    node,
  }
}

/**
 * 52 bits of two FNV-1a hashes of `s` (different primes), a non-negative integer. Two different checks with the
 * same fingerprint in one changed region would hide that change until the next resync (every `wait`).
 */
export function fingerprint(s: string): number {
  let a = 0x811c9dc5
  let b = 0x050c5d1f
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    a = Math.imul(a ^ ch, 0x01000193)
    b = Math.imul(b ^ ch, 0x5bd1e995)
  }
  return (a >>> 12) * 2 ** 32 + (b >>> 0)
}

/**
 * `state` mode: the checks of the last `/v1/health/state/any` answer, in answer order (element i of the
 * answer text is check i): a fingerprint of what lb compares (`hash`, -1 = not a check object), and the
 * check's service and node as indexes into `names` (0 = ''). ≈ 16 bytes a check; a Map of parsed check lines
 * held ≈ 420 (12.8 MB at 30,000 checks).
 */
export class CheckTable {
  readonly length: number
  readonly hash: Float64Array
  readonly svc: Int32Array
  readonly node: Int32Array
  /** Service and node names; index 0 is ''. Shared by the tables derived with `splice`. */
  readonly names: string[]
  readonly #ids: Map<string, number>

  /** `into`: a table whose arrays (at least `length` long) this one takes over; else new arrays with room to grow. */
  private constructor(length: number, names: string[], ids: Map<string, number>, into: CheckTable | null) {
    this.length = length
    const room = length + (length >>> 4)
    this.hash = into?.hash ?? new Float64Array(room)
    this.svc = into?.svc ?? new Int32Array(room)
    this.node = into?.node ?? new Int32Array(room)
    this.names = names
    this.#ids = ids
  }

  static of(checks: readonly (CheckInfo | null)[]): CheckTable {
    const t = new CheckTable(checks.length, [''], new Map([['', 0]]), null)
    for (let i = 0; i < checks.length; i++) t.#set(i, checks[i] ?? null)
    return t
  }

  name(id: number): string {
    return this.names[id] ?? ''
  }

  /**
   * This table with checks `from`..`to - 1` replaced by `added`. `spare`: a table nobody reads any more, whose
   * arrays the new one is written into when they are long enough (it is unusable afterwards). The provider keeps
   * its last two tables and alternates, so a change allocates no arrays: at 10,000 services × 3 a table's are
   * 480 KB, and a new set per change waited for V8's next full GC in the C heap, which grew by 8 MB over 100
   * changes (bench/RESULTS.md, consul-scale).
   */
  splice(
    from: number,
    to: number,
    added: readonly (CheckInfo | null)[],
    spare: CheckTable | null = null,
  ): CheckTable {
    const length = this.length - (to - from) + added.length
    const into = spare !== null && spare !== this && spare.hash.length >= length ? spare : null
    const t = new CheckTable(length, this.names, this.#ids, into)
    const tail = from + added.length
    const end = this.length
    t.hash.set(this.hash.subarray(0, from))
    t.svc.set(this.svc.subarray(0, from))
    t.node.set(this.node.subarray(0, from))
    for (let i = 0; i < added.length; i++) t.#set(from + i, added[i] ?? null)
    t.hash.set(this.hash.subarray(to, end), tail)
    t.svc.set(this.svc.subarray(to, end), tail)
    t.node.set(this.node.subarray(to, end), tail)
    return t
  }

  /**
   * `table` with each hunk's checks `from`..`to - 1` replaced by its `added` (indexes of `table`, in order, not
   * overlapping): spliced from the last hunk back, so the earlier ones' indexes still hold. The splices write into
   * `spare` and the tables before them in turn (`splice`); the table now unused comes back as `spare`, for the next
   * call (with no hunks, `table` itself and `spare` as given).
   */
  static spliceAll(
    table: CheckTable,
    hunks: readonly {
      readonly from: number
      readonly to: number
      readonly added: readonly (CheckInfo | null)[]
    }[],
    spare: CheckTable | null,
  ): { readonly table: CheckTable; readonly spare: CheckTable | null } {
    for (let j = hunks.length - 1; j >= 0; j--) {
      const h = hunks[j] as (typeof hunks)[number]
      const next = table.splice(h.from, h.to, h.added, spare)
      spare = table
      table = next
    }
    return { table, spare }
  }

  #set(i: number, c: CheckInfo | null): void {
    this.hash[i] = c === null ? -1 : c.hash
    this.svc[i] = c === null ? 0 : this.#id(c.svc)
    this.node[i] = c === null ? 0 : this.#id(c.node)
  }

  #id(name: string): number {
    let id = this.#ids.get(name)
    if (id === undefined) {
      id = this.names.length
      this.names.push(name)
      this.#ids.set(name, id)
    }
    return id
  }
}

/**
 * The checks in one non-passing state (`/v1/health/state/critical` or `.../warning`), to see at once which
 * services a status change touches: these answers hold only the checks in that state (a few, usually), where
 * `/v1/health/state/any` ships every check of the datacenter (12 MB at 10,000 services × 3, which Consul, or the
 * test server, takes 0.2–0.6 s to produce on the bench VM). A check that passes again leaves the list; one that
 * fails enters it, so every status change shows here as a key that came or went.
 */
export class StatusSet {
  #keys: Map<string, CheckInfo & { item: StateCheck }> | null

  constructor() {
    this.#keys = null
  }

  /**
   * The next answer: the services and nodes (node checks) with a check that entered or left the state since the
   * last answer; null for the first answer (nothing to compare with) or one that is not a list.
   */
  update(list: unknown): StatusChange | null {
    if (!Array.isArray(list)) return null
    const keys = new Map<string, CheckInfo & { item: StateCheck }>()
    for (const item of list as unknown[]) {
      const c = checkInfo(item)
      if (c === null) continue
      const s = item as StateCheck
      keys.set(`${c.node}\0${String(s.CheckID)}\0${String(s.ServiceID ?? '')}`, { ...c, item: s })
    }
    const before = this.#keys
    this.#keys = keys
    if (before === null) return null
    const services = new Set<string>()
    const nodes = new Set<string>()
    const entered: EnteredCheck[] = []
    const note = (c: CheckInfo): void => {
      if (c.svc !== '') services.add(c.svc)
      else nodes.add(c.node)
    }
    for (const [k, c] of keys) {
      const was = before.get(k)
      if (was?.hash === c.hash) continue
      note(c)
      if (was === undefined) {
        const s = c.item
        entered.push({
          svc: c.svc,
          node: c.node,
          checkId: String(s.CheckID),
          serviceId: String(s.ServiceID ?? ''),
        })
      }
    }
    for (const [k, c] of before) if (!keys.has(k)) note(c)
    return { services, nodes, entered }
  }
}

/** What changed in a status watch's answer (StatusSet.update). */
export interface StatusChange {
  /** Services with a check that entered or left the state, or changed within it. */
  readonly services: Set<string>
  /** Nodes whose node checks did. */
  readonly nodes: Set<string>
  /** The checks that entered the state. */
  readonly entered: EnteredCheck[]
}

export interface EnteredCheck {
  readonly svc: string
  readonly node: string
  readonly checkId: string
  /** '' for a node check. */
  readonly serviceId: string
}
