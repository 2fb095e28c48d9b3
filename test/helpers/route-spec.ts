/** Route and service specs for table-level and provider tests, from fabio-like shorthand. */
import type { HttpRouteSpec, ServiceSpec } from '../../src/model/snapshot.js'
import { serviceSpec } from '../../src/fabio/snapshot.js'
import { defaultConfig } from '../../src/config/defaults.js'

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

/** A service spec of `name` with one server per name in `servers`, each at 10.0.0.1:80, the config's defaults. */
export function serviceOf(name: string, servers: readonly string[] = ['n1']): ServiceSpec {
  return serviceSpec(
    name,
    defaultConfig.defaults,
    'http',
    false,
    servers.map((s) => ({
      name: s,
      host: '10.0.0.1',
      port: 80,
      weight: 1,
      backup: false,
      maxconn: 0,
      state: 'up',
    })),
  )
}
