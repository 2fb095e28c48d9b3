/**
 * Longest path-prefix match over a compressed radix trie, built once per table. Pure: no I/O.
 *
 * Build: `PathTrieBuilder.insert(path, value)` for each route, then `finish()` freezes the tree into
 * `PathNode`s whose children sit in a dense array indexed by `charCode - base`.
 * Lookup: a `PathMatcher` walks the raw request target with `charCodeAt` only, so it never slices or
 * allocates, and stops at the first '?' without searching for it first. The deepest node with a value that
 * passes the matcher's rule wins, which is the longest configured path satisfying that rule.
 * (Measured with bench/scenarios.ts: not computing `url.indexOf('?')` up front saved ~20 ns per lookup;
 * comparing edges with a charCodeAt loop was level with `url.startsWith(prefix, pos)` on short edges and
 * slightly faster on deep paths.)
 *
 * The radix builder (`RadixNode`, `radixInsert`, `denseChildren`) is shared with the wildcard host
 * index in host.ts, which inserts reversed host suffixes.
 */
import type { PathMatch } from '../model/snapshot.js'

const CH_SLASH = 47
const CH_QUERY = 63

/**
 * Build-time node: mutable, children keyed by the first char code of their prefix; null until the first child
 * (most nodes are leaves: with a Map each, this constructor was 11 % of `buildTable` in a CPU profile of the
 * 20,000-route table of 10,000 Consul services).
 */
export class RadixNode<V> {
  prefix: string
  value: V | null
  children: Map<number, RadixNode<V>> | null

  constructor(prefix: string, value: V | null) {
    this.prefix = prefix
    this.value = value
    this.children = null
  }
}

/** A node's children (an empty map for a leaf; never written through). */
export function childrenOf<V>(node: RadixNode<V>): ReadonlyMap<number, RadixNode<V>> {
  return node.children ?? NO_CHILD_MAP
}

const NO_CHILD_MAP: ReadonlyMap<number, never> = new Map<number, never>()

function addChild<V>(node: RadixNode<V>, code: number, child: RadixNode<V>): void {
  if (node.children === null) node.children = new Map()
  node.children.set(code, child)
}

/**
 * Inserts `key` → `value` below `root` (whose own prefix is ''), splitting edges as needed.
 * Returns false and changes nothing when `key` already has a value: the first insert wins.
 */
export function radixInsert<V>(root: RadixNode<V>, key: string, value: V): boolean {
  let node = root
  let i = 0
  for (;;) {
    if (i === key.length) {
      if (node.value !== null) return false
      node.value = value
      return true
    }
    const code = key.charCodeAt(i)
    const child = childrenOf(node).get(code)
    if (child === undefined) {
      addChild(node, code, new RadixNode(key.slice(i), value))
      return true
    }
    const p = child.prefix
    let j = 1 // the first char matched through the map key
    while (j < p.length && i + j < key.length && p.charCodeAt(j) === key.charCodeAt(i + j)) j++
    if (j < p.length) {
      // Split the edge: node → mid(p[0, j)) → child(p[j..]).
      const mid = new RadixNode<V>(p.slice(0, j), null)
      child.prefix = p.slice(j)
      addChild(mid, child.prefix.charCodeAt(0), child)
      addChild(node, code, mid)
      node = mid
    } else {
      node = child
    }
    i += j
  }
}

/** A dense child table: `children[code - base]`, null where no child starts with that char. */
export interface DenseChildren<N> {
  readonly base: number
  readonly children: readonly (N | null)[]
}

/** Converts a build-time child map into a dense, null-filled (packed) array. */
export function denseChildren<A, N>(map: ReadonlyMap<number, A>, convert: (a: A) => N): DenseChildren<N> {
  if (map.size === 0) return { base: 0, children: NO_CHILDREN }
  let min = Infinity
  let max = -Infinity
  for (const code of map.keys()) {
    if (code < min) min = code
    if (code > max) max = code
  }
  const children: (N | null)[] = []
  for (let code = min; code <= max; code++) children.push(null) // push, not new Array(n): a packed array
  for (const [code, a] of map) children[code - min] = convert(a)
  // slice: exact size (an array grown by push keeps room for 17; a leaf of 20,000 routes has 1–10 children).
  return { base: min, children: children.length < 17 ? children.slice() : children }
}

/** The children of every leaf (never written: `denseChildren` callers only read `children`). */
const NO_CHILDREN: readonly never[] = Object.freeze([])

