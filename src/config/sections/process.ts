/** `workers:` and `shutdown:`: how many worker processes, and how lb drains. */
import type { ShutdownConfig } from '../types.js'
import { defaultConfig, maxWorkers } from '../defaults.js'
import { type Checker, type Slot, section, expand, readInt, readDuration, describeText } from '../reader.js'

export const shutdownKeys = ['grace', 'timeout'] as const

export function readWorkers(c: Checker, slot: Slot | undefined): number | 'auto' {
  const d = defaultConfig.workers as number
  if (slot !== undefined && typeof slot.value === 'string') {
    const r = expand(c, slot, slot.value)
    if (r === undefined) return d
    const v = r.value.trim()
    if (v === 'auto') return 'auto'
    if (!/^-?\d+$/.test(v)) {
      c.add(slot.path, `expected auto or a number of processes, got ${describeText(slot, v)}`)
      return d
    }
    return readInt(c, { ...slot, value: Number(v) }, d, 0, maxWorkers)
  }
  return readInt(c, slot, d, 0, maxWorkers)
}

export function readShutdown(c: Checker, slot: Slot | undefined): ShutdownConfig {
  const d = defaultConfig.shutdown
  const f = section(c, slot, shutdownKeys)
  return {
    grace: readDuration(c, f?.get('grace'), d.grace, 0),
    timeout: readDuration(c, f?.get('timeout'), d.timeout, 0),
  }
}
