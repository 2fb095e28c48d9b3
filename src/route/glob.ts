/**
 * fabio's glob patterns (its `proxy.matcher = glob` paths and its host patterns), compiled once at table build
 * time into anchored regular expressions. Pure: no I/O.
 *
 * The syntax is the one fabio's glob library uses without separators, so `*` also crosses `/` and `.`:
 *
 *     *         any run of characters (also empty); `**` is the same
 *     ?         any one character
 *     [abc]     one of a, b, c; `[a-z]` a range; `[!abc]` none of them
 *     {a,b}     one of the alternatives (each may hold the other forms, but no nested braces)
 *     \x        the character x itself
 *
 * A path pattern is matched against the request target up to its first '?' (so `*` and `?` never cross into the
 * query, and the regular expression runs on the target as it is, without slicing it); a host pattern against a
 * Host header, case-insensitively, with an optional `:port` after it (the port is checked by the table).
 * `RegExp#test` keeps no match array, so a lookup through a glob allocates nothing.
 */

/** Characters that make a host or path a glob rather than a literal. */
const GLOB_CHARS = /[*?[\]{}\\]/

/** Whether `s` has any glob syntax (`*`, `?`, `[`, `]`, `{`, `}` or `\`). */
export function isGlob(s: string): boolean {
  return GLOB_CHARS.test(s)
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/

function literal(ch: string): string {
  return REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch
}

export type GlobResult =
  { readonly ok: true; readonly source: string } | { readonly ok: false; readonly reason: string }

/**
 * The regular-expression body for `pattern`, or why it is not a valid glob (an unclosed `[` or `{`, a stray `]`
 * or `}`, a nested `{`, or a trailing `\`). `any` is what `*` and `?` may match (a character class body).
 */
export function globSource(pattern: string, any: string): GlobResult {
  let out = ''
  let inBrace = false
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    switch (ch) {
      case '*':
        while (pattern[i + 1] === '*') i++
        out += `[${any}]*`
        break
      case '?':
        out += `[${any}]`
        break
      case '\\': {
        const next = pattern[i + 1]
        if (next === undefined) return { ok: false, reason: `"${pattern}": "\\" at the end` }
        out += literal(next)
        i++
        break
      }
      case '[': {
        const close = pattern.indexOf(']', i + 2)
        if (close < 0) return { ok: false, reason: `"${pattern}": "[" is not closed` }
        let body = pattern.slice(i + 1, close)
        const negate = body.startsWith('!')
        if (negate) body = body.slice(1)
        let cls = ''
        for (const c of body) cls += c === '-' ? '-' : c === ']' || c === '\\' || c === '^' ? `\\${c}` : c
        out += negate ? `[^${cls}]` : `[${cls}]`
        i = close
        break
      }
      case '{':
        if (inBrace) return { ok: false, reason: `"${pattern}": nested "{"` }
        inBrace = true
        out += '(?:'
        break
      case '}':
        if (!inBrace) return { ok: false, reason: `"${pattern}": "}" without "{"` }
        inBrace = false
        out += ')'
        break
      case ',':
        out += inBrace ? '|' : ','
        break
      case ']':
        return { ok: false, reason: `"${pattern}": "]" without "["` }
      default:
        out += literal(ch)
    }
  }
  if (inBrace) return { ok: false, reason: `"${pattern}": "{" is not closed` }
  return { ok: true, source: out }
}

/** A path glob as a RegExp over a request target: the whole path up to '?' must match. Throws on a bad glob. */
export function pathGlob(pattern: string): RegExp {
  const r = globSource(pattern, '^?')
  if (!r.ok) throw new SyntaxError(r.reason)
  return new RegExp(`^${r.source}(?=\\?|$)`)
}

/** A host glob as a RegExp over a Host header (any case, optional `:port`). Throws on a bad glob. */
export function hostGlob(pattern: string): RegExp {
  const r = globSource(pattern, '^:')
  if (!r.ok) throw new SyntaxError(r.reason)
  return new RegExp(`^${r.source}\\.?(?::\\d*)?$`, 'i')
}

/** '' when `pattern` compiles, else the reason. */
export function globProblem(pattern: string): string {
  const r = globSource(pattern, '^?')
  return r.ok ? '' : r.reason
}
