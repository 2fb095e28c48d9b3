/**
 * Host names for routing. Pure: no I/O.
 *
 * - `normalizeHost` gives the canonical form used as a table key: lower-case, no trailing dot on the name,
 *   no default port (`:80`, `:443`, or an empty port), IPv6 literals kept in brackets (`[::1]:8080`).
 *   It is used at build time and on the lookup slow path only.
 * - `portStart`, `isDefaultPort` and `needsNormalize` scan a raw Host header without allocating, so the lookup
 *   fast path can use the header string as it arrived.
 * - `compareWildcardHosts` is the documented most-specific-first order of wildcard hosts (fabio's
 *   `sortHostsReverseHostPort` idea), and `WildcardIndex` finds the matching wildcards in that order without
 *   scanning every wildcard host.
 */
import { childrenOf, denseChildren, RadixNode, radixInsert } from './trie.js'
import { globProblem, isGlob } from './glob.js'
import { isHostname, isIPv4, isIPv6, type Parsed } from '../net/address.js'

const CH_STAR = 42
const CH_DOT = 46
const CH_COLON = 58
const CH_LBRACKET = 91
const CH_UPPER_A = 65
const CH_UPPER_Z = 90
const CH_ASCII_MAX = 127

/**
 * Index of the ':' that starts the port of `host`, or `host.length` when there is no port.
 * `[v6]:port` is split after the ']'; an unbracketed name with more than one ':' has no port.
 */
export function portStart(host: string): number {
  if (host.charCodeAt(0) === CH_LBRACKET) {
    const close = host.indexOf(']')
    return close !== -1 && host.charCodeAt(close + 1) === CH_COLON ? close + 1 : host.length
  }
  const colon = host.indexOf(':')
  if (colon === -1 || host.indexOf(':', colon + 1) !== -1) return host.length
  return colon
}

/** True when the port starting at `start` (see `portStart`) is '', '80' or '443'. False when there is no port. */
export function isDefaultPort(host: string, start: number): boolean {
  switch (host.length - start) {
    case 1:
      return true // `example.com:`
    case 3:
      return host.startsWith('80', start + 1)
    case 4:
      return host.startsWith('443', start + 1)
    default:
      return false
  }
}

/** Chars that `normalizeHost` may change: ASCII upper-case, and anything non-ASCII (rare, so always normalised). */
const MAY_CHANGE_CASE = /[A-Z\u0080-\uffff]/

/**
 * True when the raw host can differ from every table key in more than a port the table handles by itself
 * (`:80` and `:443` are keys, other ports are split off with `portStart`): the host has upper-case (or
 * non-ASCII) letters, its name (before `nameEnd`) ends with a dot, or its port is empty (`example.com:`).
 * Allocation-free. (Measured: `RegExp#test` beat a charCodeAt loop over the host by ~30 ns; `toLowerCase() !==`
 * was as fast but allocates a new string on every call.)
 */
export function needsNormalize(host: string, nameEnd: number): boolean {
  return (
    MAY_CHANGE_CASE.test(host) ||
    (nameEnd > 1 && host.charCodeAt(nameEnd - 1) === CH_DOT) ||
    nameEnd === host.length - 1
  )
}

/**
 * True when `host[0, end)` has no char that `normalizeHost` may change (ASCII upper-case or non-ASCII).
 * A charCodeAt loop for the short ranges the lookup fast path checks (the part of a host before the wildcard
 * suffix it matched).
 */
export function isLowerCaseRange(host: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = host.charCodeAt(i)
    if ((c >= CH_UPPER_A && c <= CH_UPPER_Z) || c > CH_ASCII_MAX) return false
  }
  return true
}

/**
 * Canonical host: lower-cased, one trailing dot removed from the name (`example.com.` is `example.com`),
 * and the port dropped when it is the default for HTTP or HTTPS (`:80`, `:443`) or empty. Other ports are kept.
 * IPv6 literals keep their brackets: `[::1]:80` → `[::1]`, `[::1]:8080` stays. Both ports are stripped on
 * every listener: the table does not know whether the request came over TLS (fabio strips `:80` on plain
 * HTTP and `:443` on TLS only). Port digits are not re-parsed (`:080` is a non-default port).
 */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase()
  const nameEnd = portStart(h)
  let name = nameEnd === h.length ? h : h.slice(0, nameEnd)
  if (name.length > 1 && name.charCodeAt(name.length - 1) === CH_DOT) name = name.slice(0, -1)
  if (nameEnd === h.length || isDefaultPort(h, nameEnd)) return name
  return name + h.slice(nameEnd)
}

