/** `resolver:`: the DNS cache for hostname servers. */
import { formatDuration } from '../duration.js'
import type { ResolverConfig } from '../types.js'
import { defaultConfig } from '../defaults.js'
import { type Checker, type Slot, section, readInt, readDuration } from '../reader.js'

export const resolverKeys = ['max_ttl', 'min_ttl', 'retry', 'cache_size'] as const

export function readResolver(c: Checker, slot: Slot | undefined): ResolverConfig {
  const d = defaultConfig.resolver
  const f = section(c, slot, resolverKeys)
  const r: ResolverConfig = {
    maxTtl: readDuration(c, f?.get('max_ttl'), d.maxTtl, 0),
    minTtl: readDuration(c, f?.get('min_ttl'), d.minTtl, 0),
    retry: readDuration(c, f?.get('retry'), d.retry, 1),
    cacheSize: readInt(c, f?.get('cache_size'), d.cacheSize, 1, 1_000_000),
  }
  if (r.minTtl > r.maxTtl) {
    const minSlot = f?.get('min_ttl')
    if (minSlot !== undefined) c.add(minSlot.path, `must not exceed max_ttl (${formatDuration(r.maxTtl)})`)
    else
      c.add(f?.get('max_ttl')?.path ?? 'resolver', `must be at least min_ttl (${formatDuration(r.minTtl)})`)
  }
  return r
}
