#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 node --max-semi-space-size=8
/**
 * The `lb` executable: refuse an unsupported Node.js in one line before loading anything that needs a newer
 * one (src/cli/node-version.ts), then run the CLI (src/cli/cli.ts). Cluster workers start here too.
 */
import { unsupportedNode } from './cli/node-version.js'

const problem = unsupportedNode(process.versions.node)
if (problem !== null) {
  process.stderr.write(problem + '\n')
  process.exit(1)
}
await import('./cli/cli.js')
