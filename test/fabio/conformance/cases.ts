/**
 * The fabio conformance suite's shared runner: every file in test/fabio/ ports the table rows of one fabio test
 * file (fabiolb/fabio, named in the file's header) and runs them through `fabioCases`.
 *
 * A case names its fabio test and row (`fabio`), gives fabio's input and fabio's expected answer (`want`). A
 * case lb answers differently on purpose carries `differs: { reason, lb }`: the test then checks lb's own answer
 * `lb` (so it still fails if lb changes), and its name starts with `[differs]`. docs/fabio.md lists them all.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'

export interface Differs<O> {
  /** Why lb answers differently (a documented deliberate difference). */
  readonly reason: string
  /** lb's answer. */
  readonly lb: O
}

export interface FabioCase<I, O> {
  /** fabio test function and row, e.g. `TestTableLookup/abc.com /foo`. */
  readonly fabio: string
  readonly in: I
  /** fabio's expected answer. */
  readonly want: O
  readonly differs?: Differs<O>
}

/** One `node:test` test per case: lb's answer must equal fabio's, or lb's documented one for `differs` cases. */
export function fabioCases<I, O>(
  title: string,
  cases: readonly FabioCase<I, O>[],
  run: (input: I) => O,
): void {
  for (const c of cases) {
    const name = `${title}: ${c.differs === undefined ? '' : '[differs] '}${c.fabio}`
    test(name, () => {
      const got = run(c.in)
      if (c.differs === undefined) assert.deepEqual(got, c.want)
      else {
        assert.notDeepEqual(c.differs.lb, c.want, 'a differing case must differ from fabio')
        assert.deepEqual(got, c.differs.lb, c.differs.reason)
      }
    })
  }
}
