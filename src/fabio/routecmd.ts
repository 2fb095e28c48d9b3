/**
 * fabio's route command language (reference/fabio.md (b)), pure: parse text → commands, apply them to a
 * route table IR, and turn the IR into a Snapshot.
 *
 *     route add <svc> <src> <dst>[ weight <w>][ tags "<t1>,<t2>"][ opts "k=v k2=v2"]
 *     route del <svc>[ <src>[ <dst>]]
 *     route del <svc> tags "<t1>,<t2>"
 *     route del tags "<t1>,<t2>"
 *     route weight <svc> <src> weight <w>[ tags "<t1>,<t2>"]
 *     route weight <src> weight <w> tags "<t1>,<t2>"
 *
 * Lines are trimmed; blank lines and lines starting with `#` or `//` are ignored. **Line-by-line error
 * isolation**: a bad line (syntax, bad URL, bad option, a `route weight` that selects nothing) is reported with
 * its line number and skipped; every other line still applies (fabio rejects the whole table).
 *
 * The IR is fabio's table: route source (`host/path` or `:port`) → targets (service, dst, fixed weight, tags,
 * opts). Generated routes (Consul tags) enter the IR directly as targets; commands are applied after them.
 *
 * Weights, as fabio documents (`route.weighTargets`): a fixed weight is a share of the route's traffic
 * (0.05 = 5 %); `route weight` gives the selected targets a combined share `w`, `w/n` each; `w <= 0` makes them
 * dynamic again. Fixed shares are normalised when their sum exceeds 1, or when every target is fixed and the
 * sum is below 1. Dynamic targets share what is left (`1 - sum`, never negative), in proportion to their
 * dynamic weight (Consul `Service.Weights`; 1 when unknown), where fabio splits it equally.
 *
 * lb's model is route → one service → servers with integer weights 0..256, so `toSnapshot` realises the shares
 * as integer server weights in a service per route (see `toSnapshot`).
 */
import type {
  HttpRouteSpec,
  ServerSpec,
  ServiceDefaults,
  ServiceSpec,
  Snapshot,
  TargetOptions,
  TcpRouteSpec,
} from '../model/snapshot.js'
import {
  checkSrcProto,
  parseOpts,
  parseSrc,
  tcpTarget,
  type Proto,
  type RouteOpts,
  type Src,
} from './tags.js'

export interface Target {
  readonly service: string
  /** Server name inside the built service: Consul `node/serviceID`, or `host:port` for `route add`. */
  readonly id: string
  /** Canonical dst URL, compared by `route del <svc> <src> <dst>` and `route add` deduplication. */
  readonly dst: string
  readonly host: string
  readonly port: number
  /** Fixed share 0 < w ≤ 1, or 0 = dynamic. */
  readonly fixedWeight: number
  /** Relative weight among dynamic targets (Consul Weights.Passing/Warning), ≥ 0. */
  readonly dynWeight: number
  readonly tags: readonly string[]
  readonly opts: RouteOpts
  /** The query of the dst URL (`http://h:p/base?x=1` → `x=1`), joined before the client's; absent = none. */
  readonly query?: string
}

export interface IrRoute {
  readonly src: Src
  readonly targets: Target[]
}

/** Route source key (`host/path` or `:port`) → route, in insertion order. */
export type Ir = Map<string, IrRoute>

export function srcKey(src: Src): string {
  return src.kind === 'tcp' ? `:${src.port}` : src.host + src.path
}

export type Command =
  | {
      readonly op: 'add'
      readonly service: string
      readonly src: Src
      readonly target: Target
    }
  | {
      readonly op: 'del'
      readonly service: string | null
      readonly src: string | null
      readonly dst: string | null
      readonly tags: readonly string[] | null
    }
  | {
      readonly op: 'weight'
      readonly service: string | null
      readonly src: string
      readonly weight: number
      readonly tags: readonly string[]
    }

export interface LineCommand {
  readonly line: number
  readonly command: Command
}

export interface LineProblem {
  /** 1-based line number in the text ('' source = unknown). */
  readonly line: number
  readonly text: string
  readonly reason: string
}

export interface ParseResult {
  readonly commands: readonly LineCommand[]
  readonly problems: readonly LineProblem[]
  readonly warnings: readonly LineProblem[]
}

interface Token {
  readonly text: string
  readonly quoted: boolean
}

