/**
 * Redirect routes (fabio `redirect=<code>` with the target URL as dst): the `Location` of one request, and
 * fabio's redirect-loop guard. Pure: no I/O; called once per redirected request.
 *
 * The target URL is a template (fabio `Target.BuildRedirectURL`):
 * - `$path` is replaced by the request path (its normal form, see normalize.ts) with the route's `strip` prefix
 *   removed and its `prepend` prefix added; a `/` written right before `$path` is dropped, because the request
 *   path brings its own (`http://bar.com/$path` and `http://bar.com$path` both give `http://bar.com/abc`);
 * - with `$path`, the request's query is appended when the target has none; without `$path` the target is used
 *   as written (`http://bar.com/` for every request);
 * - `$host` is replaced by the request's Host header (with its port, if any);
 * - an empty path becomes `/`.
 */
import type { Redirect } from '../model/snapshot.js'
import { normalizePath } from './normalize.js'

/** The route fields a redirect reads (a table Route has them). */
export interface RedirectRoute {
  readonly redirect: Redirect | null
  readonly strip: string
  readonly prepend: string
}

/** The parts of a `Location`: `scheme://authority` (or '' for a relative target), path and query. */
interface Parts {
  origin: string
  path: string
  query: string
}

const parts: Parts = { origin: '', path: '', query: '' }

/** Fills `parts` for `route` and the request (`url` = request target, `host` = its Host header). */
function build(route: RedirectRoute, url: string, host: string): void {
  const target = (route.redirect as Redirect).url
  const q = target.indexOf('?')
  const base = q < 0 ? target : target.slice(0, q)
  let query = q < 0 ? '' : target.slice(q + 1)
  const scheme = base.indexOf('://')
  let pathAt = scheme < 0 ? 0 : base.indexOf('/', scheme + 3)
  if (pathAt < 0) pathAt = base.length
  let origin = base.slice(0, pathAt)
  let path = base.slice(pathAt)
  if (origin.endsWith('$path')) {
    origin = origin.slice(0, -'$path'.length)
    path = '$path'
  }
  path = path.replace('/$path', '$path')
  if (path.includes('$path')) {
    const rq = url.indexOf('?')
    let reqPath = normalizePath(rq < 0 ? url : url.slice(0, rq))
    if (route.strip !== '' && reqPath.startsWith(route.strip)) reqPath = reqPath.slice(route.strip.length)
    if (route.prepend !== '') reqPath = route.prepend + reqPath
    path = path.replace('$path', reqPath)
    if (query === '' && rq >= 0 && rq < url.length - 1) query = url.slice(rq + 1)
  }
  if (path === '') path = '/'
  if (origin.includes('$host')) origin = origin.replace('$host', host)
  parts.origin = origin
  parts.path = path
  parts.query = query
}

/** The `Location` of a redirect route for a request (`url` = request target, `host` = Host header or ''). */
export function redirectLocation(route: RedirectRoute, url: string, host: string): string {
  build(route, url, host)
  return parts.query === '' ? parts.origin + parts.path : `${parts.origin}${parts.path}?${parts.query}`
}

/**
 * fabio's redirect-loop guard: true when the redirect would send the client to the URL it asked for, i.e. the
 * target's scheme is `forwardedProto` (the X-Forwarded-Proto a trusted proxy sent) and its host and path are the
 * request's. The lookup then skips the route (a `*:80/ → https://$host$path` route behind a TLS-terminating
 * proxy answers plain HTTP with the redirect and passes the already-HTTPS requests on).
 */
export function redirectLoops(
  route: RedirectRoute,
  url: string,
  host: string,
  forwardedProto: string,
): boolean {
  if (route.redirect === null || forwardedProto === '') return false
  build(route, url, host)
  const o = parts.origin
  const sep = o.indexOf('://')
  if (sep < 0 || o.slice(0, sep).toLowerCase() !== forwardedProto.toLowerCase()) return false
  if (o.slice(sep + 3).toLowerCase() !== host.toLowerCase()) return false
  const rq = url.indexOf('?')
  return parts.path === normalizePath(rq < 0 ? url : url.slice(0, rq))
}
