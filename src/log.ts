/**
 * pino factories: the application log and the access log (STYLE §10).
 * Secrets go through pino `redact`; nothing else in lb formats log output.
 */
import { pino, type Logger, type DestinationStream } from 'pino'
import type { Config } from './config/schema.js'

export type { Logger }

/** Paths that must never reach a log line, whatever object is logged. */
export const redactPaths: readonly string[] = [
  'token',
  '*.token',
  '*.*.token',
  'config.admin.token',
  'headers.authorization',
  'req.headers.authorization',
  '*.headers["x-consul-token"]',
  'consulToken',
]

function destination(dest: string): DestinationStream {
  if (dest === 'stdout') return pino.destination({ dest: 1, sync: false })
  if (dest === 'stderr') return pino.destination({ dest: 2, sync: false })
  return pino.destination({ dest, sync: false, mkdir: true })
}

export function createLogger(config: Config['log'], stream?: DestinationStream): Logger {
  return pino(
    {
      level: config.level,
      base: { pid: process.pid },
      redact: { paths: [...redactPaths], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream ?? destination(config.destination),
  )
}

function accessTime(): string {
  return `"time":"${new Date().toISOString()}"`
}

/** The access log: one JSON line per request; `silent` when disabled so call sites stay branch-free. */
export function createAccessLogger(config: Config['log'], stream?: DestinationStream): Logger {
  return pino(
    {
      level: config.access.enabled ? 'info' : 'silent',
      base: null,
      // No level field on access lines; pino's own time functions start with ',' which would then lead.
      timestamp: accessTime,
      formatters: { level: () => ({}) },
    },
    stream ?? destination(config.access.destination),
  )
}
