/**
 * TLS session ticket keys that every worker shares, so a client resumes on whichever worker accepts its next
 * connection, and that survive reloads (the key depends on the secret, the listener and the time, not on the
 * SecureContext). The primary makes one random secret at start and hands it to every Worker (its own, and over
 * IPC in the whole state: src/process/ipc.ts); each Worker derives a listener's 48-byte key (Node's `ticketKeys`:
 * name, HMAC and AES parts) for the current rotation period with HKDF, so workers agree without a message per
 * rotation and a respawned worker computes the same key.
 *
 * Rotation (`listeners[].tls.ticket_rotation`, 0 = never): at each period boundary (wall clock, the same for all
 * workers of a host) the key changes; Node holds one key, so tickets issued before the boundary no longer
 * decrypt and those clients make one full handshake (tickets live `sessionTimeout`, Node's 300 s, anyway).
 */
import { hkdfSync, randomBytes } from 'node:crypto'

/** A new random secret (the primary's, for the life of the process). */
export function newTicketSecret(): Buffer {
  return randomBytes(48)
}

/** The rotation period `now` (ms) falls in (0 when `rotation` is 0: never rotated). */
export function ticketPeriod(rotation: number, now: number): number {
  return rotation > 0 ? Math.floor(now / rotation) : 0
}

/** Listener `listener`'s ticket key for `period`. */
export function ticketKey(secret: Buffer, listener: string, period: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, listener, `lb session tickets ${period}`, 48))
}

/** ms from `now` to the next period boundary of `rotation` (Infinity when it never rotates). */
export function untilRotation(rotation: number, now: number): number {
  return rotation > 0 ? rotation - (now % rotation) : Infinity
}