function tokenize(line: string): Token[] | string {
  const out: Token[] = []
  const re = /"([^"]*)"|(\S+)/g
  let m: RegExpExecArray | null
  while ((m = re.exec(line)) !== null) {
    if (m[1] !== undefined) out.push({ text: m[1], quoted: true })
    else {
      const t = m[2] ?? ''
      if (t.includes('"')) return 'unbalanced quote'
      out.push({ text: t, quoted: false })
    }
  }
  return out
}

/**
 * The `register=<name>` aliases of the `route add` lines of `text`, in order of first use (fabio
 * `route.ParseAliases`): lb registers itself in Consul under each name (provider/consul/register.ts).
 */
export function registerAliases(text: string): string[] {
  const out: string[] = []
  for (const { command: c } of parseCommands(text).commands) {
    if (c.op !== 'add') continue
    const name = c.target.opts.register ?? ''
    if (name !== '' && !out.includes(name)) out.push(name)
  }
  return out
}

/** Parse route command text; `dc` expands ${DC} in sources. */
export function parseCommands(text: string, dc = ''): ParseResult {
  const commands: LineCommand[] = []
  const problems: LineProblem[] = []
  const warnings: LineProblem[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    if (line === '' || line.startsWith('#') || line.startsWith('//')) continue
    const w: string[] = []
    const r = parseLine(line, dc, w)
    for (const reason of w) warnings.push({ line: i + 1, text: line, reason })
    if (typeof r === 'string') problems.push({ line: i + 1, text: line, reason: r })
    else commands.push({ line: i + 1, command: r })
  }
  return { commands, problems, warnings }
}

function parseLine(line: string, dc: string, warnings: string[]): Command | string {
  const tokens = tokenize(line)
  if (typeof tokens === 'string') return tokens
  const words = tokens.map((t) => t.text)
  if (words[0] !== 'route') return 'expected "route add|del|weight ..."'
  switch (words[1]) {
    case 'add':
      return parseAdd(tokens.slice(2), dc, warnings)
    case 'del':
      return parseDel(tokens.slice(2), dc, warnings)
    case 'weight':
      return parseWeight(tokens.slice(2), dc, warnings)
    default:
      return `unknown command "route ${words[1] ?? ''}" (expected add, del or weight)`
  }
}

/** Trailing `weight <w>`, `tags "<…>"`, `opts "<…>"` clauses, each at most once. */
function clauses(tokens: readonly Token[], allowed: readonly string[]): Map<string, string> | string {
  const out = new Map<string, string>()
  for (let i = 0; i < tokens.length; i += 2) {
    const key = tokens[i]?.text ?? ''
    const value = tokens[i + 1]
    if (!allowed.includes(key) || tokens[i]?.quoted === true)
      return `unexpected "${key}" (expected ${allowed.join(', ')})`
    if (value === undefined) return `"${key}" needs a value`
    if (out.has(key)) return `"${key}" given twice`
    if ((key === 'tags' || key === 'opts') && !value.quoted) return `${key} must be quoted: ${key} "..."`
    out.set(key, value.text)
  }
  return out
}

function parseTags(s: string | undefined): string[] {
  if (s === undefined) return []
  return s
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
}

function parseWeightValue(s: string | undefined): number | string {
  const w = Number(s)
  if (s === undefined || s === '' || !Number.isFinite(w)) return `weight must be a number, got "${s ?? ''}"`
  return w
}

function srcOf(text: string, dc: string, warnings: string[]): Src | string {
  const r = parseSrc(text, dc, warnings)
  return r.ok ? r.src : r.reason
}

export interface Dst {
  readonly url: string
  readonly proto: Proto
  readonly host: string
  readonly port: number
  /** The URL's query without '?' ('' = none). */
  readonly query: string
}

/** `http://h:p/`, `https://h/`, `tcp://h:p` → canonical; redirects keep the URL as given. */
export function parseDst(text: string): Dst | string {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return `"${text}" is not a URL`
  }
  const scheme = u.protocol.slice(0, -1)
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'tcp')
    return `dst scheme must be http, https or tcp, got "${scheme}"`
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname
  const port = u.port !== '' ? Number(u.port) : scheme === 'https' ? 443 : scheme === 'http' ? 80 : 0
  if (host === '' || port === 0) return `dst "${text}" needs a host and port`
  const h = host.includes(':') ? `[${host}]` : host
  const query = u.search === '' ? '' : u.search.slice(1)
  return {
    url: `${scheme}://${h}:${port}${scheme === 'tcp' ? '' : '/'}${query === '' ? '' : `?${query}`}`,
    proto: scheme,
    host,
    port,
    query,
  }
}

