/**
 * For the tests of a worker's packed whole states (src/process/worker-process.ts `StateReceiver.packed`): a whole
 * state of stub services, and a receiver whose Worker is a stub that only reports being handed a state.
 */
import { pino } from 'pino'
import { StateReceiver } from '../../src/process/worker-process.js'
import type { FromWorker, WholeState } from '../../src/process/ipc.js'
import type { Worker } from '../../src/process/worker.js'
import type { ServiceSpec } from '../../src/model/snapshot.js'
import { baseConfig } from './lb.js'

/**
 * A whole state (version 2) whose services are `services`, each with no servers, which the stub Worker never reads
 * (unpacking reads the servers' list: src/process/ipc.ts `shareStrings`).
 */
export function stubState(services: readonly object[]): WholeState {
  const specs = services.map((s) => ({ servers: [], ...s })) as unknown as ServiceSpec[]
  return {
    type: 'lb:apply',
    version: 2,
    config: baseConfig(),
    snapshot: { services: specs, routes: [], tcpRoutes: [] },
    servers: { seq: 0, servers: [] },
  }
}

/**
 * A StateReceiver whose Worker calls `onApply` with what it is handed, its memory release reading `memoryReads`;
 * `sent` collects what the receiver sent.
 */
export function stubReceiver(
  onApply: (...args: Parameters<Worker['apply']>) => void = () => {},
  memoryReads: ConstructorParameters<typeof StateReceiver>[3] = {},
): { rx: StateReceiver; sent: FromWorker[] } {
  const sent: FromWorker[] = []
  const silent = pino({ level: 'silent' })
  const worker = {
    apply: (...args: Parameters<Worker['apply']>): Promise<void> => {
      onApply(...args)
      return Promise.resolve()
    },
    syncListeners: (): Promise<void> => Promise.resolve(),
  } as unknown as Worker
  return {
    rx: new StateReceiver(
      (m) => sent.push(m),
      () => ({ worker, log: silent }),
      () => {},
      memoryReads,
    ),
    sent,
  }
}
