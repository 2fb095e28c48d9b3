/**
 * The toolkit every section validator uses: a Checker collects problems, a Slot is one raw value with its dotted
 * path, and the read* functions turn a slot into a typed value or report why not (falling back to the default,
 * so that one pass reports every problem). `${VAR}` references and `<key>_file` contents are resolved here. Pure:
 * the environment and file contents come in as arguments.
 */
import type { ConfigProblem } from '../model/errors.js'
import { type HostPort, type HostPortRules, type Parsed, parseHostPort } from '../net/address.js'
import { parseCidr } from '../net/cidr.js'
import { formatDuration, parseDuration } from './duration.js'
import type { DirContents, Env, FileContents } from './types.js'

export interface Expanded {
  readonly value: string
  /** True when at least one `${VAR}` was replaced (the value may then be parsed as a number or boolean). */
  readonly substituted: boolean
  readonly errors: readonly string[]
}

/** Replace `${NAME}` from env; `$$` is a literal `$`; any other `$` is kept (so `$path` in redirect URLs works). */
export function expandVars(s: string, env: Env): Expanded {
  if (!s.includes('$')) return { value: s, substituted: false, errors: [] }
  let value = ''
  let substituted = false
  const errors: string[] = []
  let i = 0
  while (i < s.length) {
    const ch = s[i] as string
    if (ch !== '$') {
      value += ch
      i++
    } else if (s[i + 1] === '$') {
      value += '$'
      i += 2
    } else if (s[i + 1] === '{') {
      const close = s.indexOf('}', i + 2)
      const name = close < 0 ? '' : s.slice(i + 2, close)
      if (!envNameRe.test(name)) {
        errors.push('malformed ${...} reference (expected ${NAME}; write $$ for a literal $)')
        break
      }
      const v = env[name]
      if (v === undefined) errors.push(`environment variable ${name} is not set`)
      else value += v
      substituted = true
      i = close + 1
    } else {
      value += ch
      i++
    }
  }
  return { value, substituted, errors }
}

export const fileSuffix = '_file'

const envNameRe = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Service and listener names: no spaces, since fabio's route grammar reads them as \S+; no `@` (svc@provider). */
export const nameRe = /^[A-Za-z0-9_.-]+$/

export const visibleRe = /^[\x21-\x7e\u0080-\uffff]+$/

/** RFC 9110 token, for header names. */
export const tokenRe = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export const urlPathBadRe = /[\s?#\p{Cc}]/u

export const absolutePathRe = /^\//

// ---------------------------------------------------------------------------------------------------------------
// Value checks: string in, canonical value or reason out.

type Check<T> = (s: string) => Parsed<T>

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value }
}

export function fail<T>(reason: string): Parsed<T> {
  return { ok: false, reason }
}

export function checkUrlPath(s: string): Parsed<string> {
  if (!absolutePathRe.test(s)) return fail(`must start with "/", got "${s}"`)
  if (urlPathBadRe.test(s)) return fail(`must not contain spaces, "?" or "#", got "${s}"`)
  return ok(s)
}

export function checkHostHeader(s: string): Parsed<string> {
  if (s === '' || s === 'dst') return ok(s)
  const hp = parseHostPort(s, { emptyHost: false, portZero: false, defaultPort: 0 })
  return hp.ok ? ok(s) : fail(`must be "dst" or a hostname with optional :port: ${hp.reason}`)
}

/** A list of CIDRs (bare IPs allowed) in canonical form; undefined when the key is absent. */
export function readCidrList(c: Checker, slot: Slot | undefined): string[] | undefined {
  const items = readList(c, slot)
  if (items === undefined) return undefined
  const out: string[] = []
  for (const item of items) {
    const cidr = readChecked(c, item, '', checkCidr)
    if (cidr !== undefined && cidr !== '') out.push(cidr)
  }
  return out
}