function parseAdd(t: readonly Token[], dc: string, warnings: string[]): Command | string {
  const [svc, srcT, dstT] = t
  if (svc === undefined || srcT === undefined || dstT === undefined)
    return 'route add needs <svc> <src> <dst>'
  if (svc.quoted || srcT.quoted || dstT.quoted) return 'route add: <svc> <src> <dst> are not quoted'
  const c = clauses(t.slice(3), ['weight', 'tags', 'opts'])
  if (typeof c === 'string') return c
  const src = srcOf(srcT.text, dc, warnings)
  if (typeof src === 'string') return src
  const optWords = (c.get('opts') ?? '').split(/\s+/).filter((s) => s !== '')
  const isRedirect = optWords.some((o) => o.startsWith('redirect='))
  // fabio: `opts "redirect=301"` with the redirect URL as dst.
  const words = optWords.map((o) => (/^redirect=\d+$/.test(o) ? `${o},${dstT.text}` : o))
  const opts = parseOpts(words, warnings)
  if (!opts.ok) return opts.reason
  let weight = 0
  if (c.has('weight')) {
    const w = parseWeightValue(c.get('weight'))
    if (typeof w === 'string') return w
    weight = w
  }
  if (isRedirect) {
    const target: Target = {
      service: svc.text,
      id: dstT.text,
      dst: dstT.text,
      host: '',
      port: 0,
      fixedWeight: Math.max(0, weight),
      dynWeight: 1,
      tags: parseTags(c.get('tags')),
      opts: opts.opts,
    }
    return { op: 'add', service: svc.text, src, target }
  }
  const dst = parseDst(dstT.text)
  if (typeof dst === 'string') return dst
  const merged: RouteOpts = { ...opts.opts, proto: dst.proto }
  const check = checkSrcProto(src, merged)
  if (check !== '') return check
  const h = dst.host.includes(':') ? `[${dst.host}]` : dst.host
  return {
    op: 'add',
    service: svc.text,
    src,
    target: {
      service: svc.text,
      id: `${h}:${dst.port}`,
      dst: dst.url,
      host: dst.host,
      port: dst.port,
      fixedWeight: Math.max(0, weight),
      dynWeight: 1,
      tags: parseTags(c.get('tags')),
      opts: merged,
      ...(dst.query === '' ? {} : { query: dst.query }),
    },
  }
}

function parseDel(t: readonly Token[], dc: string, warnings: string[]): Command | string {
  if (t.length === 0) return 'route del needs <svc> or tags "..."'
  if (t[0]?.text === 'tags' && t[0].quoted === false) {
    if (t.length !== 2 || t[1]?.quoted !== true) return 'expected route del tags "<t1>,<t2>"'
    return { op: 'del', service: null, src: null, dst: null, tags: parseTags(t[1].text) }
  }
  const svc = t[0]?.text ?? ''
  if (t[1]?.text === 'tags' && t[1].quoted === false) {
    if (t.length !== 3 || t[2]?.quoted !== true) return 'expected route del <svc> tags "<t1>,<t2>"'
    return { op: 'del', service: svc, src: null, dst: null, tags: parseTags(t[2].text) }
  }
  if (t.length > 3) return 'route del takes at most <svc> <src> <dst>'
  let src: string | null = null
  if (t[1] !== undefined) {
    const s = srcOf(t[1].text, dc, warnings)
    if (typeof s === 'string') return s
    src = srcKey(s)
  }
  let dst: string | null = null
  if (t[2] !== undefined) {
    const d = parseDst(t[2].text)
    dst = typeof d === 'string' ? t[2].text : d.url
  }
  return { op: 'del', service: svc, src, dst, tags: null }
}

