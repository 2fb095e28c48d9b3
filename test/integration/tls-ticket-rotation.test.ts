/**
 * Ticket key rotation (`tls.ticket_rotation`): at a period boundary the key changes, so a session from before it
 * no longer resumes (one full handshake) and the new session resumes again. The clock is node:test's mocked Date.
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { connect } from 'node:tls'
import { startLb } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, useTls } from '../helpers/certs.js'

function handshake(port: number, session?: Buffer): Promise<{ reused: boolean; session: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: '127.0.0.1',
      port,
      servername: 'site.test',
      rejectUnauthorized: false,
      maxVersion: 'TLSv1.2',
      ...(session === undefined ? {} : { session }),
    })
    s.once('secureConnect', () => {
      const got = s.getSession()
      const reused = s.isSessionReused()
      s.destroy()
      if (got === undefined) reject(new Error('no session'))
      else resolve({ reused, session: got })
    })
    s.once('error', reject)
  })
}

test('a rotation ends resumption of older sessions; new ones resume', async () => {
  mock.timers.enable({ apis: ['Date'], now: 10 * 60_000 + 1 })
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const lb = await startLb((c) => useTls(c, tlsConfig([cert], { ticket_rotation: '10m' })))
  try {
    const before = await handshake(lb.port)
    assert.equal((await handshake(lb.port, before.session)).reused, true)
    lb.worker.rotateTickets()
    assert.equal((await handshake(lb.port, before.session)).reused, true, 'same period: same key')
    mock.timers.setTime(20 * 60_000)
    lb.worker.rotateTickets()
    const after = await handshake(lb.port, before.session)
    assert.equal(after.reused, false, 'the old ticket no longer decrypts')
    assert.equal((await handshake(lb.port, after.session)).reused, true)
  } finally {
    await lb.close()
    mock.timers.reset()
    d.remove()
  }
})
