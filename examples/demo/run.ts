/**
 * `npm start`: start the two demo upstreams of config/lb.yaml, then lb itself in this process.
 * Try: curl http://127.0.0.1:9999/   (and again: the answer alternates between upstream a and b)
 */
import { startDemoUpstream } from './upstreams.js'

await Promise.all([startDemoUpstream('a', 9001), startDemoUpstream('b', 9002)])
await import('../../src/main.js')
