/**
 * Two tiny HTTP upstreams for the shipped default config (config/lb.yaml), so `npm start` shows a
 * proxied response on a machine with nothing else running. Not used by the daemon itself.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export function startDemoUpstream(name: string, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    const body =
      JSON.stringify(
        {
          upstream: name,
          method: req.method,
          url: req.url,
          host: req.headers.host,
          'x-forwarded-for': req.headers['x-forwarded-for'],
          'x-forwarded-proto': req.headers['x-forwarded-proto'],
        },
        null,
        2,
      ) + '\n'
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      const a = server.address() as AddressInfo
      process.stderr.write(`demo upstream ${name} listening on ${a.address}:${a.port}\n`)
      resolve(server)
    })
  })
}
