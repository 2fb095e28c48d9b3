/**
 * pino factories: the application log and the access log. Secrets go through pino `redact`; debug payloads
 * are built only when debug is on.
 * Secrets go through pino `redact`; nothing else in lb formats log output.
 */
import { pino, type Logger, type DestinationStream } from 'pino'
import type { Config } from '../config/types.js'
import {
  compileAccessFormat,
  formatAccess,
  type AccessFormat,
  type AccessRecord,
} from '../fabio/access-log.js'

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

function destination(dest: string, minLength = 0, periodicFlush = 0): DestinationStream {
  const batch = { minLength, periodicFlush }
  if (dest === 'stdout') return pino.destination({ dest: 1, sync: false, ...batch })
  if (dest === 'stderr') return pino.destination({ dest: 2, sync: false, ...batch })
  return pino.destination({ dest, sync: false, mkdir: true, ...batch })
}

/**
 * The access log collects lines up to this many bytes (below sonic-boom's 16 KiB write size) before a write: a
 * write per line cost a system call per request. `ACCESS_FLUSH_MS` bounds how long a line waits on a quiet
 * proxy.
 */
const ACCESS_BATCH = 8 * 1024
const ACCESS_FLUSH_MS = 500

/**
 * Where an access logger made by `createAccessLogger` takes lines already formatted as JSON (the default `json`
 * format without filters): the HTTP request path formats its line straight from its fields, with no object and
 * no pass through pino's serializer (src/proxy/exchange.ts). null for any other logger.
 */
export interface AccessLines {
  writeLine(line: string): void
}

const kLines = Symbol('lb.accessLines')

export function accessLines(logger: Logger): AccessLines | null {
  return (logger as unknown as { [kLines]?: AccessLines })[kLines] ?? null
}

let isoAt = -1
let isoText = ''

/** `new Date().toISOString()`, made once per millisecond. */
export function isoNow(): string {
  const now = Date.now()
  if (now !== isoAt) {
    isoAt = now
    isoText = new Date(now).toISOString()
  }
  return isoText
}

/** `s` as a JSON string: as it is between quotes when it needs no escape (the common case), else JSON.stringify. */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 32 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return '"' + s + '"'
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
  return `"time":"${isoNow()}"`
}

/** The fields of an access-log line that filters and the text format read (HTTP, tunnel and TCP lines). */
export interface AccessFields {
  readonly [key: string]: unknown
  readonly status?: number
  readonly ts?: string
  readonly retries?: number
  /** A retry went to another server (haproxy's `+` before the retries count). */
  readonly redispatched?: boolean
  readonly Ta?: number
  readonly Tt?: number
}

/**
 * The `log.access` filters as one predicate, or null when every line is written. A line passes when it matches
 * any filter that is set (status range, slower than `slowMs`, an error), then one in `sample` of those pass.
 */
