/**
 * Temporary directories for a test file, removed when its process exits (`node --test` runs each file in a process
 * of its own). Config files and hooks written for a daemon under test go here; a directory left behind per run
 * added up to thousands in /tmp.
 */
import { rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made: string[] = []

function removeAll(): void {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
}

/** A new directory `<tmpdir>/<prefix>XXXXXX`, removed at exit. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  if (made.length === 0) process.once('exit', removeAll)
  made.push(dir)
  return dir
}
