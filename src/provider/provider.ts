/**
 * The provider interface: a source of routing configuration that emits **whole** snapshots.
 *
 * `start(emit, signal)` begins producing and returns at once; the provider calls `emit` with its complete
 * current Snapshot every time it may have changed (emitting an unchanged snapshot is allowed: the watcher drops
 * it). A change notification from the outside world (a Consul blocking query returning) only ever triggers a
 * full re-read and a whole snapshot, never a delta. When `signal` aborts, the provider stops: no further
 * `emit`, no timers or sockets left behind. Providers never throw out of `start`; they log and retry.
 */
import type { Snapshot } from '../model/snapshot.js'

export type Emit = (snapshot: Snapshot) => void

export interface Provider {
  /** Unique among the running providers; `file` for the config file, `consul` for Consul. */
  readonly name: string
  /**
   * Its snapshots name every service as the merge would (`<name>@<provider>`, merge.ts `qualify`) already, so the
   * merge takes them as they are instead of copying each service and route to qualify it.
   */
  readonly qualified?: boolean
  start(emit: Emit, signal: AbortSignal): void
}

/** A provider that emits one fixed snapshot, replaceable at runtime (the config file provider, reloaded on SIGHUP). */
export class StaticProvider implements Provider {
  readonly name: string
  #snapshot: Snapshot
  #emit: Emit | null

  constructor(name: string, snapshot: Snapshot) {
    this.name = name
    this.#snapshot = snapshot
    this.#emit = null
  }

  start(emit: Emit, signal: AbortSignal): void {
    if (signal.aborted) return
    this.#emit = emit
    signal.addEventListener('abort', () => (this.#emit = null), { once: true })
    emit(this.#snapshot)
  }

  /** Replace the snapshot (SIGHUP reload) and emit it when running. */
  set(snapshot: Snapshot): void {
    this.#snapshot = snapshot
    this.#emit?.(snapshot)
  }
}
