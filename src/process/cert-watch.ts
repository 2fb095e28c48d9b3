/**
 * Certificates that change without a restart (`listeners[].tls.refresh`, fabio's `cs=…;refresh=`): the primary
 * looks at the certificate and key files and the `directory` of every TLS listener (stat: modification time,
 * size, inode, so an in-place write and an atomic rename both count) and, on a change, loads the config file
 * as a reload would (every pair is checked: it parses, the key matches) but takes only the listeners'
 * certificates from it (primary.ts `refreshCertificates`). A bad or half-written replacement keeps the
 * certificates serving and is logged with its file; the next change is looked at again.
 */
import { stat } from 'node:fs/promises'
import type { Config, ListenerConfig } from '../config/types.js'

/** The files and directories of the TLS listeners that refresh, and the shortest of their intervals (0 = none). */
export function watchedCertificates(config: Config): { paths: string[]; interval: number } {
  const paths: string[] = []
  let interval = 0
  for (const l of config.listeners) {
    const tls = l.tls
    if (tls === undefined || tls.refresh <= 0) continue
    interval = interval === 0 ? tls.refresh : Math.min(interval, tls.refresh)
    if (tls.directory !== '') paths.push(tls.directory)
    for (const c of tls.certificates) if (c.pem === undefined) paths.push(c.certFile, c.keyFile)
  }
  return { paths: [...new Set(paths)].sort(), interval }
}

/** One line per path (`path mtime size inode`, or `path missing`): it differs when any of them changed. */
export async function pathsSignature(paths: readonly string[]): Promise<string> {
  const lines = await Promise.all(
    paths.map(async (p) => {
      try {
        const s = await stat(p)
        return `${p} ${s.mtimeMs} ${s.size} ${s.ino}`
      } catch {
        return `${p} missing`
      }
    }),
  )
  return lines.join('\n')
}

/** `running` with the certificates `loaded` (a fresh load of the file) has for its TLS listeners of the same name. */
export function withCertificates(running: Config, loaded: Config): Config {
  const fresh = new Map<string, ListenerConfig>()
  for (const l of loaded.listeners) fresh.set(l.name, l as ListenerConfig)
  const listeners = running.listeners.map((l) => {
    const n = fresh.get(l.name)
    if (l.tls === undefined || n?.tls === undefined) return l
    return { ...l, tls: { ...l.tls, certificates: n.tls.certificates } }
  })
  return { ...running, listeners }
}
