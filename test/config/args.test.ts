/** parseArgs: `lb [run|check] [--config FILE]`, `-c FILE`, `--config=FILE`, `--help`. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultConfigPath, parseArgs, UsageError, type Args } from '../../src/config/load.js'

const accepted: { desc: string; argv: string[]; want: Args }[] = [
  {
    desc: 'nothing: run the default config',
    argv: [],
    want: { command: 'run', configPath: defaultConfigPath },
  },
  { desc: '--config FILE', argv: ['--config', 'lb.yaml'], want: { command: 'run', configPath: 'lb.yaml' } },
  { desc: '-c FILE', argv: ['-c', '/x/lb.yaml'], want: { command: 'run', configPath: '/x/lb.yaml' } },
  { desc: '--config=FILE', argv: ['--config=lb.yaml'], want: { command: 'run', configPath: 'lb.yaml' } },
  { desc: 'explicit run', argv: ['run', '-c', 'a.yaml'], want: { command: 'run', configPath: 'a.yaml' } },
  { desc: 'check', argv: ['check', '--config', 'a.yaml'], want: { command: 'check', configPath: 'a.yaml' } },
  {
    desc: 'check after the flag',
    argv: ['-c', 'a.yaml', 'check'],
    want: { command: 'check', configPath: 'a.yaml' },
  },
  {
    desc: 'check with the default config',
    argv: ['check'],
    want: { command: 'check', configPath: defaultConfigPath },
  },
  { desc: 'reload', argv: ['reload', '-c', 'a.yaml'], want: { command: 'reload', configPath: 'a.yaml' } },
  {
    desc: 'restart-workers',
    argv: ['restart-workers'],
    want: { command: 'restart-workers', configPath: defaultConfigPath },
  },
  { desc: '--help', argv: ['--help'], want: { command: 'help', configPath: defaultConfigPath } },
  {
    desc: '-h wins over everything else',
    argv: ['check', '-c', 'a.yaml', '-h'],
    want: { command: 'help', configPath: 'a.yaml' },
  },
]

for (const c of accepted) {
  test(`args: ${c.desc}`, () => {
    assert.deepEqual(parseArgs(c.argv), c.want)
  })
}

const rejected: { desc: string; argv: string[]; message: string }[] = [
  { desc: 'an unknown flag', argv: ['--frobnicate'], message: 'unknown option --frobnicate' },
  { desc: 'a missing value', argv: ['check', '-c'], message: 'option -c needs a file name' },
  { desc: 'an empty value', argv: ['--config='], message: 'option --config needs a file name' },
  {
    desc: 'two configs',
    argv: ['-c', 'a', '--config', 'b'],
    message: 'option --config given more than once',
  },
  { desc: 'an unknown command', argv: ['serve'], message: 'unexpected argument "serve"' },
  { desc: 'two commands', argv: ['check', 'check'], message: 'unexpected argument "check"' },
]

for (const c of rejected) {
  test(`args rejected: ${c.desc}`, () => {
    assert.throws(
      () => parseArgs(c.argv),
      (err: unknown) => err instanceof UsageError && err.name === 'UsageError' && err.message === c.message,
    )
  })
}