/**
 * Canonical route host (a table key): `normalizeHost` except that an explicit `:80` or `:443` is kept, because on
 * a route it means something (fabio): `example.com:80` only serves plain-HTTP requests, `example.com:443` only
 * TLS ones, and both are tried before the portless `example.com`. An empty port is dropped.
 */
export function normalizeRouteKey(host: string): string {
  const h = host.toLowerCase()
  const nameEnd = portStart(h)
  let name = nameEnd === h.length ? h : h.slice(0, nameEnd)
  if (name.length > 1 && name.charCodeAt(name.length - 1) === CH_DOT) name = name.slice(0, -1)
  if (nameEnd === h.length || nameEnd === h.length - 1) return name
  return name + h.slice(nameEnd)
}

/** True for a wildcard host pattern: one that starts with '*' (`*.example.com`). */
export function isWildcardHost(host: string): boolean {
  return host.charCodeAt(0) === CH_STAR
}

/** A normalised wildcard host split into the suffix after the '*' and the port ('' = any port). */
export interface WildcardHost {
  readonly suffix: string
  readonly port: string
}

/** Splits a normalised wildcard pattern: `*.example.com:8080` → `{ suffix: '.example.com', port: '8080' }`. */
export function splitWildcardHost(pattern: string): WildcardHost {
  const nameEnd = portStart(pattern)
  return {
    suffix: pattern.slice(1, nameEnd),
    port: nameEnd === pattern.length ? '' : pattern.slice(nameEnd + 1),
  }
}

function reverse(s: string): string {
  let out = ''
  for (let i = s.length - 1; i >= 0; i--) out += s[i]
  return out
}

/**
 * Orders normalised wildcard hosts as lookup tries them, most specific first:
 * 1. patterns with a port before patterns without one (a request with port P tries the `:P` wildcards first);
 * 2. by the suffix reversed, descending (fabio `sortHostsReverseHostPort`): `*.a.example.com` before
 *    `*.example.com` before `*example.com` before `*`. Whenever two patterns can match the same host, one suffix
 *    ends the other, and the longer (more specific) one sorts first;
 * 3. by port, ascending.
 */
export function compareWildcardHosts(a: string, b: string): number {
  const wa = splitWildcardHost(a)
  const wb = splitWildcardHost(b)
  if ((wa.port === '') !== (wb.port === '')) return wa.port === '' ? 1 : -1
  const ra = reverse(wa.suffix)
  const rb = reverse(wb.suffix)
  if (ra !== rb) return ra > rb ? -1 : 1
  return wa.port < wb.port ? -1 : wa.port > wb.port ? 1 : 0
}

/**
 * One node of the wildcard suffix index. The index is a radix trie over host suffixes read right to left:
 * a child's `label` is a forward substring that ends where its parent's suffix starts, and children are
 * indexed by the label's last char code.
 */
export class SuffixNode<V> {
  readonly label: string
  /** The value of the wildcard `*<suffix>` whose suffix ends at this node, or null. */
  readonly value: V | null
  /** The nearest ancestor with a value: the next less specific wildcard that also matches. */
  readonly next: SuffixNode<V> | null
  /** Length of the whole suffix that ends at this node (this label plus the ancestors' labels). */
  readonly depth: number
  /** Char code of `children[0]`. */
  readonly base: number
  /** Filled once while freezing (a child's `next` may point at this node, so it is made first). */
  readonly children: (SuffixNode<V> | null)[]

  constructor(label: string, value: V | null, next: SuffixNode<V> | null, depth: number, base: number) {
    this.label = label
    this.value = value
    this.next = next
    this.depth = depth
    this.base = base
    this.children = []
  }
}

export interface WildcardIndex<V> {
  readonly root: SuffixNode<V>
  readonly size: number
}

/** Collects wildcard suffixes (the pattern without its '*'), first insert wins, then freezes a `WildcardIndex`. */
export class WildcardIndexBuilder<V> {
  readonly #root: RadixNode<V>
  #size: number

  constructor() {
    this.#root = new RadixNode<V>('', null)
    this.#size = 0
  }