export function accessFilter(a: Config['log']['access']): ((line: AccessFields) => boolean) | null {
  const ranges = a.status
  const slow = a.slowMs
  const errors = a.errors
  const sample = a.sample
  const filtered = ranges.length > 0 || slow > 0 || errors
  if (!filtered && sample <= 1) return null
  let seen = 0
  return (line) => {
    if (filtered && !matches(line)) return false
    if (sample <= 1) return true
    const take = seen === 0
    seen = seen + 1 === sample ? 0 : seen + 1
    return take
  }
  function matches(line: AccessFields): boolean {
    const status = line.status
    if (typeof status === 'number') {
      for (let i = 0; i < ranges.length; i++) {
        const r = ranges[i] as { lo: number; hi: number }
        if (status >= r.lo && status <= r.hi) return true
      }
    }
    if (slow > 0) {
      const t = typeof line.Ta === 'number' ? line.Ta : typeof line.Tt === 'number' ? line.Tt : 0
      if (t >= slow) return true
    }
    if (errors) {
      if (typeof status === 'number' && (status >= 500 || status === 0)) return true
      if (typeof line.retries === 'number' && line.retries > 0) return true
      const ts = line.ts
      if (ts !== undefined && ts !== '--' && ts !== 'LR') return true
    }
    return false
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** haproxy's accept date `06/Feb/2009:12:14:14.655`, in UTC. */
export function haproxyDate(d: Date): string {
  return (
    `${pad(d.getUTCDate(), 2)}/${MONTHS[d.getUTCMonth()] as string}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.` +
    pad(d.getUTCMilliseconds(), 3)
  )
}

function num(v: unknown): string {
  return typeof v === 'number' ? String(v) : '-1'
}

function word(v: unknown, none: string): string {
  return typeof v === 'string' && v !== '' ? v : none
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /["\\\x00-\x1f\x7f]/g

/** Request-line text, with '"', '\\' and control characters escaped haproxy-style as `#XX`. */
function quoted(v: unknown): string {
  const s = typeof v === 'string' ? v : '-'
  UNSAFE.lastIndex = 0
  return UNSAFE.test(s) ? s.replace(UNSAFE, (c) => `#${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : s
}

/**
 * One access line as haproxy text: `option httplog` for HTTP and tunnel lines, `option tcplog` for TCP ones
 * (docs/haproxy.md, log formats). Counters lb does not keep (TR, actconn/feconn/beconn/srv_conn, queue positions,
 * cookies, the client port of HTTP requests) are written as `-`; times are UTC.
 * The retries count has haproxy's `+` when a retry went to another server.
 *   HTTP: `ci:cp [date] fe service/server TR/Tw/Tc/Tr/Ta status bytes - - tsc -/-/-/-/retries -/- "method uri"`
 *   TCP:  `ci:cp [date] fe service/server Tw/Tc/Tt bytes ts -/-/-/-/retries -/-`
 */
export function formatHttplog(line: AccessFields, date: Date): string {
  const client = `${word(line.ci, '-')}:${typeof line.cp === 'number' ? line.cp : '-'}`
  const backend = `${word(line.service, '<NOSRV>')}/${word(line.server, '<NOSRV>')}`
  const ts = word(line.ts, '--')
  const retries = `${line.redispatched === true ? '+' : ''}${typeof line.retries === 'number' ? line.retries : 0}`
  const head = `${client} [${haproxyDate(date)}] ${word(line.fe, '-')} ${backend} `
  if (line.mode === 'tcp') {
    return `${head}${num(line.Tw)}/${num(line.Tc)}/${num(line.Tt)} ${num(line.bytes)} ${ts} -/-/-/-/${retries} -/-\n`
  }
  const timers = `-/${num(line.Tw ?? 0)}/${num(line.Tc)}/${num(line.Tr)}/${num(line.Ta)}`
  return (
    `${head}${timers} ${num(line.status)} ${num(line.bytes)} - - ${ts}-- -/-/-/-/${retries} -/- ` +
    `"${quoted(line.method)} ${quoted(line.uri)}"\n`
  )
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function int(v: unknown): number {
  return typeof v === 'number' ? v : 0
}

const NO_HEADERS: readonly string[] = []

/**
 * An HTTP access line (src/proxy/exchange.ts, with the detail fields it adds for templates) as the plain record
 * src/fabio/access-log.ts renders; `now` is the epoch ms the line is written at (the request's end).
 */
export function accessRecord(line: AccessFields, now: number): AccessRecord {
  const ta = int(line.Ta)
  return {
    remoteAddr: str(line.ra) === '' ? str(line.ci) : str(line.ra),
    remotePort: int(line.cp),
    method: str(line.method),
    uri: str(line.uri),
    proto: `HTTP/${str(line.hv) === '' ? '1.1' : str(line.hv)}`,
    host: str(line.host),
    scheme: str(line.sc) === '' ? 'http' : str(line.sc),
    status: int(line.status),
    bytes: int(line.bytes),
    headers: Array.isArray(line.rh) ? (line.rh as string[]) : NO_HEADERS,
    upstreamAddr: str(line.ua),
    upstreamScheme: str(line.us) === '' ? 'http' : str(line.us),
    upstreamUri: str(line.uu),
    service: str(line.service),
    endMs: now,
    endSubNs: 0,
    durationNs: ta < 0 ? 0 : ta * 1e6,
  }
}

/**
 * The access log: one JSON line per request (or an haproxy text line, `format: httplog`), through pino's
 * non-blocking destination; `silent` when disabled so call sites stay branch-free. Filters, sampling and the text
 * format run in pino's `logMethod` hook, installed only when configured: the default JSON log pays nothing extra.
 */
export function createAccessLogger(config: Config['log'], stream?: DestinationStream): Logger {
  const a = config.access
  // Disabled: nothing is ever written, so no batch and no flush timer (a wake-up every ACCESS_FLUSH_MS in an
  // idle process, and in each worker process).
  const out = stream ?? (a.enabled ? batchedDestination(a.destination) : destination(a.destination))
  const filter = accessFilter(a)
  const text = a.format === 'httplog'
  const compiled = text || a.format === 'json' ? null : compileAccessFormat(a.format)
  const template: AccessFormat | null = compiled === null || typeof compiled === 'string' ? null : compiled
  const hooks =
    filter === null && !text && template === null
      ? {}
      : {
          hooks: {
            logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info']): void {
              const line = args[0] as AccessFields
              if (filter !== null && !filter(line)) return
              if (text) out.write(formatHttplog(line, new Date()))
              else if (template !== null) {
                // fabio's text formats describe HTTP requests; TCP sessions get no line (fabio logs none).
                if (line.mode === 'tcp') return
                const s = formatAccess(template, accessRecord(line, Date.now()))
                if (s !== '') out.write(s)
              } else method.apply(this, args)
            },
          },
        }
  const logger = pino(
    {
      level: a.enabled ? 'info' : 'silent',
      base: null,
      // No level field on access lines; pino's own time functions start with ',' which would then lead.
      timestamp: accessTime,
      formatters: { level: () => ({}) },
      ...hooks,
    },
    out,
  )
  if (a.enabled && a.format === 'json' && filter === null) {
    const lines: AccessLines = { writeLine: (line) => void out.write(line) }
    ;(logger as unknown as { [kLines]: AccessLines })[kLines] = lines
  }
  return logger
}

/** The access log's destination: lines batched up to ACCESS_BATCH bytes, flushed at least every ACCESS_FLUSH_MS. */
function batchedDestination(dest: string): DestinationStream {
  return destination(dest, ACCESS_BATCH, ACCESS_FLUSH_MS)
}
