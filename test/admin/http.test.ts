/** actionValue: where a POST action's value comes from (query, JSON, form, plain text, curl's bare form body). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { actionValue } from '../../src/admin/http.js'

const FORM = 'application/x-www-form-urlencoded'
const cases: { desc: string; query: string; body: string; type: string; want: string }[] = [
  { desc: 'query wins', query: '?state=ready', body: 'drain', type: FORM, want: 'ready' },
  { desc: 'plain text', query: '', body: 'drain\n', type: 'text/plain', want: 'drain' },
  { desc: 'JSON', query: '', body: '{"state":"maint"}', type: 'application/json', want: 'maint' },
  { desc: 'form field', query: '', body: 'state=maint', type: FORM, want: 'maint' },
  { desc: 'form without the field', query: '', body: 'other=maint', type: FORM, want: '' },
  { desc: 'curl -d drain (a bare form value)', query: '', body: 'drain', type: FORM, want: 'drain' },
  { desc: 'curl -d 50% (a bare form value)', query: '', body: '50%', type: FORM, want: '50%' },
  { desc: 'empty body', query: '', body: '', type: FORM, want: '' },
]

for (const c of cases) {
  test(`actionValue: ${c.desc}`, () => {
    const url = new URL(`/api/servers/web/s0/state${c.query}`, 'http://admin')
    assert.equal(actionValue('state', url, c.body, c.type), c.want)
  })
}
