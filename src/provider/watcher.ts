/**
 * The provider watcher (after traefik's `configurationwatcher.go` + `aggregator/ring_channel.go`):
 *
 * - keeps the latest snapshot per provider, canonically sorted (merge.ts `canonical`);
 * - drops a snapshot equal to that provider's previous one (`util.isDeepStrictEqual`), so a Consul blocking
 *   query that returns the same data, or a SIGHUP without changes, costs nothing downstream. The comparison
 *   stops at identical objects, and the Consul provider and `merge` (MergeMemo) keep unchanged services and
 *   routes as the same objects, so with 10,000 services it costs a pass over the arrays, not a deep walk;
 * - throttles latest-wins: the first change after a quiet period is published at once (leading edge); later
 *   changes within `window` ms are coalesced and the newest state is published when the window ends, so at most
 *   one publication per window;
 * - merges all providers (merge.ts) and hands the result to **one** consumer. A consumer call that is still
 *   running (the worker resolving hostnames) is never overlapped: changes arriving meanwhile are published once
 *   it settles, latest wins. A merged result equal to the last published one is dropped too.
 *
 * Time comes from `now` and the global `setTimeout`, so tests drive it with `mock.timers`.
 */
import { isDeepStrictEqual } from 'node:util'
import type { Snapshot } from '../model/snapshot.js'
import type { Provider } from './provider.js'
import { canonical, merge, type MergeMemo, type ProviderSnapshot } from './merge.js'

export type Consumer = (snapshot: Snapshot) => void | Promise<void>

export interface WatcherOptions {
  /** Providers in precedence order (file first). Names must be unique. */
  readonly providers: readonly Provider[]
  readonly consumer: Consumer
  /** Throttle window in ms (0 = publish every change at once). */
  readonly window: number
  readonly now?: () => number
  /** Called when the consumer throws/rejects; the watcher keeps going. */
  readonly onError?: (err: unknown) => void
}

export class Watcher {
  #providers: Provider[]
  readonly #consumer: Consumer
  readonly #window: number
  readonly #now: () => number
  readonly #onError: (err: unknown) => void
  readonly #latest: Map<string, Snapshot>
  #published: Snapshot | null
  #lastPublishAt: number
  #timer: NodeJS.Timeout | null
  #busy: boolean
  #dirty: boolean
  #signal: AbortSignal | null
  #running: Promise<void> | null
  /** Qualified copies of provider objects from earlier merges (merge.ts MergeMemo). */
  readonly #mergeMemo: MergeMemo
  /** Counters for tests and metrics. */
  readonly stats: { received: number; dropped: number; published: number }

  constructor(options: WatcherOptions) {
    const names = new Set<string>()
    for (const p of options.providers) {
      if (names.has(p.name)) throw new Error(`duplicate provider name "${p.name}"`)
      names.add(p.name)
    }
    this.#providers = [...options.providers]
    this.#consumer = options.consumer
    this.#window = options.window
    this.#now = options.now ?? Date.now
    this.#onError = options.onError ?? (() => {})
    this.#latest = new Map()
    this.#published = null
    this.#lastPublishAt = -Infinity
    this.#timer = null
    this.#busy = false
    this.#dirty = false
    this.#signal = null
    this.#running = null
    this.#mergeMemo = new Map()
    this.stats = { received: 0, dropped: 0, published: 0 }
  }

  /** Start every provider. Aborting `signal` stops them and cancels a pending publication. */
  start(signal: AbortSignal): void {
    this.#signal = signal
    signal.addEventListener('abort', () => this.#cancelTimer(), { once: true })
    for (const p of this.#providers) p.start((s) => this.#receive(p.name, s), signal)
  }

  /**
   * Start `provider` with its own `signal` (it must have been aborted for a provider of the same name that is
   * replaced). A replaced provider keeps its position in the merge order and its last snapshot until the new
   * one emits, so routes keep serving across a reload.
   */
  add(provider: Provider, signal: AbortSignal): void {
    const i = this.#providers.findIndex((p) => p.name === provider.name)
    if (i >= 0) this.#providers[i] = provider
    else this.#providers.push(provider)
    provider.start((s) => {
      if (!signal.aborted) this.#receive(provider.name, s)
    }, signal)
  }

  /** Stop merging the provider `name` (its own signal must already be aborted) and republish without it. */
  remove(name: string): void {
    this.#providers = this.#providers.filter((p) => p.name !== name)
    if (this.#latest.delete(name)) this.#schedule()
  }

  /** Publish a pending change now (skipping the throttle) and wait until the consumer has applied it. */
  async flush(): Promise<void> {
    while (this.#running !== null) await this.#running
    if (!this.#dirty) return
    this.#cancelTimer()
    await this.#publish()
  }

  /** The latest snapshot of each provider (canonical). */
  latest(): ReadonlyMap<string, Snapshot> {
    return this.#latest
  }

  #receive(name: string, snapshot: Snapshot): void {
    if (this.#signal?.aborted === true) return
    this.stats.received++
    const previous = this.#latest.get(name)
    const c = canonical(snapshot, previous)
    if (previous !== undefined && isDeepStrictEqual(previous, c)) {
      this.stats.dropped++
      return
    }
    this.#latest.set(name, c)
    this.#schedule()
  }

  #schedule(): void {
    this.#dirty = true
    if (this.#timer !== null || this.#busy) return
    const wait = this.#lastPublishAt + this.#window - this.#now()
    if (wait <= 0) {
      void this.#publish()
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = null
      void this.#publish()
    }, wait)
  }

  #cancelTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  async #apply(merged: Snapshot): Promise<void> {
    try {
      await this.#consumer(merged)
    } catch (err) {
      this.#onError(err)
    }
  }

  async #publish(): Promise<void> {
    if (!this.#dirty || this.#signal?.aborted === true) return
    this.#dirty = false
    const inputs: ProviderSnapshot[] = []
    for (const p of this.#providers) {
      const s = this.#latest.get(p.name)
      if (s !== undefined) inputs.push({ provider: p.name, snapshot: s, qualified: p.qualified === true })
    }
    const merged = merge(inputs, this.#mergeMemo)
    if (this.#published !== null && isDeepStrictEqual(this.#published, merged)) return
    this.#published = merged
    this.#lastPublishAt = this.#now()
    this.stats.published++
    this.#busy = true
    const running = this.#apply(merged)
    this.#running = running
    await running
    this.#running = null
    this.#busy = false
    if (this.#dirty) this.#schedule()
  }
}
