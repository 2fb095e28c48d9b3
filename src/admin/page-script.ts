/**
 * The admin page's script (page.ts embeds it): plain ES5-style browser JS, no modules, no dependencies. It polls
 * /api/dashboard every 2 s and /api/routes every 15 s, renders with textContent and attributes only, reuses a
 * row while its content is unchanged (a click is never lost to a re-render), and draws the charts as inline SVG.
 */
export const pageScript = String.raw`(function () {
  'use strict'
  var TOKEN_KEY = 'lb-admin-token'
  // The SVG namespace, from the page's own (hidden) svg element.
  var SVG = document.getElementById('svg-ns').namespaceURI
  var lastRoutes = null
  var dash = null
  var tokenInput = document.getElementById('token')
  var filterInput = document.getElementById('filter')
  var statusEl = document.getElementById('status')
  var messageEl = document.getElementById('message')
  var rowCache = new Map()
  var sorts = { services: { key: 'r5xx', dir: 'desc' }, servers: { key: 'name', dir: 'asc' } }
  /** Services whose charts the page shows (asked for with ?series=). */
  var charted = []

  function token() { return sessionStorage.getItem(TOKEN_KEY) || '' }
  function el(tag, text, cls) {
    var e = document.createElement(tag)
    if (text !== undefined && text !== null) e.textContent = String(text)
    if (cls) e.className = cls
    return e
  }
  function num(v, digits) {
    if (v === null || v === undefined) return '-'
    return Number(v).toFixed(digits === undefined ? 1 : digits)
  }
  function bytes(v) {
    if (!v) return '0'
    var u = ['B', 'kB', 'MB', 'GB']
    var i = 0
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++ }
    return v.toFixed(v < 10 ? 1 : 0) + ' ' + u[i]
  }
  function age(s) {
    if (s === null || s === undefined) return 'never'
    if (s < 90) return s.toFixed(1) + ' s ago'
    if (s < 5400) return Math.round(s / 60) + ' min ago'
    return Math.round(s / 3600) + ' h ago'
  }
  function setStatus(text, isError) { statusEl.textContent = text; statusEl.className = isError ? 'err' : 'muted' }
  function setMessage(text, isError) { messageEl.textContent = text; messageEl.className = isError ? 'err' : '' }
  function cachedRow(key, sig, build) {
    var hit = rowCache.get(key)
    if (hit && hit.sig === sig) return hit.tr
    var tr = build()
    rowCache.set(key, { sig: sig, tr: tr })
    return tr
  }
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
  function sortBy(list, sort, value) {
    var d = sort.dir === 'asc' ? 1 : -1
    return list.slice().sort(function (a, b) {
      var x = value(a, sort.key), y = value(b, sort.key)
      if (x < y) return -d
      if (x > y) return d
      return 0
    })
  }
  function td(text, cls) { return el('td', text, cls) }

  /** A small line chart of one or more series (arrays aligned with dash.times; null = no sample). */
  function chart(lines, width, height) {
    var svg = document.createElementNS(SVG, 'svg')
    svg.setAttribute('class', 'chart')
    svg.setAttribute('width', String(width))
    svg.setAttribute('height', String(height))
    var max = 0
    for (var l = 0; l < lines.length; l++) for (var i = 0; i < lines[l].values.length; i++) {
      var v = lines[l].values[i]
      if (v !== null && v > max) max = v
    }
    if (max === 0) max = 1
    var points = 0
    for (var k = 0; k < lines.length; k++) {
      var vals = lines[k].values
      var n = vals.length
      var pts = []
      var shown = []
      for (var j = 0; j < n; j++) {
        if (vals[j] === null) continue
        var x = n <= 1 ? width - 1 : (j / (n - 1)) * (width - 2) + 1
        var y = height - 1 - (vals[j] / max) * (height - 3)
        pts.push(x.toFixed(1) + ',' + y.toFixed(1))
        shown.push(vals[j])
      }
      // One point: a short dash ending at it, so it can be seen.
      if (pts.length === 1) pts.unshift((Math.max(0, parseFloat(pts[0]) - 4)).toFixed(1) + ',' + pts[0].split(',')[1])
      var line = document.createElementNS(SVG, 'polyline')
      line.setAttribute('class', lines[k].cls)
      line.setAttribute('points', pts.join(' '))
      line.setAttribute('data-values', shown.join(','))
      svg.appendChild(line)
      points += shown.length
    }
    svg.setAttribute('data-points', String(points))
    var title = document.createElementNS(SVG, 'title')
    title.textContent = 'max ' + max.toFixed(1)
    svg.appendChild(title)
    return svg
  }

  function renderFailing() {
    var ul = document.getElementById('failing')
    var items = dash.failing
    var rows = []
    for (var i = 0; i < items.length; i++) {
      var li = el('li')
      li.dataset.failing = items[i].name
      li.appendChild(el('strong', items[i].name))
      li.appendChild(document.createTextNode(' (' + items[i].kind + '): ' + items[i].why))
      rows.push(li)
    }
    if (rows.length === 0) rows.push(el('li', 'nothing: every service has a server up and no 5xx in the last sample', 'none'))
    ul.replaceChildren.apply(ul, rows)
  }

  function serviceValue(s, key) {
    var t = s.traffic || {}
    if (key === 'service') return s.service
    if (key === 'serving') return s.serving - s.servers
    if (key === 'bytes') return (t.bytesInPerSec || 0) + (t.bytesOutPerSec || 0)
    if (key === 'consul') return s.consul ? -(s.consul.ageSeconds || 0) : -Infinity
    return t[key] || 0
  }

  function renderServices() {
    var body = document.querySelector('#services tbody')
    var list = sortBy(dash.services, sorts.services, serviceValue)
    var rows = []
    var shown = []
    for (var i = 0; i < list.length; i++) {
      var s = list[i]
      if (!matches([s.service].concat(s.routes))) continue
      shown.push(s.service)
      if (rows.length >= 200) continue
      var series = dash.series[s.service] || null
      var sig = JSON.stringify(s) + JSON.stringify(series) + dash.times.length
      rows.push(cachedRow('service ' + s.service, sig, buildService.bind(null, s, series)))
    }
    syncRows(body, rows)
    charted = shown.slice(0, 20)
    var t = dash.totals
    document.getElementById('services-count').textContent = '(' + Math.min(shown.length, 200) + ' of ' + t.services + (t.matching > rows.length ? '; the ' + rows.length + ' most failing or busiest shown' : '') + ')'
  }

  function buildService(s, series) {
    var t = s.traffic
    var tr = el('tr')
    tr.dataset.service = s.service
    tr.appendChild(td(s.service))
    tr.appendChild(td(s.serving + '/' + s.servers + (s.queued ? ' q' + s.queued : ''), s.serving === 0 && s.servers > 0 ? 'num bad' : 'num'))
    var keys = ['rps', 'r2xx', 'r4xx', 'r5xx', 'p50', 'p99', 'inflight', 'queue']
    for (var k = 0; k < keys.length; k++) {
      var v = t ? t[keys[k]] : null
      var cell = td(keys[k] === 'inflight' || keys[k] === 'queue' ? (v === null ? '-' : v) : num(v), 'num')
      cell.dataset.key = keys[k]
      if (keys[k] === 'r5xx' && v > 0) cell.className = 'num bad'
      tr.appendChild(cell)
    }
    tr.appendChild(td(t ? bytes(t.bytesInPerSec) + ' / ' + bytes(t.bytesOutPerSec) : '-', 'num'))
    tr.appendChild(td(s.consul ? age(s.consul.ageSeconds) : '-'))
    var c1 = td(null, 'chart-rps')
    var c2 = td(null, 'chart-p99')
    if (series) {
      c1.appendChild(chart([{ values: series.rps, cls: 'l-rps' }, { values: series.r5xx, cls: 'l-5xx' }], 180, 36))
      c2.appendChild(chart([{ values: series.p99, cls: 'l-p99' }], 120, 36))
    } else {
      c1.textContent = '…'
    }
    tr.appendChild(c1)
    tr.appendChild(c2)
    return tr
  }

  function serverValue(s, key) {
    if (key === 'name') return s.service + '/' + s.server
    if (key === 'status') return s.status
    if (key === 'weight') return s.effectiveWeight
    if (key === 'inflight') return s.inflight
    return s.traffic ? s.traffic[key] : 0
  }

  function post(s, what, value) {
    var path = '/api/servers/' + encodeURIComponent(s.service) + '/' + encodeURIComponent(s.server) + '/' + what
    fetch(path, { method: 'POST', headers: { authorization: 'Bearer ' + token(), 'content-type': 'text/plain' }, body: value })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j } }) })
      .then(function (r) {
        if (r.status === 200) setMessage(s.service + '/' + s.server + ' → ' + (what === 'weight' ? 'weight ' : '') + value, false)
        else setMessage('HTTP ' + r.status + ': ' + (r.body.error || JSON.stringify(r.body)), true)
        refresh()
      })
      .catch(function (e) { setMessage(String(e), true) })
  }

  function renderServers() {
    var body = document.querySelector('#servers tbody')
    var servers = dash ? sortBy(dash.servers, sorts.servers, serverValue) : []
    var canChange = token() !== ''
    document.getElementById('actions-head').hidden = !canChange
    var rows = []
    var shown = 0
    for (var i = 0; i < servers.length; i++) {
      var s = servers[i]
      if (!matches([s.service, s.server, s.address, s.status])) continue
      shown++
      if (rows.length >= 500) continue
      var sig = JSON.stringify(s) + canChange
      rows.push(cachedRow('server ' + s.service + '/' + s.server, sig, buildServer.bind(null, s, canChange)))
    }
    syncRows(body, rows)
    document.getElementById('servers-count').textContent = '(' + shown + ' of ' + servers.length + (shown > 500 ? ', first 500 shown' : '') + ')'
  }

  function buildServer(s, canChange) {
    var tr = el('tr')
    tr.dataset.server = s.service + '/' + s.server
    tr.appendChild(td(s.service + ' / ' + s.server + (s.backup ? ' (backup)' : '')))
    tr.appendChild(td(s.address))
    var st = td(s.status, stateClass(s.status) + ' state')
    if (s.reason) st.title = s.reason
    tr.appendChild(st)
    tr.appendChild(td(s.effectiveWeight === s.weight ? s.weight : s.effectiveWeight + '/' + s.weight))
    tr.appendChild(td(s.checkStatus === null ? 'not checked' : s.checkStatus))
    var last = s.lastCheck ? s.lastCheck.result + ' in ' + s.lastCheck.duration + ' ms' + (s.lastCheck.detail ? ': ' + s.lastCheck.detail : '') : (s.reason || '')
    tr.appendChild(td(last, 'last-check'))
    var hist = td(null, 'hist')
    for (var j = 0; j < s.events.length; j++) {
      var e = s.events[j]
      var b = el('span', null, (e.kind === 'state' ? 'change ' : '') + (e.ok ? 'ok' : 'ko'))
      b.title = new Date(e.at).toLocaleTimeString() + ' ' + e.result + (e.detail ? ': ' + e.detail : '') + (e.kind === 'check' ? ' (' + e.duration + ' ms)' : '')
      hist.appendChild(b)
    }
    tr.appendChild(hist)
    var t = s.traffic
    tr.appendChild(td(t ? num(t.rps) : '-', 'num rps'))
    tr.appendChild(td(t ? num(t.r5xx) : '-', t && t.r5xx > 0 ? 'num r5xx bad' : 'num r5xx'))
    tr.appendChild(td(s.inflight + (s.maxconn ? '/' + s.maxconn : '') + (s.queued ? ' q' + s.queued : ''), 'num'))
    tr.appendChild(td(s.checks + ' (' + s.failedChecks + ')', 'num'))
    if (canChange) {
      var act = td(null, 'actions')
      ;['ready', 'drain', 'maint'].forEach(function (state) {
        var btn = el('button', state)
        btn.type = 'button'
        btn.dataset.action = state
        btn.disabled = s.admin === state
        btn.addEventListener('click', function () { post(s, 'state', state) })
        act.appendChild(btn)
      })
      var w = el('input')
      w.type = 'text'
      w.value = String(s.weight)
      w.title = '0..256 or N%'
      var wb = el('button', 'weight')
      wb.type = 'button'
      wb.dataset.action = 'weight'
      wb.addEventListener('click', function () { post(s, 'weight', w.value.trim()) })
      act.appendChild(w)
      act.appendChild(wb)
      tr.appendChild(act)
    }
    return tr
  }

  function renderRoutes() {
    var body = document.querySelector('#routes tbody')
    var rows = []
    var routes = lastRoutes ? lastRoutes.routes : []
    var byService = new Map()
    var servers = dash ? dash.servers : []
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
      if (rows.length >= 500) continue
      var sig = JSON.stringify(routes[i]) + r.servers.map(function (s) { return s.server + s.effectiveWeight + s.status }).join()
      rows.push(cachedRow('route ' + r.id, sig, buildRoute.bind(null, r)))
    }
    syncRows(body, rows)
    document.getElementById('routes-count').textContent = '(' + shown + ' of ' + routes.length + ')'
  }

  function buildRoute(r) {
    var tr = el('tr')
    tr.dataset.route = r.host + r.path
    tr.appendChild(td(r.host === '' ? '*' : r.host))
    tr.appendChild(td(r.path))
    tr.appendChild(td(r.service === '' ? '-' : r.service))
    var cell = td()
    for (var j = 0; j < r.servers.length; j++) {
      var s = r.servers[j]
      var span = el('span', null, 'srv')
      span.appendChild(el('span', s.server + ' (' + s.effectiveWeight + ') '))
      span.appendChild(el('span', s.status, stateClass(s.status)))
      cell.appendChild(span)
    }
    tr.appendChild(cell)
    var opts = []
    if (r.strip) opts.push('strip=' + r.strip)
    if (r.prepend) opts.push('prepend=' + r.prepend)
    if (r.redirect) opts.push('redirect ' + r.redirect.code + ' ' + r.redirect.url)
    if (r.allow.length) opts.push('allow ' + r.allow.join(','))
    if (r.deny.length) opts.push('deny ' + r.deny.join(','))
    tr.appendChild(td(opts.join('; ')))
    return tr
  }

  function renderAll() {
    if (!dash) return
    renderFailing()
    renderServices()
    renderServers()
    renderRoutes()
    rowCache.forEach(function (v, k) { if (!v.tr.isConnected) rowCache.delete(k) })
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
    var wantRoutes = lastRoutes === null || ticks++ % 8 === 0
    // The server picks the services (the most interesting first, at most 300) matching the filter.
    var q = '?q=' + encodeURIComponent(filterInput.value.trim())
    if (charted.length) q += '&series=' + charted.map(encodeURIComponent).join(',')
    Promise.all([wantRoutes ? getJson('/api/routes') : Promise.resolve(lastRoutes), getJson('/api/dashboard' + q)])
      .then(function (r) {
        lastRoutes = r[0]
        dash = r[1]
        renderAll()
        var c = dash.consul
        document.getElementById('consul-age').textContent = c ? 'Consul view: ' + age(c.ageSeconds) + (c.errors ? ' (' + c.errors + ' errors: ' + c.lastError + ')' : '') : ''
        setStatus('updated ' + new Date().toLocaleTimeString() + ' (table v' + lastRoutes.version + ', ' + dash.times.length + ' samples)', false)
      })
      .catch(function (e) { setStatus('update failed: ' + e.message, true) })
      .finally(function () { inFlight = false })
  }

  document.querySelectorAll('th.sort').forEach(function (th) {
    var table = th.closest('table').id
    th.addEventListener('click', function () {
      var s = sorts[table]
      if (s.key === th.dataset.key) s.dir = s.dir === 'asc' ? 'desc' : 'asc'
      else { s.key = th.dataset.key; s.dir = th.dataset.key === 'service' || th.dataset.key === 'name' ? 'asc' : 'desc' }
      document.querySelectorAll('#' + table + ' th.sort').forEach(function (h) { h.removeAttribute('data-dir') })
      th.dataset.dir = s.dir
      renderAll()
    })
  })
  document.getElementById('why').addEventListener('submit', function (ev) {
    ev.preventDefault()
    var out = document.getElementById('why-out')
    var u
    var typed = document.getElementById('why-url').value.trim()
    // A URL without a scheme (shop.example.com/cart) is read as http.
    if (!/^[a-z][a-z0-9+.-]*:/i.test(typed)) typed = 'http:' + '//' + typed
    try { u = new URL(typed) } catch (e) { out.textContent = 'not a URL: ' + e.message; return }
    var path = '/api/explain?format=text&host=' + encodeURIComponent(u.host) + '&path=' + encodeURIComponent(u.pathname + u.search)
    fetch(path, { cache: 'no-store' }).then(function (r) { return r.text() })
      .then(function (t) { out.textContent = t })
      .catch(function (e) { out.textContent = String(e) })
  })
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
  var filterTimer = null
  filterInput.addEventListener('input', function () {
    renderAll()
    // Ask the server too (it filters before its limit), once the typing pauses.
    clearTimeout(filterTimer)
    filterTimer = setTimeout(refresh, 300)
  })
  refresh()
  setInterval(refresh, 2000)
})()
`
