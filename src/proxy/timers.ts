/**
 * One shared timer for every connection timeout of a process: a binary min-heap of deadlines behind a single
 * Node timer set for the earliest one.
 *
 * A connection owns one `Deadline` for its whole life. Arming it with a later time (activity on a keep-alive
 * connection, the next request) only writes a number: the heap keeps the entry at its old position and moves it
 * when that position comes due. Moving a deadline earlier, or arming a disarmed one, is one sift in the heap.
 * So a request costs no timer creation, and the heap sees about one operation per expiry period, not one per
 * request or per chunk.
 *
 * Precision: the Node timer is set for the exact earliest due time (1 ms resolution), so a deadline fires within
 * the event loop's lag of its time. Time is `Date.now()`; when the timer fires, its own due time counts as
 * reached, so tests drive deadlines with node:test mock timers (`mock.timers.tick`), faking `setTimeout` alone
 * or with `Date`.
 */

/** A connection's single timeout. `owner.onDeadline(kind)` runs when it expires. */
export interface DeadlineOwner {
  onDeadline(kind: number): void
}

export class Deadline {
  readonly owner: DeadlineOwner
  /** When it expires (ms, `Date.now()` clock); 0 = disarmed. */
  at: number
  /** What it is for, handed back to the owner (each owner numbers its own kinds). */
  kind: number
  /** Its key in the heap (≤ `at` while armed); meaningful only while `index >= 0`. */
  due: number
  /** Position in the heap, -1 when not in it. */
  index: number

  constructor(owner: DeadlineOwner) {
    this.owner = owner
    this.at = 0
    this.kind = 0
    this.due = 0
    this.index = -1
  }
}

export class Deadlines {
  readonly #heap: Deadline[]
  #timer: ReturnType<typeof setTimeout> | null
  /** When `#timer` fires (0 = not set). */
  #timerAt: number
  readonly #fire: () => void

  constructor() {
    this.#heap = []
    this.#timer = null
    this.#timerAt = 0
    this.#fire = () => this.#expire()
  }

  /** Arm `d` to expire `ms` from now with `kind` (replacing any earlier arming). ms ≤ 0 disarms. */
  arm(d: Deadline, ms: number, kind: number): void {
    if (ms <= 0) {
      d.at = 0
      return
    }
    const at = Date.now() + ms
    d.at = at
    d.kind = kind
    if (d.index < 0) {
      d.due = at
      this.#push(d)
    } else if (at < d.due) {
      d.due = at
      this.#up(d.index)
    } else {
      return
    }
    if (this.#heap[0] === d) this.#schedule(at)
  }

  /** Disarm `d` (its heap entry is dropped lazily when it comes due). */
  disarm(d: Deadline): void {
    d.at = 0
  }

  /** Remove `d` from the heap now (its owner is going away for good). */
  remove(d: Deadline): void {
    d.at = 0
    const i = d.index
    if (i < 0) return
    const heap = this.#heap
    const last = heap.pop() as Deadline
    d.index = -1
    if (last !== d) {
      heap[i] = last
      last.index = i
      this.#down(i)
      this.#up(last.index)
    }
  }

  /** Entries in the heap (armed or waiting to be dropped). */
  get size(): number {
    return this.#heap.length
  }

  /** Stop the timer (process shutdown); armed deadlines stay, unfired. */
  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#timerAt = 0
  }

  #schedule(at: number): void {
    if (this.#timer !== null) {
      if (this.#timerAt <= at) return
      clearTimeout(this.#timer)
    }
    this.#timerAt = at
    this.#timer = setTimeout(this.#fire, Math.max(1, at - Date.now()))
    this.#timer.unref()
  }

  #expire(): void {
    // The timer was set for `#timerAt`; a timer never fires early, so that time has come even when `Date` says
    // otherwise (tests that fake only `setTimeout`).
    const now = Math.max(Date.now(), this.#timerAt)
    this.#timer = null
    this.#timerAt = 0
    const heap = this.#heap
    while (heap.length > 0) {
      const d = heap[0] as Deadline
      if (d.due > now) break
      if (d.at === 0) {
        this.remove(d)
        continue
      }
      if (d.at > now) {
        // Pushed back by activity since it was placed: move it to its real time.
        d.due = d.at
        this.#down(0)
        continue
      }
      this.remove(d)
      d.owner.onDeadline(d.kind)
    }
    const top = heap[0]
    if (top !== undefined) this.#schedule(top.due)
  }

  #push(d: Deadline): void {
    const heap = this.#heap
    d.index = heap.length
    heap.push(d)
    this.#up(d.index)
  }

  #up(i: number): void {
    const heap = this.#heap
    const d = heap[i] as Deadline
    while (i > 0) {
      const p = (i - 1) >> 1
      const parent = heap[p] as Deadline
      if (parent.due <= d.due) break
      heap[i] = parent
      parent.index = i
      i = p
    }
    heap[i] = d
    d.index = i
  }

  #down(i: number): void {
    const heap = this.#heap
    const n = heap.length
    const d = heap[i] as Deadline
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      if (r < n && (heap[r] as Deadline).due < (heap[l] as Deadline).due) c = r
      const child = heap[c] as Deadline
      if (child.due >= d.due) break
      heap[i] = child
      child.index = i
      i = c
    }
    heap[i] = d
    d.index = i
  }
}