  insert(suffix: string, value: V): boolean {
    const added = radixInsert(this.#root, reverse(suffix), value)
    if (added) this.#size++
    return added
  }

  finish(): WildcardIndex<V> {
    return { root: freezeSuffix(this.#root, null, 0), size: this.#size }
  }
}

function freezeSuffix<V>(
  node: RadixNode<V>,
  parentNext: SuffixNode<V> | null,
  parentDepth: number,
): SuffixNode<V> {
  // Build keys are reversed; labels are stored forward so lookup compares them against the host as it is.
  // A child keyed by the first reversed char is indexed by the last char of its forward label.
  const children = childrenOf(node)
  let base = children.size === 0 ? 0 : Infinity
  for (const code of children.keys()) if (code < base) base = code
  const depth = parentDepth + node.prefix.length
  const frozen = new SuffixNode(reverse(node.prefix), node.value, parentNext, depth, base)
  const next = node.value === null ? parentNext : frozen
  const dense = denseChildren(children, (child: RadixNode<V>) => freezeSuffix(child, next, depth))
  for (let i = 0; i < dense.children.length; i++) frozen.children.push(dense.children[i] ?? null)
  return frozen
}

/**
 * Whether `host[0, pos)` ends with `label`; its last char is already known to match (it chose the child).
 * Measured on wildcard-10k: a charCodeAt loop beats `host.endsWith(label, pos)` on short labels (most are one
 * or a few chars) and loses on long ones (`.example.com`); this hybrid was ~17% faster than either alone.
 */
function endsWithAt(host: string, pos: number, label: string): boolean {
  const n = label.length
  if (n > 4) return host.endsWith(label, pos)
  const start = pos - n
  if (start < 0) return false
  for (let j = n - 2; j >= 0; j--) {
    if (label.charCodeAt(j) !== host.charCodeAt(start + j)) return false
  }
  return true
}

/**
 * The most specific wildcard matching the host name `host[0, nameEnd)`, or null. Follow `.next` for the
 * less specific ones, in order. A wildcard `*<suffix>` matches when the name ends with the suffix and has
 * at least one more char before it: `*.example.com` matches `a.example.com` and `a.b.example.com`,
 * not `example.com` or `.example.com`. Allocation-free; cost is bounded by the name length, not by the
 * number of wildcards.
 */
export function matchWildcard<V>(
  index: WildcardIndex<V>,
  host: string,
  nameEnd: number,
): SuffixNode<V> | null {
  let node = index.root
  let pos = nameEnd
  let best: SuffixNode<V> | null = null
  for (;;) {
    if (node.value !== null && pos > 0) best = node
    if (pos === 0) break
    const idx = host.charCodeAt(pos - 1) - node.base
    if (idx < 0 || idx >= node.children.length) break
    const child = node.children[idx]
    if (child === undefined || child === null) break
    if (!endsWithAt(host, pos, child.label)) break
    pos -= child.label.length
    node = child
  }
  return best
}

/**
 * Canonical route host (`normalizeRouteKey`: lower-case, one trailing dot dropped; an explicit
 * `:80` or `:443` is kept, since on a route it selects plain-HTTP or TLS requests), then checked: hostname,
 * IPv4, `[IPv6]` or a glob pattern (`*.suffix`, `*`, `api-*.example.com`, `{a,b}.example.com`), optional
 * `:port`. '' = catch-all.
 */
export function normalizeRouteHost(input: string): Parsed<string> {
  if (input === '') return { ok: true, value: '' }
  if (input === '*') return routeHostFail('use an empty host (or leave it out) for the catch-all route')
  const host = normalizeRouteKey(input)
  // Most route hosts have no port: skip the regex for them (a Consul build checks 20,000 hosts at a time).
  const m = host.includes(':') && !host.startsWith('[') ? /^(.*?)(?::(\d{1,5}))?$/.exec(host) : null
  const v6 = host.startsWith('[') ? /^(\[[^\]]*\])(?::(\d{1,5}))?$/.exec(host) : null
  const name = m !== null ? (m[1] ?? '') : v6 !== null ? (v6[1] ?? '') : host
  const port = m?.[2] ?? v6?.[2]
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return routeHostFail(`port must be between 1 and 65535, got ${port}`)
  }
  if (!name.startsWith('[') && isGlob(name)) {
    // fabio's glob hosts (`*:80`, `api-*.example.com`, `{a,b}.example.com`): hostname characters and glob syntax.
    const why = globProblem(name)
    if (why !== '') return routeHostFail(`host pattern ${why}`)
    if (!/^[a-z0-9.*?[\]{},!\\_-]+$/.test(name))
      return routeHostFail(
        `"${input}" is not a valid host pattern (hostname characters and * ? [ ] { } only)`,
      )
    return { ok: true, value: host }
  }
  const bare = name
  const valid =
    bare.startsWith('[') && bare.endsWith(']') ? isIPv6(bare.slice(1, -1)) : isHostname(bare) || isIPv4(bare)
  if (!valid)
    return routeHostFail(`"${input}" is not a valid host (hostname, *.domain, IP or [IPv6], optional :port)`)
  return { ok: true, value: host }
}

function routeHostFail(reason: string): Parsed<string> {
  return { ok: false, reason }
}
