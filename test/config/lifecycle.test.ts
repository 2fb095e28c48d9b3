/** `workers`, `shutdown` and `pid_file`: accepted forms as edits of the defaults, and the problems. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { edit, problemLines, valid } from './helpers.js'

const accepted: {
  desc: string
  input: string
  env?: Record<string, string>
  want: ReturnType<typeof edit>
}[] = [
  { desc: 'defaults: one process, no grace, 10s timeout, no pid file', input: '', want: edit() },
  { desc: 'workers: auto', input: 'workers: auto\n', want: edit((c) => (c.workers = 'auto')) },
  { desc: 'workers: 4', input: 'workers: 4\n', want: edit((c) => (c.workers = 4)) },
  { desc: 'workers: 1 (one process)', input: 'workers: 1\n', want: edit((c) => (c.workers = 1)) },
  {
    desc: 'workers from ${VAR}',
    input: 'workers: ${N}\n',
    env: { N: '3' },
    want: edit((c) => (c.workers = 3)),
  },
  {
    desc: 'workers: auto from ${VAR}',
    input: 'workers: ${N}\n',
    env: { N: 'auto' },
    want: edit((c) => (c.workers = 'auto')),
  },
  {
    desc: 'shutdown grace and timeout',
    input: 'shutdown: { grace: 5s, timeout: 30s }\n',
    want: edit((c) => (c.shutdown = { grace: 5_000, timeout: 30_000 })),
  },
  {
    desc: 'shutdown: only the grace',
    input: 'shutdown: { grace: 500ms }\n',
    want: edit((c) => (c.shutdown.grace = 500)),
  },
  {
    desc: 'pid_file',
    input: 'pid_file: /run/lb/lb.pid\n',
    want: edit((c) => (c.pidFile = '/run/lb/lb.pid')),
  },
]

for (const c of accepted) {
  test(`lifecycle config: ${c.desc}`, () => {
    const got = { ...valid(c.input, c.env), file: 'test.yaml' }
    assert.deepEqual(got, c.want)
  })
}

const rejected: { desc: string; input: string; env?: Record<string, string>; want: string[] }[] = [
  { desc: 'negative workers', input: 'workers: -1\n', want: ['workers: must be between 0 and 256, got -1'] },
  {
    desc: 'too many workers',
    input: 'workers: 1000\n',
    want: ['workers: must be between 0 and 256, got 1000'],
  },
  {
    desc: 'a word that is not auto',
    input: 'workers: many\n',
    want: ['workers: expected auto or a number of processes, got "many"'],
  },
  { desc: 'a fraction', input: 'workers: 1.5\n', want: ['workers: expected an integer, got 1.5'] },
  {
    desc: 'bad durations and an unknown key',
    input: 'shutdown: { grace: soon, timeout: -1s, drain: 1s }\n',
    want: [
      'shutdown.drain: unknown key, did you mean "grace"?',
      'shutdown.grace: expected a duration like 500ms, 10s, 5m, 1h or 1m30s, got "soon"',
      'shutdown.timeout: must not be negative, got "-1s"',
    ],
  },
  {
    desc: 'pid_file not a string',
    input: 'pid_file: 12\n',
    want: ['pid_file: expected a string, got a number (12) (quote it)'],
  },
]

for (const c of rejected) {
  test(`lifecycle config rejects ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input, c.env).sort(), [...c.want].sort())
  })
}
