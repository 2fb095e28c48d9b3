/**
 * node:http, taken with `process.getBuiltinModule` rather than imported. Importing node:http from an ES module
 * makes Node build its ES-module facade, which reads every export, and some of them are getters that load
 * Node's bundled undici (for `fetch` and `WebSocket`): on Node 24 that is 13 MB more RSS in a bare process
 * (44.3 → 57.7 MB) and 50–110 ms of CPU at the start of lb's primary and of each cluster worker (CPU profiles
 * of `node dist/bench/consul-scale.js --workers 2 --cpu-prof`). lb's HTTP engine does not use node:http; the
 * admin server and the `lb` control commands do. Types still come from `import type`.
 */
import type * as NodeHttp from 'node:http'

export const nodeHttp: typeof NodeHttp = process.getBuiltinModule('node:http')
