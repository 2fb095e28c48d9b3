/**
 * Every error a user, a config file or the network can cause, with a stable code.
 * Code branches on `err.code`, never on the message.
 */

export type ErrorCode =
  | 'EDGE_CONFIG_INVALID'
  | 'EDGE_BAD_REQUEST'
  | 'EDGE_REQUEST_TIMEOUT'
  | 'EDGE_NO_ROUTE'
  | 'EDGE_NO_BACKEND'
  | 'EDGE_UPSTREAM_CONNECT'
  | 'EDGE_UPSTREAM_TIMEOUT'
  | 'EDGE_UPSTREAM_PROTOCOL'
  | 'EDGE_UPSTREAM_RESET'
  | 'EDGE_CLIENT_ABORT'
  | 'EDGE_RESOLVE_FAILED'
  | 'EDGE_ACCESS_DENIED'
  | 'EDGE_UNAUTHORIZED'
  | 'EDGE_CONSUL'

export interface ErrorInfo {
  /** HTTP status sent to the client when this error ends a request before response headers. */
  readonly status: number
  /** Value of the `reason` label on error metrics and the access log's `termination` field. */
  readonly label: string
}

/** One table maps each code to an HTTP status and a metric label. */
export const errorInfo = {
  EDGE_CONFIG_INVALID: { status: 500, label: 'config' },
  EDGE_BAD_REQUEST: { status: 400, label: 'bad_request' },
  EDGE_REQUEST_TIMEOUT: { status: 408, label: 'client_timeout' },
  EDGE_NO_ROUTE: { status: 404, label: 'no_route' },
  EDGE_NO_BACKEND: { status: 503, label: 'no_backend' },
  EDGE_UPSTREAM_CONNECT: { status: 502, label: 'connect' },
  EDGE_UPSTREAM_TIMEOUT: { status: 504, label: 'timeout' },
  EDGE_UPSTREAM_PROTOCOL: { status: 502, label: 'protocol' },
  EDGE_UPSTREAM_RESET: { status: 502, label: 'reset' },
  EDGE_CLIENT_ABORT: { status: 499, label: 'client_abort' },
  EDGE_RESOLVE_FAILED: { status: 502, label: 'resolve' },
  EDGE_ACCESS_DENIED: { status: 403, label: 'denied' },
  EDGE_UNAUTHORIZED: { status: 401, label: 'unauthorized' },
  EDGE_CONSUL: { status: 500, label: 'consul' },
} as const satisfies Record<ErrorCode, ErrorInfo>

export class EdgeError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'EdgeError'
    this.code = code
  }
  get status(): number {
    return errorInfo[this.code].status
  }
}

/** One problem found in a config file: the file, the dotted path inside it and what is wrong. */
export interface ConfigProblem {
  readonly file: string
  readonly path: string
  readonly message: string
}

export function formatProblem(p: ConfigProblem): string {
  return p.path === '' ? `${p.file}: ${p.message}` : `${p.file}: ${p.path}: ${p.message}`
}

