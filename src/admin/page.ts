/**
 * The admin web page served at `/`: one static HTML document with inline CSS and JS (no build step, no CDN, so it
 * works on a front node without external network). It is a live dashboard of /api/dashboard (src/admin/
 * dashboard.ts), polled every 2 s: a "failing now" list, per service the request, 2xx/4xx/5xx rates, p50/p99,
 * in-flight, queue, bytes and small charts of the last 15 minutes, the Consul view's age; per server its state,
 * rates, and a timeline of its check results and state changes (served by lb, so it is full on load); the
 * routes (/api/routes every 15 s); a "why" box that asks /api/explain about a URL. Tables sort by a click on a
 * column head and filter by a text box; ready/drain/maint and weight buttons appear once an admin token is
 * entered (kept in sessionStorage, sent as `Authorization: Bearer`). Every value is written with textContent or
 * an attribute: no data reaches innerHTML. The admin server sends it with a Content-Security-Policy that allows
 * only same-origin requests. The script is page-script.ts.
 */
import { pageScript } from './page-script.js'

export const adminPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lb admin</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; background: #fafafa; }
  h1 { font-size: 1.3em; margin: 0 0 .5em; }
  h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
  header { display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
  input { font: inherit; padding: 2px 6px; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
  th { background: #eee; }
  th.sort { cursor: pointer; user-select: none; }
  th.sort[data-dir="asc"]::after { content: " ▲"; } th.sort[data-dir="desc"]::after { content: " ▼"; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .UP { color: #080; font-weight: 600; } .DOWN { color: #c00; font-weight: 600; }
  .DRAIN { color: #b60; font-weight: 600; } .MAINT { color: #666; font-weight: 600; }
  .hist { white-space: nowrap; }
  .hist span { display: inline-block; width: 7px; height: 12px; margin-right: 1px; vertical-align: middle; }
  .hist span.change { width: 3px; height: 18px; background: #000; margin: 0 2px; }
  .hist span.change.ok { background: #080; } .hist span.change.ko { background: #c00; }
  .ok { background: #3a3; } .ko { background: #d33; }
  .muted { color: #777; } .err { color: #c00; } .bad { color: #c00; font-weight: 600; }
  button { font: inherit; margin-right: 3px; }
  .srv { white-space: nowrap; margin-right: .6em; }
  td.actions { white-space: nowrap; } td.actions input { width: 4em; }
  code, pre { font-size: 12px; }
  pre#why-out { background: #fff; border: 1px solid #ddd; padding: .5em; white-space: pre-wrap; min-height: 1em; }
  svg.chart { display: block; background: #f4f6f8; }
  svg.chart polyline { fill: none; stroke-width: 1.5; }
  .l-rps { stroke: #36c; } .l-5xx { stroke: #d33; } .l-p99 { stroke: #a5a; }
  .legend span { margin-right: .8em; font-size: 12px; }
  #failing li { margin: 2px 0; }
  #failing .none { color: #080; list-style: none; }
</style>
</head>
<body>
<header>
  <h1>lb admin</h1>
  <label>Filter <input id="filter" type="search" placeholder="host, path, service, server"></label>
  <label>Admin token <input id="token" type="password" autocomplete="off" size="18"></label>
  <button id="save-token" type="button">Use token</button>
  <button id="clear-token" type="button">Forget</button>
  <span id="status" class="muted">loading…</span>
  <span id="consul-age" class="muted"></span>
  <span id="message" role="status"></span>
</header>
<h2>Failing now</h2>
<ul id="failing"></ul>
<h2>Services <span id="services-count" class="muted"></span></h2>
<p class="legend muted"><span>charts: last 15 min, one point per sample;</span><span class="l-rps">— req/s</span><span class="l-5xx">— 5xx/s</span><span class="l-p99">— p99 ms (right chart)</span><svg id="svg-ns" width="0" height="0"></svg></p>
<table id="services"><thead><tr>
<th class="sort" data-key="service">Service</th><th class="sort" data-key="serving">Serving</th>
<th class="sort" data-key="rps">req/s</th><th class="sort" data-key="r2xx">2xx/s</th><th class="sort" data-key="r4xx">4xx/s</th>
<th class="sort" data-key="r5xx">5xx/s</th><th class="sort" data-key="p50">p50 ms</th><th class="sort" data-key="p99">p99 ms</th>
<th class="sort" data-key="inflight">In flight</th><th class="sort" data-key="queue">Queue</th>
<th class="sort" data-key="bytes">Bytes in/out /s</th><th class="sort" data-key="consul">Consul update</th>
<th>Requests, 5xx</th><th>p99</th></tr></thead><tbody></tbody></table>
<h2>Why: where does a URL go?</h2>
<form id="why"><input id="why-url" type="text" size="60" placeholder="shop.example.com/cart"> <button type="submit">Explain</button></form>
<pre id="why-out"></pre>
<h2>Servers <span id="servers-count" class="muted"></span></h2>
<table id="servers"><thead><tr><th class="sort" data-key="name">Service / server</th><th>Address</th>
<th class="sort" data-key="status">State</th><th class="sort" data-key="weight">Weight</th><th>Health</th><th>Last check</th>
<th>History (checks | state changes)</th><th class="sort" data-key="rps">req/s</th><th class="sort" data-key="r5xx">5xx/s</th>
<th class="sort" data-key="inflight">In flight</th><th>Checks (failed)</th><th id="actions-head">Actions</th></tr></thead><tbody></tbody></table>
<h2>Routes <span id="routes-count" class="muted"></span></h2>
<table id="routes"><thead><tr><th>Host</th><th>Path</th><th>Service</th><th>Servers (weight, state)</th><th>Options</th></tr></thead><tbody></tbody></table>
<script>
${pageScript}
</script>
</body>
</html>
`
