/** Which processes hold a listening TCP socket on a port, from /proc (Linux). */
import { readFile, readdir, readlink } from 'node:fs/promises'

/** Inodes of the sockets listening on `port` (IPv4 and IPv6). */
async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>()
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '')
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/)
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is the tenth field.
      if (f[1]?.endsWith(`:${hexPort}`) === true && f[3] === '0A' && f[9] !== undefined) inodes.add(f[9])
    }
  }
  return inodes
}

/** For each of `pids`, how many sockets listening on `port` it holds open. */
export async function listenersOn(port: number, pids: readonly number[]): Promise<Map<number, number>> {
  const inodes = await listeningInodes(port)
  const out = new Map<number, number>()
  for (const pid of pids) {
    let n = 0
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
      const m = /^socket:\[(\d+)\]$/.exec(target)
      if (m?.[1] !== undefined && inodes.has(m[1])) n++
    }
    out.set(pid, n)
  }
  return out
}