export class ConfigError extends EdgeError {
  readonly problems: readonly ConfigProblem[]
  constructor(problems: readonly ConfigProblem[]) {
    const n = problems.length
    super(
      'EDGE_CONFIG_INVALID',
      `invalid configuration (${n} problem${n === 1 ? '' : 's'}):\n` + problems.map(formatProblem).join('\n'),
    )
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export class BadRequestError extends EdgeError {
  constructor(message: string) {
    super('EDGE_BAD_REQUEST', message)
    this.name = 'BadRequestError'
  }
}

export class RequestTimeoutError extends EdgeError {
  constructor() {
    super('EDGE_REQUEST_TIMEOUT', 'request headers not received in time')
    this.name = 'RequestTimeoutError'
  }
}

export class NoRouteError extends EdgeError {
  readonly host: string
  readonly path: string
  constructor(host: string, path: string) {
    super('EDGE_NO_ROUTE', `no route for host "${host}" path "${path}"`)
    this.name = 'NoRouteError'
    this.host = host
    this.path = path
  }
}

export class NoBackendError extends EdgeError {
  readonly service: string
  constructor(service: string) {
    super('EDGE_NO_BACKEND', `no server available for service "${service}"`)
    this.name = 'NoBackendError'
    this.service = service
  }
}

export class UpstreamConnectError extends EdgeError {
  readonly server: string
  constructor(server: string, cause: unknown) {
    super('EDGE_UPSTREAM_CONNECT', `cannot connect to ${server}: ${describeCause(cause)}`, { cause })
    this.name = 'UpstreamConnectError'
    this.server = server
  }
}

export class UpstreamTimeoutError extends EdgeError {
  readonly server: string
  readonly phase: 'connect' | 'headers' | 'body'
  constructor(server: string, phase: 'connect' | 'headers' | 'body', cause?: unknown) {
    super(
      'EDGE_UPSTREAM_TIMEOUT',
      `${server} timed out (${phase})`,
      cause === undefined ? undefined : { cause },
    )
    this.name = 'UpstreamTimeoutError'
    this.server = server
    this.phase = phase
  }
}

export class UpstreamProtocolError extends EdgeError {
  readonly server: string
  constructor(server: string, cause: unknown) {
    super('EDGE_UPSTREAM_PROTOCOL', `invalid response from ${server}: ${describeCause(cause)}`, { cause })
    this.name = 'UpstreamProtocolError'
    this.server = server
  }
}

export class UpstreamResetError extends EdgeError {
  readonly server: string
  constructor(server: string, cause: unknown) {
    super('EDGE_UPSTREAM_RESET', `connection to ${server} closed early: ${describeCause(cause)}`, { cause })
    this.name = 'UpstreamResetError'
    this.server = server
  }
}

export class ClientAbortError extends EdgeError {
  constructor() {
    super('EDGE_CLIENT_ABORT', 'client closed the connection')
    this.name = 'ClientAbortError'
  }
}

export class ResolveError extends EdgeError {
  readonly hostname: string
  constructor(hostname: string, cause: unknown) {
    super('EDGE_RESOLVE_FAILED', `cannot resolve ${hostname}: ${describeCause(cause)}`, { cause })
    this.name = 'ResolveError'
    this.hostname = hostname
  }
}

/** The route's allow/deny list refused the client address (fabio `allow=`/`deny=`). */
/** A route with `auth=<scheme>` and a request without valid credentials (401 with `challenge`). */
export class UnauthorizedError extends EdgeError {
  readonly scheme: string
  /** The `WWW-Authenticate` value ('' when the scheme is unknown). */
  readonly challenge: string
  constructor(scheme: string, challenge: string) {
    super('EDGE_UNAUTHORIZED', `authentication required (${scheme})`)
    this.name = 'UnauthorizedError'
    this.scheme = scheme
    this.challenge = challenge
  }
}

export class AccessDeniedError extends EdgeError {
  readonly client: string
  constructor(client: string) {
    super('EDGE_ACCESS_DENIED', `access denied for ${client}`)
    this.name = 'AccessDeniedError'
    this.client = client
  }
}

/** A Consul request failed (network error, non-2xx status, bad payload); `status` 0 = no HTTP answer. */
export class ConsulError extends EdgeError {
  readonly path: string
  readonly httpStatus: number
  constructor(path: string, httpStatus: number, message: string, options?: ErrorOptions) {
    super('EDGE_CONSUL', `consul ${path}: ${message}`, options)
    this.name = 'ConsulError'
    this.path = path
    this.httpStatus = httpStatus
  }
}

/**
 * A runtime control (`set server … state`, `set weight`) named an unknown server or a bad value. Not an
 * EdgeError: the admin API answers it itself (404 for NOT_FOUND, 400 for INVALID), it never ends a request.
 */
export class RuntimeError extends Error {
  readonly code: 'EDGE_RUNTIME_NOT_FOUND' | 'EDGE_RUNTIME_INVALID'
  constructor(code: RuntimeError['code'], message: string) {
    super(message)
    this.name = 'RuntimeError'
    this.code = code
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code
    return code !== undefined ? `${code} ${cause.message}` : cause.message
  }
  return String(cause)
}

/** An error as one line for logs and check results: its code first when the message does not name it. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return code !== undefined && !err.message.includes(code) ? `${code} ${err.message}` : err.message
  }
  return String(err)
}
