/** `log:`: the process log and the access log (destination, format, filters, sampling). */
import type { Parsed } from '../../net/address.js'
import { compileAccessFormat } from '../../fabio/access-log.js'
import type { LogConfig } from '../types.js'
import { accessLogFormats, defaultConfig, logLevels } from '../defaults.js'
import {
  type Checker,
  absolutePathRe,
  ok,
  fail,
  type Slot,
  section,
  readChecked,
  readInt,
  readBool,
  readEnum,
  readDuration,
  didYouMean,
} from '../reader.js'
import { readExpectStatus } from './services.js'

export const logKeys = ['level', 'destination', 'access'] as const

export const accessKeys = ['enabled', 'destination', 'format', 'sample', 'status', 'slow', 'errors'] as const

export function readLog(c: Checker, slot: Slot | undefined): LogConfig {
  const d = defaultConfig.log
  const f = section(c, slot, logKeys)
  const a = section(c, f?.get('access'), accessKeys)
  return {
    level: readEnum(c, f?.get('level'), d.level, logLevels),
    destination: readChecked(c, f?.get('destination'), d.destination, checkLogDestination) ?? d.destination,
    access: {
      enabled: readBool(c, a?.get('enabled'), d.access.enabled),
      destination:
        readChecked(c, a?.get('destination'), d.access.destination, checkLogDestination) ??
        d.access.destination,
      format:
        readChecked(c, a?.get('format'), d.access.format, (s) => {
          if (accessLogFormats.includes(s)) return ok(s)
          if (!s.includes('$'))
            return fail(
              `must be json, httplog, common, combined or a $field template; got "${s}"${didYouMean(s, accessLogFormats)}`,
            )
          const f = compileAccessFormat(s)
          return typeof f === 'string' ? fail(f) : ok(s)
        }) ?? d.access.format,
      sample: readInt(c, a?.get('sample'), d.access.sample, 1, 1_000_000),
      status: readExpectStatus(c, a?.get('status'), d.access.status),
      slowMs: readDuration(c, a?.get('slow'), d.access.slowMs, 0),
      errors: readBool(c, a?.get('errors'), d.access.errors),
    },
  }
}

function checkLogDestination(s: string): Parsed<string> {
  if (s === 'stderr' || s === 'stdout' || absolutePathRe.test(s)) return ok(s)
  return fail(
    `must be stderr, stdout or an absolute file path, got "${s}"${didYouMean(s, ['stderr', 'stdout'])}`,
  )
}
