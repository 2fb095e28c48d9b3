/**
 * `npm start`: start the two demo upstreams of config/lb.yaml, then lb itself in this process, on that config
 * unless the command line names another (`npm start -- --config FILE`). Everything listens on 127.0.0.1.
 * `LB_DEMO_PORTS=9001,9002` (the default) sets the upstreams' ports.
 *
 * `npm start` execs this process, so a SIGTERM or Ctrl-C reaches lb itself: it drains and exits, and the
 * upstreams with it.
 *
 * Try: curl http://127.0.0.1:9999/   (and again: the answer alternates between upstream a and b)
 */
import { startDemoUpstream } from './upstreams.js'

const [portA = 9001, portB = 9002] = (process.env.LB_DEMO_PORTS ?? '9001,9002').split(',').map(Number)
const args = process.argv.slice(2)
if (!args.some((a) => a === '-c' || a === '--config' || a.startsWith('--config=')))
  process.argv.push('--config', 'config/lb.yaml')
await Promise.all([startDemoUpstream('a', portA), startDemoUpstream('b', portB)])
await import('../../src/main.js')