/** The same parser the proxy uses (src/net/cidr.ts), so a list that validates is one CidrSet accepts. */
function checkCidr(s: string): Parsed<string> {
  const r = parseCidr(s)
  return r.ok ? ok(r.cidr) : fail(`invalid CIDR: ${r.reason}`)
}

// ---------------------------------------------------------------------------------------------------------------
// The walker: a Checker collects problems; a Slot is one value with its dotted path.

export class Checker {
  readonly problems: ConfigProblem[] = []
  /** Service names referenced before the services were read (tcp listeners), checked afterwards. */
  readonly serviceRefs: { path: string; name: string }[] = []
  /** `routes[].auth` names, checked against `http.auth` once it is read. */
  readonly authRefs: { path: string; name: string }[] = []
  readonly file: string
  readonly env: Env
  readonly files: FileContents
  /** Directory listings (`listeners[].tls.directory`): names, or why the directory could not be read. */
  readonly dirs: DirContents
  constructor(file: string, env: Env, files: FileContents, dirs: DirContents = new Map()) {
    this.file = file
    this.env = env
    this.files = files
    this.dirs = dirs
  }
  add(path: string, message: string): void {
    this.problems.push({ file: this.file, path, message })
  }
}

export interface Slot {
  readonly path: string
  readonly value: unknown
  /** The value is the trimmed content of a `<key>_file` file: never echo it, parse numbers from it. */
  readonly fromFile: boolean
}

export type Fields<K extends string> = ReadonlyMap<K, Slot>

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/**
 * Open a mapping: report unknown keys, resolve `<key>_file` into `<key>`. undefined when absent (missing or null)
 * or not a mapping (reported).
 */
export function section<K extends string>(
  c: Checker,
  slot: Slot | undefined,
  keys: readonly K[],
): Fields<K> | undefined {
  if (slot === undefined || slot.value === null) return undefined
  if (!isMapping(slot.value)) {
    c.add(slot.path, `expected a mapping, got ${describe(slot)}`)
    return undefined
  }
  const known = keys as readonly string[]
  const out = new Map<K, Slot>()
  for (const [k, value] of Object.entries(slot.value)) {
    const path = join(slot.path, k)
    if (known.includes(k)) {
      out.set(k as K, { path, value, fromFile: false })
      continue
    }
    const base = k.endsWith(fileSuffix) ? k.slice(0, -fileSuffix.length) : ''
    if (base !== '' && known.includes(base)) {
      if (Object.hasOwn(slot.value, base)) {
        c.add(path, `set either ${base} or ${k}, not both`)
      } else {
        const content = readFileRef(c, { path, value, fromFile: false })
        if (content !== undefined) out.set(base as K, { path, value: content, fromFile: true })
      }
      continue
    }
    const hint = didYouMean(k, [...known, ...known.map((x) => x + fileSuffix)], known)
    c.add(path, `unknown key${hint === '' ? ` (expected one of: ${known.join(', ')})` : hint}`)
  }
  return out
}

function readFileRef(c: Checker, slot: Slot): string | undefined {
  if (typeof slot.value !== 'string') {
    c.add(slot.path, `expected a file path, got ${describe(slot)}`)
    return undefined
  }
  const ref = expand(c, slot, slot.value)
  if (ref === undefined) return undefined
  const content = c.files.get(ref.value)
  if (content === undefined) {
    c.add(slot.path, `file "${ref.value}" was not read`)
    return undefined
  }
  if (content instanceof Error) {
    c.add(slot.path, content.message)
    return undefined
  }
  return content.trim()
}

export function expand(c: Checker, slot: Slot, s: string): Expanded | undefined {
  if (slot.fromFile) return { value: s, substituted: true, errors: [] }
  const r = expandVars(s, c.env)
  for (const e of r.errors) c.add(slot.path, e)
  return r.errors.length > 0 ? undefined : r
}

export function required<K extends string>(c: Checker, f: Fields<K>, parent: Slot, key: K): Slot | undefined {
  const s = f.get(key)
  if (s === undefined || s.value === null) {
    c.add(join(parent.path, key), 'required')
    return undefined
  }
  return s
}

