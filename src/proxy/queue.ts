/**
 * Requests (and TCP connections) waiting for a server slot when every usable server is at maxconn
 * (haproxy `maxconn` + queue, docs/haproxy.md). One FIFO per service, kept across snapshots so a
 * release on any of the service's servers wakes the oldest waiter.
 *
 * Differences from haproxy, on purpose: one queue per service rather than per-server queues plus a backend
 * queue (no persistence, so nothing is pinned to a server); `maxqueue` bounds that one queue (503 at once when
 * full) instead of redispatching from a full server queue.
 */

export interface Waiter {
  /** Try to get a server now; true = taken off the queue (dispatched or failed), false = still waiting. */
  retryFromQueue(): boolean
}

export class WaitQueue {
  readonly service: string
  /** The waiters, oldest first; null until the first one (most services never queue). */
  #items: Waiter[] | null
  /** 0 = unlimited. */
  max: number

  constructor(service: string) {
    this.service = service
    this.#items = null
    this.max = 0
  }

  get length(): number {
    return this.#items === null ? 0 : this.#items.length
  }

  /** false when the queue is full. */
  push(w: Waiter): boolean {
    if (this.max > 0 && this.length >= this.max) return false
    if (this.#items === null) this.#items = [w]
    else this.#items.push(w)
    return true
  }

  remove(w: Waiter): void {
    const items = this.#items
    if (items === null) return
    const i = items.indexOf(w)
    if (i >= 0) items.splice(i, 1)
  }

  /** Hand free slots to waiters in order, until the oldest one still cannot get a server. */
  drain(): void {
    const items = this.#items
    if (items === null) return
    while (items.length > 0) {
      const w = items[0] as Waiter
      if (!w.retryFromQueue()) return
      if (items[0] === w) items.shift()
    }
  }
}
