/** `listeners[].maxconn` and `http.maxconn`: read as integers 0..1000000; maxconn on a tcp listener is refused. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { edit, problemLines, valid } from '../config/helpers.js'

test('maxconn values are read', () => {
  const got = valid('listeners: [{ address: ":8080", maxconn: 100 }]\nhttp: { maxconn: 5000 }\n')
  const want = edit((c) => {
    c.listeners = [{ name: 'http-8080', host: '', port: 8080, mode: 'http', maxconn: 100 }]
    c.http.maxconn = 5000
  })
  assert.deepEqual(got.listeners, want.listeners)
  assert.equal(got.http.maxconn, 5000)
})

const bad: { desc: string; input: string; want: string[] }[] = [
  {
    desc: 'negative listener maxconn',
    input: 'listeners: [{ address: ":8080", maxconn: -1 }]\n',
    want: ['listeners[0].maxconn: must be between 0 and 1000000, got -1'],
  },
  {
    desc: 'http.maxconn not a number',
    input: 'http: { maxconn: lots }\n',
    want: ['http.maxconn: expected an integer, got "lots"'],
  },
  {
    desc: 'maxconn on a tcp listener',
    input:
      'listeners: [{ address: ":8080", mode: tcp, service: s, maxconn: 3 }]\nservices: [{ name: s, servers: [{ address: "127.0.0.1:1" }] }]\n',
    want: ['listeners[0].maxconn: only applies to mode: http listeners'],
  },
]

for (const c of bad) {
  test(`maxconn: ${c.desc}`, () => {
    assert.deepEqual(problemLines(c.input), c.want)
  })
}
