/**
 * The runtime a bench ran on. Every bench prints this line first, so a number is never separated from the Node
 * that produced it; load.ts and load-tcp.ts also name the Node of every lb they start (`--node`).
 */
export function runtimeLine(): string {
  return `bench on Node ${process.version} (V8 ${process.versions.v8}, ${process.platform}-${process.arch}, ${process.execPath})`
}

/** Prints runtimeLine() on stdout (`stderr` for benches whose stdout is data or ignored). */
export function printRuntime(stream: 'stdout' | 'stderr' = 'stdout'): void {
  process[stream].write(runtimeLine() + '\n')
}

/** Nearest-rank quantile: the smallest sample with at least `q` of the samples at or below it (p99 of 100 = the 99th). */
export function quantile(xs: readonly number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b)
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] ?? NaN
}
