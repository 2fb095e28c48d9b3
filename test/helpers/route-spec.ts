/** Route specs for table-level tests, from fabio-like shorthand. */
import type { HttpRouteSpec } from '../../src/model/snapshot.js'

/** `spec('web', 'example.com', '/api', { strip: '/api' })`: a route of `service`, source `test:<service>`. */
export function spec(
  service: string,
  host: string,
  path: string,
  opts: Partial<HttpRouteSpec> = {},
): HttpRouteSpec {
  return {
    host,
    path,
    service,
    strip: '',
    prepend: '',
    hostHeader: '',
    redirect: null,
    source: `test:${service}`,
    ...opts,
  }
}
