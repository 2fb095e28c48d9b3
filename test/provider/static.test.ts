/** The static (config file) provider passes the provider contract. */
import { runProviderCases } from './provider.cases.js'
import { StaticProvider } from '../../src/provider/provider.js'
import { configToSnapshot } from '../../src/provider/file.js'
import type { MutableConfig } from '../../src/config/types.js'
import { defaultConfig } from '../../src/config/defaults.js'

function config(path: string): MutableConfig {
  const c = structuredClone(defaultConfig) as MutableConfig
  c.routeCommands = `route add web ${path} http://127.0.0.1:8080/`
  return c
}

runProviderCases('static', async () => {
  const p = new StaticProvider('file', configToSnapshot(config('/')))
  return {
    provider: p,
    change: (path) => p.set(configToSnapshot(config(path))),
    touch: () => p.set(configToSnapshot(config('/'))),
    close: async () => {},
  }
})
