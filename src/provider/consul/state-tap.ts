/**
 * The `state` watch's tap (sink.ts `BodyTap`): `/v1/health/state/any` diffed against the provider's last answer as it
 * streams in (stream-diff.ts), so the provider (consul.ts) never holds the answer whole.
 */
import type { BodyTap } from './sink.js'
import { ArrayStream, type StreamResult, type StreamText } from './stream-diff.js'
import { checkInfo, type CheckInfo } from './checks.js'

/** What consul.ts nodeEntries reads of a check: as `/v1/health/node/<node>` and `/v1/health/state/any` list them. */
export interface NodeCheck {
  readonly CheckID: unknown
  readonly Status: unknown
  readonly ServiceID: unknown
}

/** A `state` answer as its tap left it: what changed, and for an answer parsed whole its checks by node. */
export interface StateAnswer {
  readonly result: StreamResult<CheckInfo | null> | Error
  readonly nodes: Map<string, NodeCheck[]> | null
}

/**
 * The `state` watch's sink tap (sink.ts `BodyTap`): the answer is diffed against the provider's last one as it
 * streams in (stream-diff.ts), each check of a changed region parsed to its `CheckInfo` on the way; an answer
 * parsed whole also gives each node's checks, for the initial sync's reads by node.
 */
export class StateTap implements BodyTap {
  readonly #last: () => StreamText | null
  readonly #stream: ArrayStream<CheckInfo | null>
  #nodes: Map<string, NodeCheck[]> | null = null
  #answer: StateAnswer | null = null

  /** `last`: what is remembered of the last answer the provider took (read when an answer starts). */
  constructor(last: () => StreamText | null) {
    this.#last = last
    this.#stream = new ArrayStream((text) => {
      const item: unknown = JSON.parse(text)
      if (this.#nodes !== null) addNodeCheck(this.#nodes, item)
      return checkInfo(item)
    })
  }

  begin(): void {
    this.#answer = null
    this.#nodes = this.#stream.begin(this.#last()) ? new Map() : null
  }

  write(chunk: Uint8Array, from: number, to: number): void {
    this.#stream.write(chunk, from, to)
  }

  finish(): void {
    this.#answer = { result: this.#stream.end(), nodes: this.#nodes }
    this.#nodes = null
  }

  /** The last complete answer, once. */
  take(): StateAnswer | null {
    const a = this.#answer
    this.#answer = null
    return a
  }
}

/** Note a parsed `state/any` element under its node (what consul.ts nodeEntries reads of it). */
function addNodeCheck(byNode: Map<string, NodeCheck[]>, item: unknown): void {
  if (typeof item !== 'object' || item === null) return
  const c = item as Record<string, unknown>
  if (typeof c.Node !== 'string') return
  const check: NodeCheck = { CheckID: c.CheckID, Status: c.Status, ServiceID: c.ServiceID }
  const l = byNode.get(c.Node)
  if (l === undefined) byNode.set(c.Node, [check])
  else l.push(check)
}
