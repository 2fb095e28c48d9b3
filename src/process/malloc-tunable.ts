/**
 * lb runs with glibc's mmap threshold fixed at its default starting value, 128 KiB
 * (`GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072`): the systemd unit and the Dockerfile set it, the `lb`
 * executable's first line asks for it (src/main.ts), and cluster workers get it here.
 *
 * Why: glibc serves a block of at least the threshold with a mapping of its own, returned to the system when the
 * block is freed; smaller blocks come from its heaps, which give memory back only from their top. By default the
 * threshold rises to the size of every such block freed (up to 32 MiB), and blocks up to that size then come from
 * the heaps, where their memory stays once freed. Fixed, blocks of 128 KiB and more always get their own mapping;
 * smaller ones (socket reads, lb's read buffers) are served as before. Measured with
 * `node dist/bench/consul-scale.js --services 10000` (bench/RESULTS.md): RSS of the daemon before the changes
 * 154.6 → 140.2 MB. Where the C library is not glibc the variable does nothing.
 */

/** The tunable, as GLIBC_TUNABLES takes it. */
export const MALLOC_TUNABLE = 'glibc.malloc.mmap_threshold=131072'

/** GLIBC_TUNABLES for a cluster worker: the primary's, plus the threshold unless it sets one already. */
export function workerTunables(primary: string | undefined): string {
  if (primary === undefined || primary === '') return MALLOC_TUNABLE
  if (primary.split(':').some((t) => t.startsWith('glibc.malloc.mmap_threshold='))) return primary
  return `${primary}:${MALLOC_TUNABLE}`
}
