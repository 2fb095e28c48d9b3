/**
 * lb runs with V8's young generation capped at 8 MB per semi-space (`--max-semi-space-size=8`): the systemd unit
 * and the Dockerfile start Node with it, the `lb` executable's first line asks for it (src/main.ts), and cluster
 * workers get it here.
 *
 * Why: under load V8 grows the young generation to its default maximum (16 MB semi-spaces on Node 24, committed
 * three times over) and keeps it. Measured with `node dist/bench/load.js --duration 5 --warmup 2 --rounds 3` and
 * Node 24 with and without the cap in the same run (bench/RESULTS.md, "V8's young-generation cap"): requests per
 * core 0.63× vs 0.64× haproxy (/small -c50), 0.61× vs 0.63× (-c200), 0.81× vs 0.80× (/16k -c50), 1.09× vs 1.03×
 * (/1m), within the spread of the rounds; peak RSS 116.6 vs 157.2 MB.
 */

/** The flag, as Node takes it on its command line. */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=8'

/** A cluster worker's Node options: the primary's, plus the cap unless a semi-space size is given already. */
export function workerExecArgv(primary: readonly string[]): string[] {
  const given = primary.some((a) => a.startsWith('--max-semi-space-size'))
  return given ? [...primary] : [...primary, YOUNG_GENERATION_FLAG]
}
