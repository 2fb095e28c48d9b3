/**
 * Which Node.js lb runs on: 24 LTS (the one to install) or 22 from 22.12 (the first 22 with `reusePort`, which
 * keeps the cluster primary off the accept path: src/net/listen.ts). Plain code with no imports, so that
 * src/main.ts can load it on any Node that runs ES modules and say so in one line instead of failing later.
 */

/** The supported versions, as the one line lb prints on any other. */
export const supportedNodes = 'Node.js 24 LTS, or 22 from 22.12'

/** `major.minor.patch` (process.versions.node) is at least `major.minor`. */
export function nodeAtLeast(version: string, major: number, minor: number): boolean {
  const parts = version.split('.')
  const ma = Number(parts[0])
  const mi = Number(parts[1])
  if (!Number.isInteger(ma) || !Number.isInteger(mi)) return false
  return ma > major || (ma === major && mi >= minor)
}

/** null when lb runs on `version`, else the one-line reason it will not. */
export function unsupportedNode(version: string): string | null {
  if (nodeAtLeast(version, 22, 12)) return null
  return `lb: Node.js ${version} is not supported; run lb on ${supportedNodes}`
}