function parseWeight(t: readonly Token[], dc: string, warnings: string[]): Command | string {
  // route weight <svc> <src> weight <w> [tags "..."]  |  route weight <src> weight <w> tags "..."
  const withSvc = t[1]?.text !== 'weight'
  const svc = withSvc ? (t[0]?.text ?? null) : null
  const srcT = withSvc ? t[1] : t[0]
  const rest = t.slice(withSvc ? 2 : 1)
  if (srcT === undefined || rest[0]?.text !== 'weight')
    return 'expected route weight [<svc>] <src> weight <w> [tags "..."]'
  const c = clauses(rest, ['weight', 'tags'])
  if (typeof c === 'string') return c
  const w = parseWeightValue(c.get('weight'))
  if (typeof w === 'string') return w
  if (svc === null && !c.has('tags')) return 'route weight <src> needs tags "..." (or name the service)'
  const src = srcOf(srcT.text, dc, warnings)
  if (typeof src === 'string') return src
  return { op: 'weight', service: svc, src: srcKey(src), weight: w, tags: parseTags(c.get('tags')) }
}

function hasAllTags(target: Target, tags: readonly string[]): boolean {
  for (const t of tags) if (!target.tags.includes(t)) return false
  return true
}

/** Add one target to the IR (fabio `route add`: an existing route gets another target; duplicates are skipped). */
export function addTarget(ir: Ir, src: Src, target: Target): void {
  addTargetAt(ir, srcKey(src), src, target)
}

/** `addTarget` with the route key already computed (`key` = `srcKey(src)`). */
export function addTargetAt(ir: Ir, key: string, src: Src, target: Target): void {
  let r = ir.get(key)
  if (r === undefined) {
    r = { src, targets: [] }
    ir.set(key, r)
  }
  for (const t of r.targets) if (t.service === target.service && t.dst === target.dst) return
  r.targets.push(target)
}

/**
 * Apply commands in order. Returns the problems of lines that could not apply: none since a `route weight` that
 * selects nothing is ignored as fabio does (kept as a list for callers, which report whatever it holds).
 */
export function applyCommands(ir: Ir, commands: readonly LineCommand[], _text = ''): LineProblem[] {
  const problems: LineProblem[] = []
  for (const { command: c } of commands) {
    if (c.op === 'add') {
      addTarget(ir, c.src, c.target)
    } else if (c.op === 'del') {
      for (const [key, r] of ir) {
        if (c.src !== null && key !== c.src) continue
        for (let i = r.targets.length - 1; i >= 0; i--) {
          const t = r.targets[i] as Target
          if (c.service !== null && t.service !== c.service) continue
          if (c.dst !== null && t.dst !== c.dst) continue
          if (c.tags !== null && !hasAllTags(t, c.tags)) continue
          r.targets.splice(i, 1)
        }
        if (r.targets.length === 0) ir.delete(key)
      }
    } else {
      const r = ir.get(c.src)
      const selected: number[] = []
      if (r !== undefined) {
        for (let i = 0; i < r.targets.length; i++) {
          const t = r.targets[i] as Target
          if ((c.service === null || t.service === c.service) && hasAllTags(t, c.tags)) selected.push(i)
        }
      }
      // fabio (since PR #1053) ignores a weight that selects nothing: a canary line may name a version that
      // is not deployed yet. Nothing to change, and no problem to report.
      if (r === undefined || selected.length === 0) continue
      const each = c.weight > 0 ? c.weight / selected.length : 0
      for (const i of selected) r.targets[i] = { ...(r.targets[i] as Target), fixedWeight: each }
    }
  }
  return problems
}

/**
 * Traffic share of each target (sums to 1 unless everything is 0), fabio's rules plus dynamic weights: see the
 * module comment.
 */
export function shares(targets: readonly Target[]): number[] {
  let sumFixed = 0
  let nFixed = 0
  let sumDyn = 0
  for (const t of targets) {
    if (t.fixedWeight > 0) {
      sumFixed += t.fixedWeight
      nFixed++
    } else sumDyn += t.dynWeight
  }
  const scale = sumFixed > 1 || (nFixed === targets.length && sumFixed > 0 && sumFixed < 1) ? 1 / sumFixed : 1
  const rest = Math.max(0, 1 - sumFixed * scale)
  return targets.map((t) =>
    t.fixedWeight > 0 ? t.fixedWeight * scale : sumDyn > 0 ? (rest * t.dynWeight) / sumDyn : 0,
  )
}

/**
 * Integer server weights 0..256 that realise `shares(targets)`. Without fixed weights the dynamic weights are
 * used as they are (scaled down only above 256), so plain routes keep Consul's weights. With fixed weights the
 * shares are scaled so the largest becomes 256; every non-zero share gets at least 1. The relative error per
 * server is at most 0.5/256 of the largest share (5 % canary vs 95 % over two servers: 27/539 = 5.01 %).
 */
