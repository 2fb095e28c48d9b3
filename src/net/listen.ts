/**
 * Listen options for cluster workers. Node ≥ 22.12 / 23.1 on Linux can give every worker its own socket on the
 * same port (`reusePort`, the kernel spreads connections; the primary is not in the accept path). Older Node
 * (this repository's CI runs 20.x) uses cluster's shared handle instead.
 */
import cluster from 'node:cluster'

/** `server.listen({ reusePort })` exists from v22.12.0 and v23.1.0, and works only on Linux here. */
export function supportsReusePort(version: string, platform: string): boolean {
  if (platform !== 'linux') return false
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
}

const reusePort = cluster.isWorker && supportsReusePort(process.versions.node, process.platform)

/**
 * Extra `listen()` options for `port`. Port 0 keeps the shared handle: with reusePort every worker would bind
 * a different ephemeral port.
 */
export function listenExtras(port: number): { reusePort?: boolean; exclusive?: boolean } {
  return reusePort && port !== 0 ? { reusePort: true, exclusive: true } : {}
}
