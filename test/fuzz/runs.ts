/**
 * fast-check run counts for test/fuzz: bounded in `npm test` (default 200 per property), many more on demand with
 * `FUZZ_RUNS=100000 node --test dist/test/fuzz/*.test.js`. `FUZZ_SEED` replays a reported failure.
 */
import type { Parameters } from 'fast-check'

export function fuzzParams<T>(defaultRuns = 200): Parameters<T> {
  const runs = Number(process.env.FUZZ_RUNS ?? defaultRuns)
  const seed = process.env.FUZZ_SEED
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : defaultRuns,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
  }
}
