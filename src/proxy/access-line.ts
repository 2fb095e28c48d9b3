/**
 * An HTTP exchange's access-log line and metrics, written when the request ends (exchange.ts `finish`). The JSON
 * access log takes a line made here straight from the exchange's fields (`jsonLine`); other formats get the
 * line as an object for pino and the log formatters (src/log/log.ts).
 */
import { isoNow, jsonString } from '../log/log.js'
import type { RequestHead } from '../net/h1/parse.js'
import type { Exchange } from './exchange.js'

/**
 * The JSON access line, made straight from the exchange's fields: the same line pino writes from `logExchange`'s
 * object (same fields and order, undefined ones left out), without the object and the generic serializer.
 */
export function jsonLine(x: Exchange, head: RequestHead, Tc: number, Tr: number, Ta: number): string {
  const route = x.route
  const up = x.upstream
  let s =
    '{"time":"' +
    isoNow() +
    '","ci":' +
    jsonString(x.clientIp) +
    ',"cp":' +
    x.conn.remotePort +
    x.jsonFe +
    jsonString(x.method)
  if (head.host !== undefined) s += ',"host":' + jsonString(head.host)
  s += ',"uri":' + jsonString(head.target)
  // HTTP/2 requests say so (`hv`); HTTP/1.x lines stay as they were.
  if (head.h2) s += ',"hv":"2.0"'
  s +=
    ',"status":' +
    x.status +
    ',"bytes":' +
    x.bytesOut +
    (route === null
      ? ',"route":null,"service":null'
      : ',"route":' + jsonString(route.host + route.path) + ',"service":' + jsonString(route.service)) +
    ',"server":' +
    (up === null ? 'null' : jsonString(up.name)) +
    ',"retries":' +
    (x.attempts > 0 ? x.attempts - 1 : 0)
  if (x.redispatched) s += ',"redispatched":true'
  s +=
    ',"Tw":' +
    Math.round(x.tWait) +
    ',"Tc":' +
    Tc +
    ',"Tr":' +
    Tr +
    ',"Ta":' +
    Ta +
    ',"ts":' +
    jsonString(x.termination)
  if (x.reason !== '') s += ',"reason":' + jsonString(x.reason)
  if (x.requestId !== '') s += ',"rid":' + jsonString(x.requestId)
  return s + '}\n'
}

/** The access-log line (haproxy timing fields; -1 = phase not reached) and the request's metrics. */
export function logExchange(x: Exchange): void {
  const ctx = x.ctx
  const now = ctx.now()
  const route = x.route
  const up = x.upstream
  const Tc = x.tConnect >= 0 && x.tDispatch >= 0 ? Math.round(x.tConnect - x.tDispatch) : -1
  const Tr = x.tHeaders >= 0 && x.tConnect >= 0 ? Math.round(x.tHeaders - x.tConnect) : -1
  const head = x.head as RequestHead
  ctx.metrics.observeHttp(x, now)
  const lines = ctx.accessLines
  if (lines !== null) {
    lines.writeLine(jsonLine(x, head, Tc, Tr, Math.round(now - x.tStart)))
    return
  }
  // The line's object is made only when the access log writes something at all.
  if (!ctx.accessLog.isLevelEnabled('info')) return
  const line: Record<string, unknown> = {
    ci: x.clientIp,
    cp: x.conn.remotePort,
    fe: x.listener.name,
    method: x.method,
    host: head.host,
    uri: head.target,
    hv: head.h2 ? '2.0' : undefined,
    status: x.status,
    bytes: x.bytesOut,
    route: route === null ? null : route.host + route.path,
    service: route === null ? null : route.service,
    server: up === null ? null : up.name,
    retries: x.attempts > 0 ? x.attempts - 1 : 0,
    redispatched: x.redispatched ? true : undefined,
    Tw: Math.round(x.tWait),
    Tc,
    Tr,
    Ta: Math.round(now - x.tStart),
    ts: x.termination,
    reason: x.reason === '' ? undefined : x.reason,
    rid: x.requestId === '' ? undefined : x.requestId,
  }
  if (ctx.accessDetail) {
    // The fields a `$field` template reads beyond the JSON line (src/log/log.ts `accessRecord`).
    line.ra = x.conn.socket.remoteAddress ?? ''
    line.hv = head.h2 ? '2.0' : head.minor === 0 ? '1.0' : '1.1'
    line.rh = head.headers
    line.sc = x.listener.proto
    line.ua = up === null ? '' : up.hostPort
    line.us = x.service?.spec.proto ?? 'http'
    line.uu = x.sentPath
  }
  ctx.accessLog.info(line)
}

/** The parts of a JSON access line that do not change between requests of a listener. */
export function jsonPrefix(name: string): string {
  return ',"fe":' + jsonString(name) + ',"method":'
}
