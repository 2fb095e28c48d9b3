/**
 * Every key the loader accepts appears in docs/configuration.md, as its dotted path in backquotes
 * (`listeners[].address`; a section through its keys). The health keys a service and `defaults` share are documented once, relative
 * (`check.inter`, `observe`).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { adminKeys } from '../../src/config/sections/admin.js'
import {
  backoffKeys,
  consulKeys,
  consulRegisterKeys,
  consulTlsKeys,
  rateLimitKeys,
} from '../../src/config/sections/consul.js'
import {
  authKeys,
  http2Keys,
  httpKeys,
  httpTimeoutKeys,
  noRouteKeys,
} from '../../src/config/sections/http.js'
import { listenerKeys, sniRouteKeys, tcpTimeoutKeys } from '../../src/config/sections/listeners.js'
import { tlsCertificateKeys, tlsClientAuthKeys, tlsKeys } from '../../src/config/sections/tls.js'
import { accessKeys, logKeys } from '../../src/config/sections/log.js'
import { shutdownKeys } from '../../src/config/sections/process.js'
import { resolverKeys } from '../../src/config/sections/resolver.js'
import { hstsKeys, redirectKeys, routeKeys } from '../../src/config/sections/routes.js'
import {
  checkHttpKeys,
  checkKeys,
  checkTlsKeys,
  defaultsKeys,
  healthKeys,
  serverKeys,
  serviceKeys,
  upstreamTimeoutKeys,
} from '../../src/config/sections/services.js'
import { metricsKeys, topKeys } from '../../src/config/validate.js'
import { repoRoot } from '../helpers/process.js'

const under = (prefix: string, keys: readonly string[]): string[] => keys.map((k) => prefix + k)

const shared = new Set<string>(healthKeys)
const paths = [
  ...topKeys,
  ...under('listeners[].', listenerKeys),
  ...under('listeners[].sni_routes[].', sniRouteKeys),
  ...under('listeners[].timeouts.', tcpTimeoutKeys),
  ...under('listeners[].tls.', tlsKeys),
  ...under('listeners[].tls.certificates[].', tlsCertificateKeys),
  ...under('listeners[].tls.client_auth.', tlsClientAuthKeys),
  ...under(
    'defaults.',
    defaultsKeys.filter((k) => !shared.has(k)),
  ),
  ...under('defaults.timeouts.', upstreamTimeoutKeys),
  ...under(
    'services[].',
    serviceKeys.filter((k) => !shared.has(k)),
  ),
  ...under('services[].servers[].', serverKeys),
  ...healthKeys,
  ...under('check.', checkKeys),
  ...under('check.http.', checkHttpKeys),
  ...under('check.tls.', checkTlsKeys),
  ...under('routes[].', routeKeys),
  ...under('routes[].redirect.', redirectKeys),
  ...under('routes[].hsts.', hstsKeys),
  ...under('http.', httpKeys),
  ...under('http.timeouts.', httpTimeoutKeys),
  ...under('http.http2.', http2Keys),
  ...under('http.auth[].', authKeys),
  ...under('http.no_route.', noRouteKeys),
  ...under('log.', logKeys),
  ...under('log.access.', accessKeys),
  ...under('metrics.', metricsKeys),
  ...under('admin.', adminKeys),
  ...under('resolver.', resolverKeys),
  ...under('shutdown.', shutdownKeys),
  ...under('consul.', consulKeys),
  ...under('consul.tls.', consulTlsKeys),
  ...under('consul.rate_limit.', rateLimitKeys),
  ...under('consul.backoff.', backoffKeys),
  ...under('consul.register.', consulRegisterKeys),
]

test('docs/configuration.md names every key the loader accepts', async () => {
  const doc = await readFile(join(repoRoot, 'docs/configuration.md'), 'utf8')
  // A section is documented through its keys (`log.level` documents `log`).
  const named = (p: string): boolean => ['`', ' ', '.', '[]'].some((after) => doc.includes('`' + p + after))
  const missing = paths.filter((p) => !named(p))
  assert.deepEqual(missing, [])
})
