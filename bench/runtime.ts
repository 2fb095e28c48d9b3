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
