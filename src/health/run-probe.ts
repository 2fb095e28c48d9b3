/** Running one probe: the plain TCP checks (tcp-checks.ts) or the general probe (probes.ts `ProbeRun`). */
import { isIP } from 'node:net'
import {
  type ProbeSpec,
  type ProbeResult,
  type ProbeTarget,
  type ProbeDone,
  type ProbeHandle,
  ProbeRun,
} from './probes.js'
import { TcpCheck, tcpWrap, RawTcpCheck, idleRawChecks, idleTcpChecks } from './tcp-checks.js'

/** Run one probe with its own timer. Never rejects. */
export function probe(spec: ProbeSpec, target: ProbeTarget, now: () => number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const p: PromiseProbe = { resolve, timer: null }
    const handle = startProbe(spec, target, now, p, resolvePromiseProbe)
    p.timer = setTimeout(expireHandle, spec.timeout, handle)
  })
}

interface PromiseProbe {
  resolve: (r: ProbeResult) => void
  timer: ReturnType<typeof setTimeout> | null
}

function resolvePromiseProbe(p: PromiseProbe, r: ProbeResult): void {
  if (p.timer !== null) clearTimeout(p.timer)
  p.resolve(r)
}

function expireHandle(h: ProbeHandle): void {
  h.expire()
}

/**
 * Run one probe and report through `done(owner, result)`: the scheduler's form, with no promise, closure or
 * timer per probe (socket events go to module-level handlers that find the run through a symbol on the socket).
 * The caller ends it at its `timeout` with `expire()`.
 */
export function startProbe<T>(
  spec: ProbeSpec,
  target: ProbeTarget,
  now: () => number,
  owner: T,
  done: ProbeDone<T>,
): ProbeHandle {
  if (spec.type === 'tcp' && (spec.proxy ?? 'none') === 'none') {
    if (tcpWrap !== null && isIP(target.address) !== 0) {
      const raw = idleRawChecks.pop() ?? new RawTcpCheck()
      raw.start(spec, target, now, owner as unknown, done as ProbeDone<unknown>)
      return raw
    }
    const c = idleTcpChecks.pop() ?? new TcpCheck()
    c.start(spec, target, now, owner as unknown, done as ProbeDone<unknown>)
    return c
  }
  const run = new ProbeRun(spec, target, now, owner as unknown, done as ProbeDone<unknown>)
  run.start()
  return run
}