export function integerWeights(targets: readonly Target[]): number[] {
  const out: number[] = []
  integerWeightsInto(targets, out)
  return out
}

/** `integerWeights` written into `out` (index i = target i); without fixed weights it allocates nothing. */
function integerWeightsInto(targets: readonly Target[], out: number[]): void {
  const n = targets.length
  out.length = n
  let anyFixed = false
  for (let i = 0; i < n; i++) if ((targets[i] as Target).fixedWeight > 0) anyFixed = true
  if (anyFixed) {
    const raw = shares(targets)
    for (let i = 0; i < n; i++) out[i] = raw[i] as number
  } else {
    for (let i = 0; i < n; i++) out[i] = (targets[i] as Target).dynWeight
  }
  scaleWeights(out, anyFixed)
}

/** Largest server weight a generated route may use to realise fabio shares (src/balance/pool.ts allows it). */
export const MAX_SHARE_WEIGHT = 1_000_000

/** The served share of one server must be within this of the share asked for (issue 20: ±0.5 points). */
const SHARE_TOLERANCE = 0.001

/**
 * `out`'s shares or weights as integer server weights, in place (see integerWeights): dynamic weights
 * (`anyFixed` false) stay as they are unless the largest exceeds 256. Shares are first scaled so the largest is
 * 256 (every non-zero share gets at least 1). When that serves some share more than 0.1 points off (a 20 %
 * canary next to 1,234 servers: every server rounds up to 1 and the canary gets 17.2 %), they are scaled again
 * so that the smallest share becomes 1,000 (rounding then moves a share by at most 0.05 % of itself), the
 * largest weight capped at MAX_SHARE_WEIGHT.
 */
export function scaleWeights(out: number[], anyFixed: boolean): void {
  const n = out.length
  let max = 0
  let min = Infinity
  let sum = 0
  for (let i = 0; i < n; i++) {
    const v = out[i] as number
    if (v > max) max = v
    if (v > 0 && v < min) min = v
    if (v > 0) sum += v
  }
  if (max === 0) {
    for (let i = 0; i < n; i++) out[i] = 0
    return
  }
  const scale = !anyFixed && max <= 256 ? 1 : 256 / max
  if (anyFixed && !realises(out, scale, sum)) {
    const fine = Math.min(1_000 / min, MAX_SHARE_WEIGHT / max)
    if (fine > scale) {
      for (let i = 0; i < n; i++) {
        const v = out[i] as number
        out[i] = v <= 0 ? 0 : Math.max(1, Math.min(MAX_SHARE_WEIGHT, Math.round(v * fine)))
      }
      return
    }
  }
  for (let i = 0; i < n; i++) {
    const v = out[i] as number
    out[i] = v <= 0 ? 0 : Math.max(1, Math.min(256, Math.round(v * scale)))
  }
}

/** Whether weights `round(v * scale)` (at least 1) serve every share `v / sum` within SHARE_TOLERANCE. */
function realises(shares: readonly number[], scale: number, sum: number): boolean {
  let total = 0
  for (let i = 0; i < shares.length; i++) {
    const v = shares[i] as number
    if (v > 0) total += Math.max(1, Math.min(256, Math.round(v * scale)))
  }
  for (let i = 0; i < shares.length; i++) {
    const v = shares[i] as number
    if (v <= 0) continue
    const w = Math.max(1, Math.min(256, Math.round(v * scale)))
    if (Math.abs(w / total - v / sum) > SHARE_TOLERANCE) return false
  }
  return true
}

export interface ToSnapshotOptions {
  readonly defaults: ServiceDefaults
  /** Route `source` prefix, e.g. `consul` or `config:route_commands`. */
  readonly source: string
}

/** One distinct server list built for a service; the service's lists are chained in build order. */
interface Variant {
  readonly name: string
  readonly proto: 'http' | 'https'
  readonly tlsSkipVerify: boolean
  /** fabio `pxyproto=true`: the service sends PROXY v1. */
  readonly pxyproto: boolean
  readonly servers: readonly ServerSpec[]
  next: Variant | undefined
}

/** What one route key produced last time: reused while its target list is the same objects in the same order. */
interface MemoRoute {
  readonly targets: readonly Target[]
  /** '' for a redirect route. */
  readonly name: string
  readonly servers: readonly ServerSpec[]
  /** The service spec this route created (null when it shared an earlier list, or is a redirect). */
  readonly service: ServiceSpec | null
  readonly route: HttpRouteSpec | TcpRouteSpec
}

