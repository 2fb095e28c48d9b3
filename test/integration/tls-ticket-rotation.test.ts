/**
 * Ticket key rotation (`tls.ticket_rotation`): at a period boundary the key changes, so a session from before it
 * no longer resumes (one full handshake) and the new session resumes again. The clock is node:test's mocked Date.
 */
import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { startLb } from '../helpers/lb.js'
import { certDir, makeCert, tlsConfig, tlsHandshake, useTls } from '../helpers/certs.js'

test('a rotation ends resumption of older sessions; new ones resume', async () => {
  mock.timers.enable({ apis: ['Date'], now: 10 * 60_000 + 1 })
  const d = certDir()
  const cert = makeCert(d.dir, { names: ['site.test'] })
  const lb = await startLb((c) => useTls(c, tlsConfig([cert], { ticket_rotation: '10m' })))
  try {
    const before = await tlsHandshake(lb.port, 'TLSv1.2')
    assert.equal((await tlsHandshake(lb.port, 'TLSv1.2', before.session)).reused, true)
    lb.worker.rotateTickets()
    assert.equal(
      (await tlsHandshake(lb.port, 'TLSv1.2', before.session)).reused,
      true,
      'same period: same key',
    )
    mock.timers.setTime(20 * 60_000)
    lb.worker.rotateTickets()
    const after = await tlsHandshake(lb.port, 'TLSv1.2', before.session)
    assert.equal(after.reused, false, 'the old ticket no longer decrypts')
    assert.equal((await tlsHandshake(lb.port, 'TLSv1.2', after.session)).reused, true)
  } finally {
    await lb.close()
    mock.timers.reset()
    d.remove()
  }
})
