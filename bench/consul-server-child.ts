/**
 * The Consul test server in its own process for bench/consul-propagation.ts, so lb's RSS and event loop are
 * measured without the server's. Messages: { services, instances } → registers `svc-<i>` × instances and
 * answers { port }; { register: {...} } / { deregister: id } apply changes.
 */
import { ConsulTestServer, type TestInstance } from '../test/helpers/consul-server.js'

type Message =
  | { readonly setup: { readonly services: number; readonly instances: number } }
  | { readonly register: TestInstance }
  | { readonly deregister: string }

const server = await ConsulTestServer.start()
process.on('message', (m: Message) => {
  if ('setup' in m) {
    for (let s = 0; s < m.setup.services; s++) {
      for (let i = 0; i < m.setup.instances; i++) {
        server.register({
          id: `svc-${s}-${i}`,
          service: `svc-${s}`,
          node: `node-${i}`,
          address: `10.${i}.${(s >> 8) & 255}.${s & 255}`,
          port: 8000 + i,
          tags: [`urlprefix-svc-${s}.example.com/`, `urlprefix-/svc-${s}`, 'version-1'],
        })
      }
    }
    process.send?.({ port: server.port })
  } else if ('register' in m) {
    server.register(m.register)
    process.send?.({ ok: true })
  } else if ('deregister' in m) {
    server.deregister(m.deregister)
    process.send?.({ ok: true })
  }
})
process.on('disconnect', () => void server.close().then(() => process.exit(0)))
