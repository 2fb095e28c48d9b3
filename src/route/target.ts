/**
 * Per-target request rewriting (fabio keeps `strip=`, `prepend=`, `host=` per target, and a target URL may carry
 * a query). Pure: the data plane calls these once it picked a server whose `ServerSpec.target` is set; servers
 * without it use their route's options (src/proxy/request-path.ts `upstreamPath`).
 */
import { normalizePath } from './normalize.js'

/**
 * The upstream request target for `url` (the client's): strip `strip` when the path starts with it (keeping a
 * leading '/'), then prepend `prepend`, then join `query` (the target URL's own query) before the client's,
 * as fabio does (`/q?y=2` to a target `http://h/base?x=1` → `/q?x=1&y=2`). A rewrite starts from the path's
 * normal form (normalize.ts), as route-level rewrites do; without a rewrite the path is sent as the client
 * wrote it.
 */
export function targetPath(url: string, strip: string, prepend: string, query: string): string {
  const q = url.indexOf('?')
  let path = q < 0 ? url : url.slice(0, q)
  const clientQuery = q < 0 ? '' : url.slice(q + 1)
  if (strip !== '' || prepend !== '') path = normalizePath(path)
  if (strip !== '' && path.startsWith(strip)) {
    path = path.slice(strip.length)
    if (path.charCodeAt(0) !== 47 /* / */) path = '/' + path
  }
  if (prepend !== '') path = (prepend.endsWith('/') ? prepend.slice(0, -1) : prepend) + path
  const joined = query === '' ? clientQuery : clientQuery === '' ? query : `${query}&${clientQuery}`
  return joined === '' && q < 0 ? path : `${path}?${joined}`
}

/**
 * The Host to send for a target's `host=` option: '' keeps the client's (or, for an absolute-form request, its
 * authority), 'dst' is left to the caller (the server's host:port, known after the pick: '' here), else the name.
 */
export function targetHostHeader(hostHeader: string, authority: string): string {
  return hostHeader === 'dst' ? '' : hostHeader === '' ? authority : hostHeader
}
