/**
 * The admin web page served at `/`: one static HTML document with inline CSS and JS (no build step, no CDN, so it
 * works on a front node without external network). It polls /api/routes and /api/servers every 1.5 s, keeps the
 * last 10 check results per server in the page (from the `checks`/`failedChecks` counters), filters rows by a
 * text box, and shows ready/drain/maint buttons once an admin token is entered (kept in sessionStorage, sent as
 * `Authorization: Bearer`). Every value is written with textContent or an attribute: no data reaches innerHTML.
 * The admin server sends it with a Content-Security-Policy that allows only same-origin requests.
 */
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
  .UP { color: #080; font-weight: 600; } .DOWN { color: #c00; font-weight: 600; }
  .DRAIN { color: #b60; font-weight: 600; } .MAINT { color: #666; font-weight: 600; }
  .hist span { display: inline-block; width: 8px; height: 12px; margin-right: 1px; }
  .ok { background: #3a3; } .ko { background: #d33; }
  .muted { color: #777; } .err { color: #c00; }
  button { font: inherit; margin-right: 3px; }
  .srv { white-space: nowrap; margin-right: .6em; }
  td.actions { white-space: nowrap; }
  code { font-size: 12px; }
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
  <span id="message" role="status"></span>
</header>
<h2>Routes <span id="routes-count" class="muted"></span></h2>
<table id="routes"><thead><tr><th>Host</th><th>Path</th><th>Service</th><th>Servers (weight, state)</th><th>Options</th></tr></thead><tbody></tbody></table>
<h2>Servers <span id="servers-count" class="muted"></span></h2>
<table id="servers"><thead><tr><th>Service / server</th><th>Address</th><th>State</th><th>Weight</th><th>Health</th><th>Last check</th><th>History</th><th>In flight</th><th>Checks (failed)</th><th id="actions-head">Actions</th></tr></thead><tbody></tbody></table>
<script>
(function () {
  'use strict'
  var TOKEN_KEY = 'lb-admin-token'
  var history = new Map()
  var lastRoutes = null
  var lastServers = null
  var tokenInput = document.getElementById('token')
  var filterInput = document.getElementById('filter')
  var statusEl = document.getElementById('status')
  var messageEl = document.getElementById('message')
  /** Rendered rows by key, reused while their content is the same (a click is never lost to a re-render). */
  var rowCache = new Map()

  function token() { return sessionStorage.getItem(TOKEN_KEY) || '' }
  function el(tag, text, cls) {
    var e = document.createElement(tag)
    if (text !== undefined && text !== null) e.textContent = String(text)
    if (cls) e.className = cls
    return e
  }
  function setStatus(text, isError) {
    statusEl.textContent = text
    statusEl.className = isError ? 'err' : 'muted'
  }
  function setMessage(text, isError) {
    messageEl.textContent = text
    messageEl.className = isError ? 'err' : ''
  }
  /** The row for key with this content: the cached one when unchanged, else build() and cache it. */
  function cachedRow(key, sig, build) {
    var hit = rowCache.get(key)
    if (hit && hit.sig === sig) return hit.tr
    var tr = build()
    rowCache.set(key, { sig: sig, tr: tr })
    return tr
  }
  /** Put rows into body, touching the DOM only when the list of rows changed. */
  function syncRows(body, rows) {
    var same = rows.length === body.children.length
    for (var i = 0; same && i < rows.length; i++) same = body.children[i] === rows[i]
    if (!same) body.replaceChildren.apply(body, rows)
  }
  function matches(values) {
    var f = filterInput.value.trim().toLowerCase()
    if (f === '') return true
    for (var i = 0; i < values.length; i++) if (String(values[i]).toLowerCase().indexOf(f) >= 0) return true
    return false
  }
  function stateClass(status) { return String(status).split(' ')[0] }

  function renderRoutes() {
    var body = document.querySelector('#routes tbody')
    var rows = []
    var routes = lastRoutes ? lastRoutes.routes : []
    // Server states come from the frequent /api/servers poll; /api/routes is polled less often.
    var byService = new Map()
    var servers = lastServers || []
    for (var k = 0; k < servers.length; k++) {
      var list = byService.get(servers[k].service)
      if (!list) { list = []; byService.set(servers[k].service, list) }
      list.push(servers[k])
    }
    var shown = 0
    for (var i = 0; i < routes.length; i++) {
      var r = Object.assign({}, routes[i], { servers: byService.get(routes[i].service) || [] })
      var names = r.servers.map(function (s) { return s.server })
      if (!matches([r.host, r.path, r.service].concat(names))) continue
      shown++
      var sig = JSON.stringify(routes[i]) + r.servers.map(function (s) { return s.server + s.effectiveWeight + s.status }).join()
      rows.push(cachedRow('route ' + r.id, sig, buildRoute.bind(null, r)))
    }
    syncRows(body, rows)
    document.getElementById('routes-count').textContent = '(' + shown + ' of ' + routes.length + ')'
  }

  function buildRoute(r) {
    var tr = el('tr')
    tr.dataset.route = r.host + r.path
    tr.appendChild(el('td', r.host === '' ? '*' : r.host))
    tr.appendChild(el('td', r.path))
    tr.appendChild(el('td', r.service === '' ? '-' : r.service))
    var td = el('td')
    for (var j = 0; j < r.servers.length; j++) {
      var s = r.servers[j]
      var span = el('span', null, 'srv')
      span.appendChild(el('span', s.server + ' (' + s.effectiveWeight + ') '))
      span.appendChild(el('span', s.status, stateClass(s.status)))
      td.appendChild(span)
    }
    tr.appendChild(td)
    var opts = []
    if (r.strip) opts.push('strip=' + r.strip)
    if (r.prepend) opts.push('prepend=' + r.prepend)
    if (r.redirect) opts.push('redirect ' + r.redirect.code + ' ' + r.redirect.url)
    if (r.allow.length) opts.push('allow ' + r.allow.join(','))
    if (r.deny.length) opts.push('deny ' + r.deny.join(','))
    tr.appendChild(el('td', opts.join('; ')))
    return tr
  }

  function recordHistory(s) {
    var key = s.service + '/' + s.server
    var h = history.get(key)
    if (!h) { h = { checks: s.checks, failed: s.failedChecks, items: [] }; history.set(key, h) }
    if (s.checks > h.checks) {
      var failedNow = s.failedChecks > h.failed
      var text = s.lastCheck ? s.lastCheck.result + (s.lastCheck.detail ? ' ' + s.lastCheck.detail : '') : ''
      h.items.push({ ok: !failedNow, text: text })
      while (h.items.length > 10) h.items.shift()
    }
    h.checks = s.checks
    h.failed = s.failedChecks
    return h.items
  }

  function post(s, state) {
    var path = '/api/servers/' + encodeURIComponent(s.service) + '/' + encodeURIComponent(s.server) + '/state'
    fetch(path, { method: 'POST', headers: { authorization: 'Bearer ' + token(), 'content-type': 'text/plain' }, body: state })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j } }) })
      .then(function (r) {
        if (r.status === 200) setMessage(s.service + '/' + s.server + ' → ' + state, false)
        else setMessage('HTTP ' + r.status + ': ' + (r.body.error || JSON.stringify(r.body)), true)
        refresh()
      })
      .catch(function (e) { setMessage(String(e), true) })
  }

  function renderServers() {
    var body = document.querySelector('#servers tbody')
    var servers = lastServers || []
    var canChange = token() !== ''
    document.getElementById('actions-head').hidden = !canChange
    var rows = []
    var shown = 0
    for (var i = 0; i < servers.length; i++) {
      var s = servers[i]
      var items = recordHistory(s)
      if (!matches([s.service, s.server, s.address, s.status])) continue
      shown++
      var sig = JSON.stringify(s) + canChange + JSON.stringify(items)
      rows.push(cachedRow('server ' + s.service + '/' + s.server, sig, buildServer.bind(null, s, items, canChange)))
    }
    syncRows(body, rows)
    document.getElementById('servers-count').textContent = '(' + shown + ' of ' + servers.length + ')'
  }

  function buildServer(s, items, canChange) {
    var tr = el('tr')
    tr.dataset.server = s.service + '/' + s.server
    tr.appendChild(el('td', s.service + ' / ' + s.server + (s.backup ? ' (backup)' : '')))
    tr.appendChild(el('td', s.address))
    var st = el('td', s.status, stateClass(s.status) + ' state')
    if (s.reason) st.title = s.reason
    tr.appendChild(st)
    tr.appendChild(el('td', s.effectiveWeight === s.weight ? s.weight : s.effectiveWeight + '/' + s.weight))
    tr.appendChild(el('td', s.checkStatus === null ? 'not checked' : s.checkStatus))
    var last = s.lastCheck ? s.lastCheck.result + ' in ' + s.lastCheck.duration + ' ms' + (s.lastCheck.detail ? ': ' + s.lastCheck.detail : '') : (s.reason || '')
    tr.appendChild(el('td', last))
    var hist = el('td', null, 'hist')
    for (var j = 0; j < items.length; j++) {
      var b = el('span', null, items[j].ok ? 'ok' : 'ko')
      b.title = items[j].text
      hist.appendChild(b)
    }
    tr.appendChild(hist)
    tr.appendChild(el('td', s.inflight + (s.maxconn ? '/' + s.maxconn : '') + (s.queued ? ' q' + s.queued : '')))
    tr.appendChild(el('td', s.checks + ' (' + s.failedChecks + ')'))
    if (canChange) {
      var act = el('td', null, 'actions')
      ;['ready', 'drain', 'maint'].forEach(function (state) {
        var btn = el('button', state)
        btn.type = 'button'
        btn.dataset.action = state
        btn.disabled = s.admin === state
        btn.addEventListener('click', function () { post(s, state) })
        act.appendChild(btn)
      })
      tr.appendChild(act)
    }
    return tr
  }

  function getJson(path) {
    return fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(path + ': HTTP ' + r.status)
      return r.json()
    })
  }

  var inFlight = false
  var ticks = 0
  function refresh() {
    if (inFlight) return
    inFlight = true
    // Routes change only with a new table: fetched every 10th refresh (15 s) and on load.
    var wantRoutes = lastRoutes === null || ticks++ % 10 === 0
    Promise.all([wantRoutes ? getJson('/api/routes') : Promise.resolve(lastRoutes), getJson('/api/servers')])
      .then(function (r) {
        lastRoutes = r[0]
        lastServers = r[1]
        renderRoutes()
        renderServers()
        // Forget rows no longer shown (servers removed, or filtered out: rebuilt when shown again).
        rowCache.forEach(function (v, k) { if (!v.tr.isConnected) rowCache.delete(k) })
        setStatus('updated ' + new Date().toLocaleTimeString() + ' (table v' + lastRoutes.version + ')', false)
      })
      .catch(function (e) { setStatus('update failed: ' + e.message, true) })
      .finally(function () { inFlight = false })
  }

  document.getElementById('save-token').addEventListener('click', function () {
    var t = tokenInput.value.trim()
    if (t) sessionStorage.setItem(TOKEN_KEY, t)
    tokenInput.value = ''
    setMessage(t ? 'token set: actions enabled' : 'enter a token', false)
    renderServers()
  })
  document.getElementById('clear-token').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY)
    setMessage('token forgotten: read-only', false)
    renderServers()
  })
  filterInput.addEventListener('input', function () { renderRoutes(); renderServers() })
  refresh()
  setInterval(refresh, 1500)
})()
</script>
</body>
</html>
`
