/**
 * fabio's route command language (docs/fabio.md), pure: parse text -> commands, and apply them to a route table
 * IR. weights.ts turns a route's shares into server weights, snapshot.ts turns the IR into a Snapshot.
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
 * The IR is fabio's table: route source (`host/path` or `:port`) -> targets (service, dst, fixed weight, tags,
 * opts). Generated routes (Consul tags) enter the IR directly as targets; commands are applied after them.
 */
import { checkSrcProto, parseOpts, parseSrc, type Proto, type RouteOpts, type Src } from './tags.js'

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