export function readList(c: Checker, slot: Slot | undefined): Slot[] | undefined {
  if (slot === undefined || slot.value === null) return undefined
  if (!Array.isArray(slot.value)) {
    c.add(slot.path, `expected a list, got ${describe(slot)}`)
    return undefined
  }
  const items: unknown[] = slot.value
  return items.map((value, i) => ({ path: `${slot.path}[${i}]`, value, fromFile: false }))
}

/** A string (after `${VAR}`), or the fallback when absent; wrong types are reported and give the fallback. */
export function readString(c: Checker, slot: Slot | undefined, fallback: string, secret = false): string {
  if (slot === undefined || slot.value === null) return fallback
  if (typeof slot.value !== 'string') {
    const hint = typeof slot.value === 'number' || typeof slot.value === 'boolean' ? ' (quote it)' : ''
    c.add(slot.path, `expected a string, got ${describe(slot, secret)}${hint}`)
    return fallback
  }
  return expand(c, slot, slot.value)?.value ?? fallback
}

/** A string run through a check; undefined when absent-with-problem (the problem is already reported). */
export function readChecked<T>(
  c: Checker,
  slot: Slot | undefined,
  fallback: T,
  check: Check<T>,
): T | undefined {
  if (slot === undefined || slot.value === null) return fallback
  const before = c.problems.length
  const s = readString(c, slot, '')
  if (c.problems.length > before) return undefined
  const r = check(s)
  if (r.ok) return r.value
  c.add(slot.path, slot.fromFile ? `invalid value in ${describeFile(slot)}` : r.reason)
  return undefined
}

export function readName(
  c: Checker,
  slot: Slot | undefined,
  fallback: string | undefined,
): string | undefined {
  if (slot === undefined) return fallback
  const s = readChecked(c, slot, fallback ?? '', (v) =>
    nameRe.test(v) ? ok(v) : fail(`must match [A-Za-z0-9_.-]+ (no spaces), got "${v}"`),
  )
  return s === '' ? undefined : s
}

export function readHostPort(c: Checker, slot: Slot | undefined, rules: HostPortRules): HostPort | undefined {
  return readChecked<HostPort | undefined>(c, slot, undefined, (s) => parseHostPort(s, rules))
}

/** Numbers from YAML, or from strings that came through `${VAR}` or a `_file` (those are always strings). */
export function readInt(
  c: Checker,
  slot: Slot | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (slot === undefined || slot.value === null) return fallback
  let n = typeof slot.value === 'number' ? slot.value : undefined
  if (typeof slot.value === 'string') {
    const r = expand(c, slot, slot.value)
    if (r === undefined) return fallback
    if (r.substituted) {
      if (!/^-?\d+$/.test(r.value.trim())) {
        c.add(slot.path, `expected an integer, got ${describeText(slot, r.value)}`)
        return fallback
      }
      n = Number(r.value)
    }
  }
  if (n === undefined) {
    c.add(slot.path, `expected an integer, got ${describe(slot)}`)
    return fallback
  }
  if (!Number.isInteger(n)) {
    c.add(slot.path, `expected an integer, got ${n}`)
    return fallback
  }
  if (n < min || n > max) {
    c.add(slot.path, `must be between ${min} and ${max}, got ${n}`)
    return fallback
  }
  return n
}

/** Booleans from YAML, or `true`/`false` through `${VAR}` or a `_file`. */
export function readBool(c: Checker, slot: Slot | undefined, fallback: boolean): boolean {
  if (slot === undefined || slot.value === null) return fallback
  if (typeof slot.value === 'boolean') return slot.value
  if (typeof slot.value === 'string') {
    const r = expand(c, slot, slot.value)
    if (r === undefined) return fallback
    if (r.substituted && (r.value === 'true' || r.value === 'false')) return r.value === 'true'
    c.add(slot.path, `expected true or false, got ${describeText(slot, r.value)}`)
    return fallback
  }
  c.add(slot.path, `expected true or false, got ${describe(slot)}`)
  return fallback
}