/** Frozen trie node. Every field is set in the constructor. */
export class PathNode<V> {
  /** The characters of the edge from the parent to this node (for the root: what every path starts with). */
  readonly prefix: string
  /** The value whose path ends exactly here, or null. */
  readonly value: V | null
  /** Char code of `children[0]`. */
  readonly base: number
  readonly children: readonly (PathNode<V> | null)[]
  /**
   * The value's `matchKind` (MatchKinded, KIND_*), copied here at freeze time so `longestKindMatch` reads it
   * without loading the value (a likely cache miss per candidate at 10k routes); 0 for other values.
   */
  readonly kind: number

  constructor(prefix: string, value: V | null, base: number, children: readonly (PathNode<V> | null)[]) {
    this.prefix = prefix
    this.value = value
    this.base = base
    this.children = children
    const k = value === null ? undefined : (value as { matchKind?: unknown }).matchKind
    this.kind = typeof k === 'number' ? k : 0
  }
}

/** Collects paths, first insert wins, then freezes them into a trie whose root is a `PathNode`. */
export class PathTrieBuilder<V> {
  readonly #root: RadixNode<V>
  #size: number

  constructor() {
    this.#root = new RadixNode<V>('', null)
    this.#size = 0
  }

  /** Adds `path` → `value`. Returns false (and keeps the first value) when `path` was already added. */
  insert(path: string, value: V): boolean {
    const added = radixInsert(this.#root, path, value)
    if (added) this.#size++
    return added
  }

  /** Number of distinct paths added. */
  get size(): number {
    return this.#size
  }

  /**
   * The frozen trie. Paths containing '?' are left out: a request path ends before its '?', so they can never
   * match, and leaving them out lets the matchers stop at '?' without searching for it first. A root without
   * a value and with one child is merged into that child (every path of a host usually starts with '/'),
   * which saves one step per lookup.
   */
  finish(): PathNode<V> {
    let root = this.#root
    const children = childrenOf(root)
    const only = children.size === 1 ? children.values().next().value : undefined
    if (root.value === null && only !== undefined && !only.prefix.includes('?')) root = only
    return freeze(root)
  }
}

function freeze<V>(node: RadixNode<V>): PathNode<V> {
  let reachable = childrenOf(node)
  let query = false
  for (const child of reachable.values()) if (child.prefix.includes('?')) query = true
  if (query) {
    const without = new Map<number, RadixNode<V>>()
    for (const [code, child] of reachable) if (!child.prefix.includes('?')) without.set(code, child)
    reachable = without
  }
  const dense = denseChildren(reachable, freeze)
  return new PathNode(node.prefix, node.value, dense.base, dense.children)
}

/**
 * A frozen trie with `path` → `value` set (added, or replaced), as a new trie that shares every node off the
 * path's way with `root` (null: an empty trie): O(length of the path × children per node), where a fresh build
 * of a host's trie is O(its routes). Paths containing '?' are left out, as `finish()` leaves them out. Lookups on
 * the result answer as those on a trie built from scratch with the same paths (test/route/trie-patch.test.ts).
 */
export function trieWith<V>(root: PathNode<V> | null, path: string, value: V): PathNode<V> | null {
  if (path.includes('?')) return root
  if (root === null) return new PathNode(path, value, 0, NO_CHILDREN)
  const p = root.prefix
  let j = 0
  while (j < p.length && j < path.length && p.charCodeAt(j) === path.charCodeAt(j)) j++
  if (j === p.length) return setBelow(root, path, j, value)
  // The path leaves the root's edge (a root merged into its only child, `finish()`): split the edge.
  return split(root, j, path, j, value)
}

/** `trieWith` below `node`, whose edge ends at `pos` of `key`. */
function setBelow<V>(node: PathNode<V>, key: string, pos: number, value: V): PathNode<V> {
  if (pos === key.length) return new PathNode(node.prefix, value, node.base, node.children)
  const code = key.charCodeAt(pos)
  const child = childAt(node, code)
  if (child === null) return withChild(node, code, new PathNode(key.slice(pos), value, 0, NO_CHILDREN))
  const p = child.prefix
  let j = 1 // the first char matched through the child's slot
  while (j < p.length && pos + j < key.length && p.charCodeAt(j) === key.charCodeAt(pos + j)) j++
  if (j === p.length) return withChild(node, code, setBelow(child, key, pos + j, value))
  return withChild(node, code, split(child, j, key, pos + j, value))
}

/** `node`'s edge cut after `j` chars, with `key` (leaving the edge at `pos`) → `value` at the cut or below. */
function split<V>(node: PathNode<V>, j: number, key: string, pos: number, value: V): PathNode<V> {
  const p = node.prefix
  const rest = new PathNode(p.slice(j), node.value, node.base, node.children)
  if (pos === key.length) return nodeOf(p.slice(0, j), value, [rest])
  return nodeOf(p.slice(0, j), null, [rest, new PathNode(key.slice(pos), value, 0, NO_CHILDREN)])
}

/** Whether the frozen trie `root` holds a value at exactly `path`. */
export function trieHas<V>(root: PathNode<V> | null, path: string): boolean {
  if (root === null || !path.startsWith(root.prefix)) return false
  let node = root
  let pos = root.prefix.length
  while (pos < path.length) {
    const child = childAt(node, path.charCodeAt(pos))
    if (child === null || !path.startsWith(child.prefix, pos)) return false
    pos += child.prefix.length
    node = child
  }
  return node.value !== null
}

/**
 * A frozen trie without `path`'s value, as a new trie sharing every node off the path's way with `root`; null when
 * nothing is left. A node left with no value and one child is merged into that child, as a build makes it.
 */
export function trieWithout<V>(root: PathNode<V> | null, path: string): PathNode<V> | null {
  if (root === null || !path.startsWith(root.prefix)) return root
  const next = deleteBelow(root, path, root.prefix.length)
  return next === undefined ? root : next
}

/** `trieWithout` below `node`, whose edge ends at `pos`: the new node, null if it goes, undefined if unchanged. */
function deleteBelow<V>(node: PathNode<V>, key: string, pos: number): PathNode<V> | null | undefined {
  if (pos === key.length) return node.value === null ? undefined : compact(node.prefix, null, node.children)
  const code = key.charCodeAt(pos)
  const child = childAt(node, code)
  if (child === null || !key.startsWith(child.prefix, pos)) return undefined
  const next = deleteBelow(child, key, pos + child.prefix.length)
  if (next === undefined) return undefined
  const updated = withChild(node, code, next)
  return compact(updated.prefix, updated.value, updated.children)
}

/** A node as a build leaves it: gone when it holds nothing, merged into its only child when it has no value. */
function compact<V>(
  prefix: string,
  value: V | null,
  children: readonly (PathNode<V> | null)[],
): PathNode<V> | null {
  const kids = children.filter((c): c is PathNode<V> => c !== null)
  if (value === null && kids.length === 0) return null
  if (value === null && kids.length === 1) {
    const only = kids[0] as PathNode<V>
    return new PathNode(prefix + only.prefix, only.value, only.base, only.children)
  }
  return nodeOf(prefix, value, kids)
}

function childAt<V>(node: PathNode<V>, code: number): PathNode<V> | null {
  return node.children[code - node.base] ?? null
}

/** `node` with `child` in the slot of char `code` (null: the slot emptied). */
function withChild<V>(node: PathNode<V>, code: number, child: PathNode<V> | null): PathNode<V> {
  const kids: PathNode<V>[] = []
  for (const c of node.children) if (c !== null && c.prefix.charCodeAt(0) !== code) kids.push(c)
  if (child !== null) kids.push(child)
  return nodeOf(node.prefix, node.value, kids)
}

/** A frozen node over `kids` (each child's slot is its prefix's first char), as `freeze` makes one. */
function nodeOf<V>(prefix: string, value: V | null, kids: readonly PathNode<V>[]): PathNode<V> {
  const byCode = new Map<number, PathNode<V>>()
  for (const c of kids) byCode.set(c.prefix.charCodeAt(0), c)
  const dense = denseChildren(byCode, (c: PathNode<V>) => c)
  return new PathNode(prefix, value, dense.base, dense.children)
}

/**
 * Finds the value for the longest path of the request target `url` that passes the matcher's rule.
 * Only the part before the first '?' is matched. Allocation-free: `charCodeAt` only, no slicing.
 */
export type PathMatcher = <V>(root: PathNode<V>, url: string) => V | undefined

/** Whether `url` continues with `prefix` at `pos`; the first char is already known to match (it chose the child). */
function continuesWith(url: string, pos: number, prefix: string): boolean {
  const n = prefix.length
  if (pos + n > url.length) return false
  for (let j = 1; j < n; j++) if (prefix.charCodeAt(j) !== url.charCodeAt(pos + j)) return false
  return true
}

/** fabio's `prefix` matcher: plain string prefix, so `/foo` matches `/foo`, `/foot` and `/foo/x`. */
export function longestPrefix<V>(root: PathNode<V>, url: string): V | undefined {
  if (!url.startsWith(root.prefix)) return undefined
  let node = root
  let pos = root.prefix.length
  let best: V | null = null
  for (;;) {
    if (node.value !== null) best = node.value
    // At '?' or at the end, no child matches: charCodeAt gives NaN at the end, and no edge contains '?'.
    const idx = url.charCodeAt(pos) - node.base
    if (!(idx >= 0 && idx < node.children.length)) break
    const child = node.children[idx]
    if (child === undefined || child === null || !continuesWith(url, pos, child.prefix)) break
    pos += child.prefix.length
    node = child
  }
  return best === null ? undefined : best
}

/**
 * Segment-boundary prefix: a path matches only where it ends at a segment boundary of the request path,
 * that is at the end of the path ('?' or the end of `url`), before a '/', or when the route path itself ends
 * with '/'. `/foo` matches `/foo`, `/foo/x`, `/foo?q`; not `/foot`. `/foo/` matches `/foo/x`, not `/foo`.
 */
export function longestSegmentPrefix<V>(root: PathNode<V>, url: string): V | undefined {
  if (!url.startsWith(root.prefix)) return undefined
  let node = root
  let pos = root.prefix.length
  let best: V | null = null
  for (;;) {
    const c = url.charCodeAt(pos)
    // pos - 1 is the last char of the route path (NaN before the start of `url`).
    if (
      node.value !== null &&
      (c === CH_SLASH || c === CH_QUERY || pos === url.length || url.charCodeAt(pos - 1) === CH_SLASH)
    ) {
      best = node.value
    }
    const idx = c - node.base
    if (!(idx >= 0 && idx < node.children.length)) break
    const child = node.children[idx]
    if (child === undefined || child === null || !continuesWith(url, pos, child.prefix)) break
    pos += child.prefix.length
    node = child
  }
  return best === null ? undefined : best
}

/** The single-rule path matchers by config name (`http.path_match: prefix | segment`). */
export const pathMatchers = {
  prefix: longestPrefix,
  segment: longestSegmentPrefix,
} as const satisfies Record<Extract<PathMatch, 'prefix' | 'segment'>, PathMatcher>

/** How a value in a mixed trie matches (`MatchKinded.matchKind`). */
export const KIND_PREFIX = 0
/** Only at a segment boundary (see `longestSegmentPrefix`). */
export const KIND_SEGMENT = 1
/** Only the whole path (a glob route whose pattern has no glob syntax). */
export const KIND_EXACT = 2

/** A trie value that says how its own path matches. */
export interface MatchKinded {
  readonly matchKind: number
}

/**
 * The longest path in a trie whose values each carry their own rule (`matchKind`: prefix, segment boundary, or the
 * whole path). Allocation-free like `longestPrefix`; the deepest passing value wins, which is the longest path.
 */
export function longestKindMatch<V extends MatchKinded>(root: PathNode<V>, url: string): V | undefined {
  if (!url.startsWith(root.prefix)) return undefined
  let node = root
  let pos = root.prefix.length
  let best: V | null = null
  for (;;) {
    const c = url.charCodeAt(pos)
    const v = node.value
    if (v !== null) {
      const k = node.kind
      if (
        k === KIND_PREFIX ||
        pos === url.length ||
        c === CH_QUERY ||
        (k === KIND_SEGMENT && (c === CH_SLASH || url.charCodeAt(pos - 1) === CH_SLASH))
      ) {
        best = v
      }
    }
    const idx = c - node.base
    if (!(idx >= 0 && idx < node.children.length)) break
    const child = node.children[idx]
    if (child === undefined || child === null || !continuesWith(url, pos, child.prefix)) break
    pos += child.prefix.length
    node = child
  }
  return best === null ? undefined : best
}

const CH_UPPER_A = 65
const CH_UPPER_Z = 90

/** ASCII lower-case of one char code (fabio's `iprefix` folds with strings.ToLower; ASCII covers its use). */
function fold(c: number): number {
  return c >= CH_UPPER_A && c <= CH_UPPER_Z ? c + 32 : c
}

/** Whether `url` continues with the lower-case `prefix` at `pos`, ignoring ASCII case. */
function continuesWithFolded(url: string, pos: number, prefix: string, from: number): boolean {
  const n = prefix.length
  if (pos + n > url.length) return false
  for (let j = from; j < n; j++) if (prefix.charCodeAt(j) !== fold(url.charCodeAt(pos + j))) return false
  return true
}

/**
 * fabio's `iprefix` matcher: the longest path that is a prefix of `url` ignoring ASCII case. The trie must be
 * built from lower-cased paths; `url` is folded char by char as it is walked, so nothing is allocated.
 */
export function longestFoldedPrefix<V>(root: PathNode<V>, url: string): V | undefined {
  if (!continuesWithFolded(url, 0, root.prefix, 0)) return undefined
  let node = root
  let pos = root.prefix.length
  let best: V | null = null
  for (;;) {
    if (node.value !== null) best = node.value
    const idx = fold(url.charCodeAt(pos)) - node.base
    if (!(idx >= 0 && idx < node.children.length)) break
    const child = node.children[idx]
    if (child === undefined || child === null || !continuesWithFolded(url, pos, child.prefix, 1)) break
    pos += child.prefix.length
    node = child
  }
  return best === null ? undefined : best
}
