/**
 * The Consul test server in its own process for the Consul benches, so lb's RSS and event loop are measured
 * without the server's. Messages: { setup: { services, instances, nodes?, loopback? } } → registers `svc-<i>` ×
 * instances and answers { port } (instance i of service s on node `node-<i>`, or with `nodes`, on node
 * `node-<(3s + i) mod nodes>`; with `loopback`, at 127.<i+1>.<s / 256>.<s mod 256>:1, an address on the loopback
 * interface where nothing listens, so a request routed to it is refused at once instead of hanging);
 * { register: {...} } / { deregister: id } / { check: { id, status } } apply changes and answer { ok }.
 */
import { ConsulTestServer, type TestCheck, type TestInstance } from '../test/helpers/consul-server.js'

interface Setup {
  readonly services: number
  readonly instances: number
  readonly nodes?: number
  readonly loopback?: boolean
}

type Message =
  | { readonly setup: Setup }
  | { readonly register: TestInstance }
  | { readonly deregister: string }
  | { readonly check: { readonly id: string; readonly status: TestCheck['Status'] } }

const server = await ConsulTestServer.start()
process.on('message', (m: Message) => {
  if ('setup' in m) {
    const { services, instances, nodes = 0, loopback = false } = m.setup
    for (let s = 0; s < services; s++) {
      for (let i = 0; i < instances; i++) {
        const node = nodes > 0 ? (3 * s + i) % nodes : i
        server.register({
          id: `svc-${s}-${i}`,
          service: `svc-${s}`,
          node: `node-${node}`,
          nodeAddress: loopback ? `127.0.${node >> 8}.${node & 255}` : '127.0.0.1',
          address: loopback
            ? `127.${i + 1}.${(s >> 8) & 255}.${s & 255}`
            : `10.${i}.${(s >> 8) & 255}.${s & 255}`,
          port: loopback ? 1 : 8000 + i,
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
  } else if ('check' in m) {
    server.setCheck(m.check.id, m.check.status)
    process.send?.({ ok: true })
  }
})
process.on('disconnect', () => void server.close().then(() => process.exit(0)))
