#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 node --max-semi-space-size=8
/**
 * The `lb` executable: refuse an unsupported Node.js in one line before loading anything that needs a newer
 * one (src/cli/node-version.ts), then run the CLI (src/cli/cli.ts). Cluster workers start here too, and load
 * only what a worker runs (src/process/worker-process.ts): the primary's modules (discovery, checks, the admin
 * API, the config loader) cost each worker 90 ms of CPU and 6.5 MB of RSS at its start, while the primary's
 * Consul sync was waiting for the CPU.
 */
import cluster from 'node:cluster'
import { unsupportedNode } from './cli/node-version.js'

const problem = unsupportedNode(process.versions.node)
if (problem !== null) {
  process.stderr.write(problem + '\n')
  process.exit(1)
}
if (cluster.isWorker) (await import('./process/worker-process.js')).runWorkerProcess()
else await import('./cli/cli.js')
