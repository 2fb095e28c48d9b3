/**
 * The Grafana dashboard (config/grafana/lb.json) and the Prometheus alerts (config/prometheus/lb-alerts.yaml)
 * are built on metrics lb really exports: a running lb (2 workers, a Consul, a checked service with a dead
 * server, an unchecked one with a dead server, traffic) is scraped, and every PromQL expression of both files
 * must name at least one lb metric, only metrics of that scrape, only label names those metrics carry in its
 * matchers, and only such labels in its `by (…)` clauses (`instance` and `job` are Prometheus' target labels).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'yaml'
import { Daemon, fetchOnce } from '../helpers/daemon.js'
import { ConsulTestServer } from '../helpers/consul-server.js'
import { repoRoot } from '../helpers/process.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'

const targetLabels = new Set(['instance', 'job'])

/** Every `expr` of the dashboard: panel targets (rows included) and the template variables' queries. */
function dashboardExprs(json: unknown): string[] {
  const out: string[] = []
  const d = json as {
    panels: { title: string; targets?: { expr: string }[]; panels?: { targets?: { expr: string }[] }[] }[]
    templating: { list: { query?: unknown }[] }
  }
  for (const p of d.panels) {
    for (const t of p.targets ?? []) out.push(t.expr)
    for (const inner of p.panels ?? []) for (const t of inner.targets ?? []) out.push(t.expr)
  }
  for (const v of d.templating.list) {
    const q = v.query as { query?: string } | string | undefined
    const text = typeof q === 'string' ? q : q?.query
    if (text !== undefined && text.includes('(')) out.push(text.replace(/^label_values\((.*), *\w+\)$/, '$1'))
  }
  return out
}

function alertExprs(yamlText: string): string[] {
  const doc = parse(yamlText) as { groups: { rules: { alert: string; expr: string }[] }[] }
  return doc.groups.flatMap((g) => g.rules.map((r) => String(r.expr)))
}

/** Metric name → the label names its series carry in a scrape (histograms by their _bucket/_sum/_count). */
function exported(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?/.exec(line)
    if (m === null) continue
    const name = m[1] as string
    let labels = out.get(name)
    if (labels === undefined) out.set(name, (labels = new Set()))
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1] as string)
  }
  return out
}

/** What is wrong with `expr` against the scrape: unknown metrics, matcher labels, `by` labels. */
function problems(expr: string, metrics: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const out: string[] = []
  const names = [
    ...new Set([...expr.matchAll(/\b((?:lb|process|nodejs)_[a-zA-Z0-9_]+)\b/g)].map((m) => m[1])),
  ]
  if (names.length === 0) out.push(`names no lb metric: ${expr}`)
  for (const n of names) if (!metrics.has(n as string)) out.push(`${n} is not exported: ${expr}`)
  for (const sel of expr.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)) {
    const have = metrics.get(sel[1] as string)
    if (have === undefined) continue
    for (const l of (sel[2] as string).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      const label = l[1] as string
      if (!have.has(label) && !targetLabels.has(label)) out.push(`${sel[1]} has no label ${label}: ${expr}`)
    }
  }
  for (const by of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
    for (const raw of (by[1] as string).split(',')) {
      const label = raw.trim()
      if (label === '' || targetLabels.has(label)) continue
      if (!names.some((n) => metrics.get(n as string)?.has(label) === true))
        out.push(`no metric of the expression has label ${label}: ${expr}`)
    }
  }
  return out
}

test('the Grafana dashboard and the alert rules use only metrics and labels a running lb exports', async () => {
  const dashboard: unknown = JSON.parse(await readFile(join(repoRoot, 'config/grafana/lb.json'), 'utf8'))
  const alerts = alertExprs(await readFile(join(repoRoot, 'config/prometheus/lb-alerts.yaml'), 'utf8'))
  const exprs = [...dashboardExprs(dashboard), ...alerts]
  assert.ok(alerts.length >= 8, `${alerts.length} alert rules`)
  assert.ok(exprs.length >= 30, `${exprs.length} expressions`)

  const consul = await ConsulTestServer.start()
  const up = await startUpstream('up')
  consul.register({ id: 'shop-1', service: 'shop', port: up.port, tags: ['urlprefix-shop.test/'] })
  const admin = await deadPort()
  const dead = await deadPort()
  const lb = await Daemon.start(`workers: 2
log:
  access:
    enabled: false
admin:
  address: 127.0.0.1:${admin}
listeners:
  - name: web
    address: 127.0.0.1:0
consul:
  addresses: [${consul.address}]
  backoff: { min: 20ms, max: 100ms }
  throttle: 0ms
services:
  - name: checked
    check: { type: tcp, inter: 200ms, rise: 1, fall: 1 }
    servers:
      - address: 127.0.0.1:${up.port}
      - address: 127.0.0.1:${dead}
  - name: raw
    servers:
      - address: 127.0.0.1:${up.port}
      - address: 127.0.0.1:${dead}
routes:
  - path: /checked
    service: checked
  - path: /
    service: raw
`)
  try {
    const port = await lb.port('web')
    await lb.waitFor((l) => l.msg === 'server is DOWN', 'the dead checked server DOWN')
    await lb.waitFor((l) => l.msg === 'workers ready', 'workers')
    // Traffic: to both services, through the dead server of `raw` (connect errors, retries), and to Consul's.
    for (let i = 0; i < 6; i++) {
      assert.equal((await fetchOnce(port, '/checked')).status, 200)
      assert.equal((await fetchOnce(port, '/')).status, 200)
    }
    const text = (await fetchOnce(admin, '/metrics')).body
    const metrics = exported(text)
    const found = exprs.flatMap((e) => problems(e, metrics))
    assert.deepEqual(found, [], `scrape:\n${[...metrics.keys()].join('\n')}`)
    assert.equal(await lb.stop(), 0)
  } finally {
    if (lb.child.exitCode === null) lb.child.kill('SIGKILL')
    await up.close()
    await consul.close()
  }
})
