/**
 * Property test: a trie patched path by path (trie.ts `trieWith`, `trieWithout`) answers every lookup as a trie
 * built from scratch with the same paths does. Paths come from a small alphabet, so edges split and merge often,
 * and some hold '?', which neither keeps.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  KIND_EXACT,
  KIND_PREFIX,
  KIND_SEGMENT,
  longestKindMatch,
  longestPrefix,
  longestSegmentPrefix,
  PathTrieBuilder,
  trieHas,
  trieWith,
  trieWithout,
  type PathNode,
} from '../../src/route/trie.js'
import { fuzzParams } from '../fuzz/runs.js'

interface Value {
  readonly path: string
  readonly matchKind: number
}

const path = fc
  .array(fc.constantFrom('/', 'a', 'b', 'ab', '?'), { maxLength: 5 })
  .map((parts) => parts.join(''))

const op = fc.record({
  path,
  remove: fc.boolean(),
  kind: fc.constantFrom(KIND_PREFIX, KIND_SEGMENT, KIND_EXACT),
})

const URLS = ['', '/', '/a', '/a/', '/ab', '/ab/b', '/b', '/b?a', 'a', 'ab/ab', '/a/b/a', '/abab', 'b/', '//']

function built(values: ReadonlyMap<string, Value>): PathNode<Value> | null {
  const b = new PathTrieBuilder<Value>()
  for (const [p, v] of values) b.insert(p, v)
  return b.size === 0 ? null : b.finish()
}

function answers(root: PathNode<Value> | null, paths: readonly string[]): string {
  let out = ''
  for (const url of URLS) {
    const p = root === null ? undefined : longestPrefix(root, url)
    const s = root === null ? undefined : longestSegmentPrefix(root, url)
    const k = root === null ? undefined : longestKindMatch(root, url)
    out += `${url} → ${p?.path ?? '-'} ${s?.path ?? '-'} ${k?.path ?? '-'}\n`
  }
  for (const p of paths) out += `${p}: ${trieHas(root, p)}\n`
  return out
}

test('a trie patched path by path answers as one built from its paths', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const values = new Map<string, Value>()
      let root: PathNode<Value> | null = null
      const seen: string[] = []
      for (const o of ops) {
        seen.push(o.path)
        if (o.remove) {
          values.delete(o.path)
          root = trieWithout(root, o.path)
        } else {
          const v = { path: o.path, matchKind: o.kind }
          // A built trie keeps the first value of a path; a patch replaces it, as a route moved to a new id.
          values.delete(o.path)
          values.set(o.path, v)
          root = trieWith(root, o.path, v)
        }
        const fresh = built(new Map([...values].filter(([p]) => !p.includes('?'))))
        assert.equal(answers(root, seen), answers(fresh, seen))
      }
    }),
    fuzzParams(),
  )
})