export function readEnum<T extends string>(
  c: Checker,
  slot: Slot | undefined,
  fallback: T,
  names: readonly T[],
): T {
  if (slot === undefined || slot.value === null) return fallback
  const before = c.problems.length
  const s = readString(c, slot, fallback)
  if (c.problems.length > before) return fallback
  return checkEnum(c, slot, s, names, fallback)
}

export function checkEnum<T extends string>(
  c: Checker,
  slot: Slot | undefined,
  s: string,
  names: readonly T[],
  fallback: T,
): T {
  if ((names as readonly string[]).includes(s)) return s as T
  if (slot !== undefined)
    c.add(slot.path, `must be one of ${names.join(', ')}; got "${s}"${didYouMean(s, names)}`)
  return fallback
}

export function readDuration(c: Checker, slot: Slot | undefined, fallback: number, min: number): number {
  if (slot === undefined || slot.value === null) return fallback
  let v: unknown = slot.value
  if (typeof v === 'string') {
    const r = expand(c, slot, v)
    if (r === undefined) return fallback
    v = r.value
  } else if (typeof v !== 'number') {
    c.add(slot.path, `expected a duration like 10s, got ${describe(slot)}`)
    return fallback
  }
  const d = parseDuration(v)
  if (!d.ok) {
    c.add(slot.path, slot.fromFile ? `invalid duration in ${describeFile(slot)}` : d.reason)
    return fallback
  }
  if (d.ms < min) {
    c.add(slot.path, `must be at least ${formatDuration(min)}`)
    return fallback
  }
  return d.ms
}

export function unique(
  c: Checker,
  seen: Map<string, string>,
  name: string,
  path: string,
  what: string,
  hint = '',
): void {
  const first = seen.get(name)
  if (first === undefined) seen.set(name, path)
  else c.add(path, `duplicate ${what} "${name}" (first at ${first})${hint}`)
}

export function describe(slot: Slot, secret = false): string {
  const v = slot.value
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (isMapping(v)) return 'a mapping'
  if (slot.fromFile) return describeFile(slot)
  switch (typeof v) {
    case 'string':
      return secret ? 'a string' : describeText(slot, v)
    case 'number':
      return secret ? 'a number' : `a number (${v})`
    case 'boolean':
      return secret ? 'a boolean' : `a boolean (${v})`
    default:
      return 'an unsupported value'
  }
}

/** A string value after `${VAR}` expansion, quoted; file contents are never echoed. */
export function describeText(slot: Slot, text: string): string {
  return slot.fromFile ? describeFile(slot) : `"${text.length > 40 ? text.slice(0, 40) + '…' : text}"`
}

function describeFile(slot: Slot): string {
  return `the content of ${slot.path.slice(slot.path.lastIndexOf('.') + 1)}`
}

// ---------------------------------------------------------------------------------------------------------------
// Suggestions.

/** `, did you mean "x"?` for the closest candidate (camelCase → snake_case, else Levenshtein ≤ 2), or ''. */
export function didYouMean(
  word: string,
  candidates: readonly string[],
  preferred?: readonly string[],
): string {
  const snake = word.replace(/[A-Z]/g, (ch) => '_' + ch.toLowerCase())
  if (snake !== word && candidates.includes(snake)) return `, did you mean "${snake}"?`
  let best = ''
  let bestDist = 3
  const lower = word.toLowerCase()
  for (const cand of candidates) {
    const d = levenshtein(lower, cand.toLowerCase())
    const better =
      d < bestDist || (d === bestDist && preferred?.includes(cand) === true && !preferred.includes(best))
    if (better) {
      best = cand
      bestDist = d
    }
  }
  return best === '' ? '' : `, did you mean "${best}"?`
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost))
    }
    prev = cur
  }
  return prev[b.length] as number
}
