/** Shared helpers for the config tests (not a test file itself). */
import { fileURLToPath } from 'node:url'
import { parseYaml } from '../../src/config/load.js'
import type { Config, Env, MutableConfig } from '../../src/config/types.js'
import { validate } from '../../src/config/validate.js'
import { defaultConfig } from '../../src/config/defaults.js'

/** The file name the in-memory tests validate under. */
export const file = 'test.yaml'

/** Repo root, from dist/test/config/ (tests run compiled). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/config/${name}`, import.meta.url))
}

/** The expected Config: an edit of a clone of the defaults. */
export function edit(change: (c: MutableConfig) => void = () => {}): Config {
  const c = structuredClone(defaultConfig) as MutableConfig
  c.file = file
  change(c)
  return c
}

/** Strip the common indentation of a template literal so YAML can be written inline. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  let text = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) text += String(values[i]) + (strings[i + 1] ?? '')
  const lines = text.split('\n')
  if (lines[0]?.trim() === '') lines.shift()
  let indent = Infinity
  for (const l of lines) if (l.trim() !== '') indent = Math.min(indent, l.length - l.trimStart().length)
  return lines.map((l) => l.slice(indent === Infinity ? 0 : indent)).join('\n')
}

/** Validate YAML text (or already-parsed data); the problems as `path: message` lines. */
export function problemLines(
  input: string | object,
  env: Env = {},
  files = new Map<string, string | Error>(),
): string[] {
  const raw = typeof input === 'string' ? parse(input) : input
  return validate(raw, file, env, files).problems.map((p) =>
    p.path === '' ? p.message : `${p.path}: ${p.message}`,
  )
}

/** Validate and return the Config, failing with every problem when there are any. */
export function valid(
  input: string | object,
  env: Env = {},
  files = new Map<string, string | Error>(),
): Config {
  const raw = typeof input === 'string' ? parse(input) : input
  const r = validate(raw, file, env, files)
  if (r.config === undefined)
    throw new Error('unexpected problems:\n' + r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'))
  return r.config
}

/** YAML text → data, as loadConfig parses it (merge keys on); syntax errors throw. */
export function parse(text: string): unknown {
  const r = parseYaml(text, file)
  if (r.problems.length > 0) throw new Error(r.problems.map((p) => p.message).join('\n'))
  return r.raw
}

/** A minimal valid service, as raw YAML data. */
export function svc(name: string, ...addresses: string[]): object {
  return { name, servers: addresses.map((address) => ({ address })) }
}
