/** log.ts: access-log filters and sampling, the haproxy text format, and the logger that applies them. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import type { Config } from '../../src/config/types.js'
import { defaultConfig } from '../../src/config/defaults.js'
import {
  accessFilter,
  createAccessLogger,
  formatHttplog,
  haproxyDate,
  type AccessFields,
} from '../../src/log/log.js'

type Access = Config['log']['access']

function access(edit: Partial<Access>): Access {
  return { ...defaultConfig.log.access, ...edit }
}

const ok: AccessFields = { status: 200, ts: '--', retries: 0, Ta: 3 }
const slow: AccessFields = { status: 200, ts: '--', retries: 0, Ta: 900 }
const notFound: AccessFields = { status: 404, ts: 'PR', retries: 0, Ta: 0 }
const redirect: AccessFields = { status: 302, ts: 'LR', retries: 0, Ta: 0 }
const bad: AccessFields = { status: 502, ts: 'SC', retries: 2, Ta: 5 }
const retried: AccessFields = { status: 200, ts: '--', retries: 1, Ta: 5 }
const clientGone: AccessFields = { status: 0, ts: 'CH', retries: 0, Ta: 5 }
const tcpOk: AccessFields = { mode: 'tcp', ts: '--', retries: 0, Tt: 2_000 }
const tcpFailed: AccessFields = { mode: 'tcp', ts: 'SC', retries: 0, Tt: 2 }

test('accessFilter: which lines pass', () => {
  const cases: { desc: string; config: Partial<Access>; lines: AccessFields[]; want: boolean[] }[] = [
    { desc: 'no filter, no sampling: null (the logger installs no hook)', config: {}, lines: [], want: [] },
    {
      desc: 'status ranges',
      config: {
        status: [
          { lo: 400, hi: 499 },
          { lo: 502, hi: 502 },
        ],
      },
      lines: [ok, notFound, bad, tcpOk],
      want: [false, true, true, false],
    },
    {
      desc: 'slow: Ta (HTTP) or Tt (TCP) at or over the limit',
      config: { slowMs: 900 },
      lines: [ok, slow, tcpOk, tcpFailed],
      want: [false, true, true, false],
    },
    {
      desc: 'errors: 5xx, no status, retried, abnormal termination; not a redirect',
      config: { errors: true },
      lines: [ok, notFound, redirect, bad, retried, clientGone, tcpOk, tcpFailed],
      want: [false, true, false, true, true, true, false, true],
    },
    {
      desc: 'several filters: any match passes',
      config: { errors: true, slowMs: 500 },
      lines: [ok, slow, bad],
      want: [false, true, true],
    },
    {
      desc: 'sample 3: the first, then every third',
      config: { sample: 3 },
      lines: [ok, ok, ok, ok, ok, ok, ok],
      want: [true, false, false, true, false, false, true],
    },
    {
      desc: 'filters first, then sampling among what passed',
      config: { errors: true, sample: 2 },
      lines: [bad, ok, bad, ok, bad],
      want: [true, false, false, false, true],
    },
  ]
  for (const c of cases) {
    const f = accessFilter(access(c.config))
    if (c.lines.length === 0) {
      assert.equal(f, null, c.desc)
      continue
    }
    assert.ok(f !== null, c.desc)
    assert.deepEqual(
      c.lines.map((l) => f(l)),
      c.want,
      c.desc,
    )
  }
})

test('haproxyDate: haproxy accept-date layout in UTC', () => {
  assert.equal(haproxyDate(new Date(Date.UTC(2009, 1, 6, 12, 14, 14, 655))), '06/Feb/2009:12:14:14.655')
  assert.equal(haproxyDate(new Date(Date.UTC(2026, 10, 2, 3, 4, 5, 6))), '02/Nov/2026:03:04:05.006')
})

test('formatHttplog: httplog for HTTP lines, tcplog for TCP lines', () => {
  const date = new Date(Date.UTC(2009, 1, 6, 12, 14, 14, 655))
  const cases: { desc: string; line: AccessFields; want: string }[] = [
    {
      desc: 'a proxied request',
      line: {
        ci: '10.0.1.2',
        fe: 'http-in',
        method: 'GET',
        uri: '/index.html',
        status: 200,
        bytes: 2750,
        service: 'static',
        server: 'srv1',
        retries: 0,
        Tw: 0,
        Tc: 30,
        Tr: 69,
        Ta: 109,
        ts: '--',
      },
      want:
        '10.0.1.2:- [06/Feb/2009:12:14:14.655] http-in static/srv1 -/0/30/69/109 200 2750 - - ---- ' +
        '-/-/-/-/0 -/- "GET /index.html"\n',
    },
    {
      desc: 'no route: <NOSRV>, phases not reached are -1, quotes in the URI escaped',
      line: {
        ci: '::1',
        fe: 'web',
        method: 'GET',
        uri: '/a"b',
        status: 404,
        bytes: 20,
        service: null,
        server: null,
        retries: 0,
        Tw: 0,
        Tc: -1,
        Tr: -1,
        Ta: 0,
        ts: 'PR',
      },
      want: '::1:- [06/Feb/2009:12:14:14.655] web <NOSRV>/<NOSRV> -/0/-1/-1/0 404 20 - - PR-- -/-/-/-/0 -/- "GET /a#22b"\n',
    },
    {
      desc: 'a TCP session',
      line: {
        ci: '10.0.1.2',
        cp: 33313,
        fe: 'fnt',
        mode: 'tcp',
        service: 'bck',
        server: 'srv1',
        retries: 1,
        Tw: 0,
        Tc: 0,
        Tt: 5007,
        bytes: 212,
        ts: '--',
      },
      want: '10.0.1.2:33313 [06/Feb/2009:12:14:14.655] fnt bck/srv1 0/0/5007 212 -- -/-/-/-/1 -/-\n',
    },
    {
      desc: 'a request retried on another server: + before the retries count, the client port',
      line: {
        ci: '10.0.1.2',
        cp: 40000,
        fe: 'web',
        method: 'GET',
        uri: '/',
        status: 200,
        bytes: 2,
        service: 'svc',
        server: 's1',
        retries: 1,
        redispatched: true,
        Tw: 0,
        Tc: 1,
        Tr: 2,
        Ta: 3,
        ts: '--',
      },
      want: '10.0.1.2:40000 [06/Feb/2009:12:14:14.655] web svc/s1 -/0/1/2/3 200 2 - - ---- -/-/-/-/+1 -/- "GET /"\n',
    },
  ]
  for (const c of cases) assert.equal(formatHttplog(c.line, date), c.want, c.desc)
})

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'))
      cb()
    },
  })
  return { stream, text: () => chunks.join('') }
}

async function flushed(): Promise<void> {
  await new Promise((r) => setImmediate(r))
}

test('createAccessLogger: JSON by default, httplog text when asked, filters applied to both', async () => {
  const json = sink()
  const j = createAccessLogger({ ...defaultConfig.log, access: access({ errors: true }) }, json.stream)
  j.info({ ...ok })
  j.info({ ...bad })
  await flushed()
  const lines = json.text().trim().split('\n')
  assert.equal(lines.length, 1, json.text())
  const parsed = JSON.parse(lines[0] as string) as Record<string, unknown>
  assert.equal(parsed.status, 502)
  assert.equal(typeof parsed.time, 'string')

  const text = sink()
  const t = createAccessLogger({ ...defaultConfig.log, access: access({ format: 'httplog' }) }, text.stream)
  t.info({ ci: '127.0.0.1', fe: 'web', method: 'GET', uri: '/', status: 200, bytes: 1, ts: '--', Ta: 1 })
  await flushed()
  assert.match(
    text.text(),
    /^127\.0\.0\.1:- \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] web <NOSRV>\/<NOSRV> -\/0\/-1\/-1\/1 200 1 - - ---- -\/-\/-\/-\/0 -\/- "GET \/"\n$/,
  )

  const off = sink()
  const o = createAccessLogger({ ...defaultConfig.log, access: access({ enabled: false }) }, off.stream)
  o.info({ ...bad })
  await flushed()
  assert.equal(off.text(), '')
})