/**
 * Reused between `toSnapshot` calls by one caller (the Consul provider) so that a rebuild after a small change
 * allocates only for the routes whose targets changed, and unchanged routes and services come out as the **same
 * objects** as last time (the watcher's equality check and merge then stop at identity). Purely a cache: the
 * result is equal with or without it. Only valid for one `ToSnapshotOptions` (reset when they change).
 */
export interface SnapshotMemo {
  options: ToSnapshotOptions | null
  routes: Map<string, MemoRoute>
  /** IR keys in insertion order and sorted, from the last call (the sort is skipped when the keys repeat). */
  keys: string[]
  sorted: string[]
}

export function newSnapshotMemo(): SnapshotMemo {
  return { options: null, routes: new Map(), keys: [], sorted: [] }
}

/** Empty the memo (its options are kept). */
export function resetMemo(memo: SnapshotMemo): void {
  memo.routes = new Map()
  memo.keys = []
  memo.sorted = []
}

/** The IR's keys in sorted order; the memo's previous sort when the IR has the same keys in the same order. */
function sortedKeys(ir: Ir, memo: SnapshotMemo | undefined): string[] {
  if (memo === undefined) return [...ir.keys()].sort()
  const prev = memo.keys
  let same = prev.length === ir.size
  if (same) {
    let i = 0
    for (const k of ir.keys()) {
      if (prev[i++] !== k) {
        same = false
        break
      }
    }
  }
  if (same) return memo.sorted
  memo.keys = [...ir.keys()]
  memo.sorted = memo.keys.slice().sort()
  return memo.sorted
}

