/**
 * The check schedule's binary min-heap of servers on (due, seq), each server's position kept in its
 * `heapIndex` so any server can be moved or removed in O(log n).
 */
import type { ServerHealth } from './server-health.js'

/** Binary min-heap on (due, seq), positions kept in `heapIndex` so any server can be removed in O(log n). */
function before(a: ServerHealth, b: ServerHealth): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq)
}

export function heapPush(heap: ServerHealth[], h: ServerHealth): void {
  h.heapIndex = heap.length
  heap.push(h)
  siftUp(heap, h.heapIndex)
}

/** `h`'s key changed: move it to its place. */
export function heapUpdate(heap: ServerHealth[], h: ServerHealth): void {
  siftUp(heap, h.heapIndex)
  siftDown(heap, h.heapIndex)
}

export function heapRemove(heap: ServerHealth[], h: ServerHealth): void {
  const i = h.heapIndex
  const last = heap.pop() as ServerHealth
  h.heapIndex = -1
  if (last === h) return
  heap[i] = last
  last.heapIndex = i
  siftUp(heap, i)
  siftDown(heap, last.heapIndex)
}

function siftUp(heap: ServerHealth[], i: number): void {
  const h = heap[i] as ServerHealth
  while (i > 0) {
    const parent = (i - 1) >> 1
    const p = heap[parent] as ServerHealth
    if (!before(h, p)) break
    heap[i] = p
    p.heapIndex = i
    i = parent
  }
  heap[i] = h
  h.heapIndex = i
}

function siftDown(heap: ServerHealth[], i: number): void {
  const n = heap.length
  const h = heap[i] as ServerHealth
  for (;;) {
    let c = 2 * i + 1
    if (c >= n) break
    const right = c + 1
    if (right < n && before(heap[right] as ServerHealth, heap[c] as ServerHealth)) c = right
    const child = heap[c] as ServerHealth
    if (!before(child, h)) break
    heap[i] = child
    child.heapIndex = i
    i = c
  }
  heap[i] = h
  h.heapIndex = i
}
