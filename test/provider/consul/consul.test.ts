/** The Consul provider passes the provider contract against the Consul test server. */
import { pino } from 'pino'
import { runProviderCases } from '../provider.cases.js'
import { ConsulProvider } from '../../../src/provider/consul/consul.js'
import { ConsulTestServer } from '../../helpers/consul-server.js'
import { consulConfig } from '../../helpers/consul-lb.js'
import { defaultConfig } from '../../../src/config/defaults.js'

runProviderCases('consul', async () => {
  const consul = await ConsulTestServer.start()
  consul.register({ id: 'w-1', service: 'w', port: 8080, tags: ['urlprefix-/'] })
  const provider = new ConsulProvider({
    config: consulConfig(consul.address),
    defaults: defaultConfig.defaults,
    log: pino({ level: 'silent' }),
  })
  return {
    provider,
    change: (path) => consul.register({ id: 'w-2', service: 'w', port: 8081, tags: [`urlprefix-${path}`] }),
    touch: () => {
      consul.touch('health:w')
      consul.touch('catalog')
    },
    close: () => consul.close(),
  }
})

runProviderCases('consul (watch: state)', async () => {
  const consul = await ConsulTestServer.start()
  consul.register({ id: 'w-1', service: 'w', port: 8080, tags: ['urlprefix-/'] })
  const provider = new ConsulProvider({
    config: consulConfig(consul.address, (c) => (c.watch = 'state')),
    defaults: defaultConfig.defaults,
    log: pino({ level: 'silent' }),
  })
  return {
    provider,
    change: (path) => consul.register({ id: 'w-2', service: 'w', port: 8081, tags: [`urlprefix-${path}`] }),
    touch: () => {
      consul.touch('checks')
      consul.touch('catalog')
    },
    close: () => consul.close(),
  }
})