function sameTargets(a: readonly Target[], b: readonly Target[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function sameServerSpecs(a: readonly ServerSpec[], b: readonly ServerSpec[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as ServerSpec
    const y = b[i] as ServerSpec
    if (x.name !== y.name || x.host !== y.host || x.port !== y.port || x.weight !== y.weight) return false
    if (!sameTargetOptions(x.target, y.target)) return false
  }
  return true
}

/**
 * IR → Snapshot. Each route needs one service. Routes are visited in source order; a route's server list
 * (ids, addresses, integer weights, protocol) is its service's identity. The first route whose targets belong
 * to service `S` names its server list `S`; another route of `S` with the same list shares it; a route with a
 * different list (a canary weight, a subset of instances, targets from several services) gets its own service
 * `S~<src>` (S = its first target's service). Route options come from the route's first target.
 *
 * With `memo` (see SnapshotMemo), a route whose targets are the same objects as last time skips the weight
 * and server-list work and reuses last time's objects; the naming decision above is still taken every time.
 */
export function toSnapshot(ir: Ir, options: ToSnapshotOptions, memo?: SnapshotMemo): Snapshot {
  if (memo !== undefined && memo.options !== options) {
    const o = memo.options
    if (o === null || o.source !== options.source || o.defaults !== options.defaults) resetMemo(memo)
    memo.options = options
  }
  const prevMemo = memo?.routes
  const nextMemo = memo === undefined ? undefined : new Map<string, MemoRoute>()
  const services = new Map<string, ServiceSpec>()
  /** service name → the first of the distinct server lists built for it so far (chained; compared element-wise). */
  const variants = new Map<string, Variant>()
  const routes: HttpRouteSpec[] = []
  const tcpRoutes: TcpRouteSpec[] = []
  const keys = sortedKeys(ir, memo)
  const weights: number[] = []
  const picked: number[] = []
  for (const key of keys) {
    const r = ir.get(key) as IrRoute
    if (r.targets.length === 0) continue
    // The IR's lists were filled by push; the memo keeps an exact-size copy.
    const targets = memo === undefined ? sortedById(r.targets) : exact(sortedById(r.targets), r.targets)
    const first = targets[0] as Target
    const opts = first.opts
    const hit = prevMemo?.get(key)
    const reuse = hit !== undefined && sameTargets(hit.targets, targets)
    if (opts.redirect !== null) {
      if (r.src.kind !== 'http') continue
      const route = reuse
        ? (hit.route as HttpRouteSpec)
        : httpRoute(r.src, opts, '', opts.redirect, `${options.source}:${key}`)
      routes.push(route)
      nextMemo?.set(key, { targets, name: '', servers: [], service: null, route })
      continue
    }
    let multi = false
    for (let i = 1; i < targets.length; i++)
      if ((targets[i] as Target).service !== first.service) multi = true
    let servers: readonly ServerSpec[]
    let n = 0
    if (reuse) {
      servers = hit.servers
    } else {
      // Weights, and the targets that become servers (redirects and repeated ids skipped), into reused buffers;
      // ServerSpec objects are allocated only when no earlier server list of the service matches.
      integerWeightsInto(targets, weights)
      let lastId: string | null = null
      for (let i = 0; i < targets.length; i++) {
        const t = targets[i] as Target
        // Sorted by id, so a repeated id directly follows the server it repeats.
        if (t.opts.redirect !== null || t.id === lastId) continue
        lastId = t.id
        picked[n++] = i
      }
      servers = []
    }
    const proto: 'http' | 'https' = opts.proto === 'https' ? 'https' : 'http'
    // fabio: tlsskipverify=true on an http target does nothing (and is no error).
    const skipVerify = opts.tlsSkipVerify && proto === 'https'
    const pxyproto = opts.pxyproto === true
    const head = variants.get(first.service)
    let name: string | undefined
    if (!multi) {
      for (let v = head; v !== undefined; v = v.next) {
        if (
          v.proto === proto &&
          v.tlsSkipVerify === skipVerify &&
          v.pxyproto === pxyproto &&
          (reuse
            ? sameServerSpecs(v.servers, servers)
            : sameServers(v.servers, targets, weights, picked, n, opts))
        ) {
          name = v.name
          servers = v.servers
          break
        }
      }
    }
    let created: ServiceSpec | null = null
    if (name === undefined) {
      name = head === undefined && !multi ? first.service : `${first.service}~${key}`
      if (reuse && hit.service !== null && hit.name === name) {
        created = hit.service
        servers = created.servers
      } else {
        if (!reuse) {
          // Exact size (push would leave room for 17): these lists stay in the snapshot.
          const list = new Array<ServerSpec>(n)
          for (let j = 0; j < n; j++) {
            const i = picked[j] as number
            const t = targets[i] as Target
            const target = targetOptionsOf(t, opts)
            list[j] =
              target === undefined
                ? {
                    name: t.id,
                    host: t.host,
                    port: t.port,
                    weight: weights[i] ?? 0,
                    backup: false,
                    maxconn: 0,
                    state: 'up',
                  }
                : {
                    name: t.id,
                    host: t.host,
                    port: t.port,
                    weight: weights[i] ?? 0,
                    backup: false,
                    maxconn: 0,
                    state: 'up',
                    target,
                  }
          }
          servers = list
        }
        created = serviceSpec(name, options.defaults, proto, skipVerify, servers)
        if (pxyproto) created = { ...created, sendProxy: 'v1' }
      }
      const v: Variant = { name, proto, tlsSkipVerify: skipVerify, pxyproto, servers, next: undefined }
      if (head === undefined) variants.set(first.service, v)
      else {
        let last = head
        while (last.next !== undefined) last = last.next
        last.next = v
      }
      services.set(name, created)
    }
    let route: HttpRouteSpec | TcpRouteSpec
    if (reuse && hit.name === name) route = hit.route
    else if (r.src.kind === 'tcp')
      route = { port: r.src.port, serverName: '', service: name, source: `${options.source}:${key}` }
    else if (opts.proto === 'tcp') route = tcpRouteOf(r.src, name, `${options.source}:${key}`)
    else route = httpRoute(r.src, opts, name, null, `${options.source}:${key}`)
    if (r.src.kind === 'tcp' || opts.proto === 'tcp') tcpRoutes.push(route as TcpRouteSpec)
    else routes.push(route as HttpRouteSpec)
    nextMemo?.set(key, { targets, name, servers, service: created, route })
  }
  if (memo !== undefined && nextMemo !== undefined) memo.routes = nextMemo
  const sorted = [...services.values()]
  // Routes are visited in key order, so the services often come out already sorted by name.
  let inOrder = true
  for (let i = 1; i < sorted.length && inOrder; i++)
    if ((sorted[i - 1] as ServiceSpec).name > (sorted[i] as ServiceSpec).name) inOrder = false
  if (!inOrder) sorted.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { services: sorted, routes, tcpRoutes }
}

/** Whether `a` is the server list that `picked[0..n)` of `targets` with `weights` would build. */
function sameServers(
  a: readonly ServerSpec[],
  targets: readonly Target[],
  weights: readonly number[],
  picked: readonly number[],
  n: number,
  opts: RouteOpts,
): boolean {
  if (a.length !== n) return false
  for (let j = 0; j < n; j++) {
    const x = a[j] as ServerSpec
    const i = picked[j] as number
    const y = targets[i] as Target
    if (x.name !== y.id || x.host !== y.host || x.port !== y.port || x.weight !== (weights[i] ?? 0))
      return false
    if (!sameTargetOptions(x.target, targetOptionsOf(y, opts))) return false
  }
  return true
}

/**
 * A target's own rewrite when it differs from its route's (the route takes its first target's options), or
 * when its dst carries a query; undefined otherwise (the usual case: no object).
 */
export function targetOptionsOf(t: Target, route: RouteOpts): TargetOptions | undefined {
  const o = t.opts
  const query = t.query ?? ''
  if (
    query === '' &&
    o.strip === route.strip &&
    o.prepend === route.prepend &&
    o.hostHeader === route.hostHeader
  )
    return undefined
  return query === ''
    ? { strip: o.strip, prepend: o.prepend, hostHeader: o.hostHeader }
    : { strip: o.strip, prepend: o.prepend, hostHeader: o.hostHeader, query }
}

function sameTargetOptions(a: TargetOptions | undefined, b: TargetOptions | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  return (
    a.strip === b.strip &&
    a.prepend === b.prepend &&
    a.hostHeader === b.hostHeader &&
    (a.query ?? '') === (b.query ?? '')
  )
}

/** `sorted` when it is a new list, else an exact-size copy of `list`. */
function exact(sorted: readonly Target[], list: readonly Target[]): readonly Target[] {
  return sorted === list ? list.slice() : sorted
}

/** `targets` ordered by id; the same array when it already is (the common case: one target, or built in order). */
function sortedById(targets: readonly Target[]): readonly Target[] {
  for (let i = 1; i < targets.length; i++) {
    if ((targets[i - 1] as Target).id > (targets[i] as Target).id) {
      return targets.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    }
  }
  return targets
}

/** A generated service with the configured defaults. */
export function serviceSpec(
  name: string,
  d: ServiceDefaults,
  proto: 'http' | 'https',
  tlsSkipVerify: boolean,
  servers: readonly ServerSpec[],
): ServiceSpec {
  return {
    name,
    balance: d.balance,
    retries: d.retries,
    // Shared, not copied: a Snapshot is readonly, and 10,000 services would hold 10,000 copies.
    timeouts: d.timeouts,
    maxConnections: d.maxConnections,
    proto,
    tlsSkipVerify,
    servers,
  }
}

/**
 * A `proto=tcp` route on an HTTP-form source (tags.ts `tcpTarget`): `<ip>:<port>` is a tcp-dynamic route
 * (`bindHost`), `<host>/` an SNI route on every TCP listener (`anyPort`).
 */
function tcpRouteOf(src: Src, service: string, source: string): TcpRouteSpec {
  const t = tcpTarget(src)
  if (t === null) return { port: 0, serverName: '', service, source }
  if ('bindHost' in t) return { port: t.port, serverName: '', service, source, bindHost: t.bindHost }
  return { port: 0, serverName: t.serverName, service, source, anyPort: true }
}

/** A route spec built as one literal (object spread here cost more than the rest of the build). */
export function httpRoute(
  src: Extract<Src, { kind: 'http' }>,
  opts: RouteOpts,
  service: string,
  redirect: HttpRouteSpec['redirect'],
  source: string,
): HttpRouteSpec {
  const { host, path } = src
  const { strip, prepend, hostHeader, allow, deny } = opts
  const auth = opts.auth ?? ''
  const register = opts.register ?? ''
  if (auth !== '' || register !== '') {
    const r: HttpRouteSpec = {
      host,
      path,
      service,
      strip,
      prepend,
      hostHeader,
      redirect,
      source,
      ...(auth === '' ? {} : { auth }),
      ...(register === '' ? {} : { register }),
    }
    return allow.length > 0 ? { ...r, allow } : deny.length > 0 ? { ...r, deny } : r
  }
  if (allow.length > 0) return { host, path, service, strip, prepend, hostHeader, redirect, source, allow }
  if (deny.length > 0) return { host, path, service, strip, prepend, hostHeader, redirect, source, deny }
  return { host, path, service, strip, prepend, hostHeader, redirect, source }
}
