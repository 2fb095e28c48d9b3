/**
 * Random edits of a list of Consul check texts (a `state` answer's elements), for the answer-diff properties
 * (jsondiff.ts, stream-diff.ts): a check's status set, a check inserted or removed, and runs of identical checks,
 * whose segments share their anchors.
 */
import fc from 'fast-check'

/** Check `i` as JSON text, with an `Output` of varying length. */
export const checkText = (i: number, status: string): string =>
  JSON.stringify({ Node: `n${i % 9}`, CheckID: `c${i}`, Status: status, Output: 'o'.repeat((i * 7) % 90) })

/** The same check every time. */
const same = JSON.stringify({ Node: 'n', CheckID: 'same', Status: 'passing', Output: 'x'.repeat(40) })

export type CheckEdit =
  | { kind: 'set'; at: number; status: string }
  | { kind: 'insert'; at: number; id: number }
  | { kind: 'same'; at: number; count: number }
  | { kind: 'remove'; at: number; count: number }
  | { kind: 'none' }

/** Edits removing up to `maxRemove` checks at once; with `same`, also inserting runs of identical checks. */
export function checkEdits(maxRemove: number, withSame: boolean): fc.Arbitrary<CheckEdit> {
  const kinds: fc.Arbitrary<CheckEdit>[] = [
    fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      status: fc.constantFrom('passing', 'critical', 'warning'),
    }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), id: fc.nat(10_000) }),
    fc.record({
      kind: fc.constant('remove' as const),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: maxRemove }),
    }),
    fc.record({ kind: fc.constant('none' as const) }),
  ]
  if (withSame)
    kinds.push(
      fc.record({ kind: fc.constant('same' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 30 }) }),
    )
  return fc.oneof(...kinds)
}

/** `list` with `e` applied (a new list). */
export function applyCheckEdit(list: readonly string[], e: CheckEdit): string[] {
  const next = [...list]
  if (e.kind === 'set' && next.length > 0) next[e.at % next.length] = checkText(e.at, e.status)
  else if (e.kind === 'insert') next.splice(e.at % (next.length + 1), 0, checkText(10_000 + e.id, 'passing'))
  else if (e.kind === 'same') next.splice(e.at % (next.length + 1), 0, ...Array<string>(e.count).fill(same))
  else if (e.kind === 'remove') next.splice(e.at % (next.length + 1), e.count)
  return next
}
