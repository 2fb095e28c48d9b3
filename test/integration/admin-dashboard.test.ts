/**
 * The admin dashboard in a real browser (headless Debian `chromium`, playwright-core) against a running lb under
 * traffic with one failing server: service `shop` has s0, which answers 200, and s1, which answers every request
 * with 503 and then fails its HTTP check too. Three traffic samples are taken by hand (the primary takes one every
 * `admin.sample_interval`), 10 s apart on the sampler's clock, 20 and then 40 requests between them. What a person sees is asserted: non-zero request
 * rates, s1's 5xx rate and its DOWN state with the check's reason (`L7STS 503`) in the state, last-check,
 * history and "failing now" parts, a chart with data points, and the "why" box's answer for a URL. Screenshots go
 * to test-artifacts/admin-dashboard.png and test-artifacts/admin-dashboard-why.png.
 *
 * Skipped only when /usr/bin/chromium is missing and LB_REQUIRE_BROWSER is not 1 (as admin-page.test.ts).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { chromium } from 'playwright-core'
import { checkDefaults } from '../../src/config/defaults.js'
import { counted, startAdmin } from '../helpers/admin.js'
import { get } from '../helpers/client.js'
import { route, service } from '../helpers/lb.js'
import { repoRoot } from '../helpers/process.js'
import { startUpstream } from '../helpers/upstream.js'

const executablePath = '/usr/bin/chromium'
const browserMissing = !existsSync(executablePath) && process.env.LB_REQUIRE_BROWSER !== '1'

test(
  'admin dashboard in chromium: rates, a failing server DOWN with its reason, charts, why',
  { skip: browserMissing ? `${executablePath} not installed (apt-get install -y chromium)` : false },
  async () => {
    const good = await startUpstream('good')
    let checkOk = true
    const bad = await startUpstream('bad', (req, res) => {
      req.resume()
      const status = req.url === '/health' && checkOk ? 200 : 503
      res.writeHead(status, { 'content-type': 'text/plain' })
      res.end(status === 200 ? 'ok' : 'unavailable')
    })
    const a = await startAdmin((c) => {
      c.services = [
        service('shop', [good.port, bad.port], {
          check: {
            ...checkDefaults,
            type: 'http',
            inter: 200,
            // The check's own timeout, not `inter`: a loaded machine must not turn the 503 into an L7TOUT.
            timeout: 2_000,
            rise: 1,
            fall: 1,
            http: { ...checkDefaults.http, path: '/health' },
          },
        }),
      ]
      c.routes = [route('shop.example.com', '/', 'shop')]
    })
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    try {
      // Three samples 10 s apart (on the sampler's clock): 20 requests, then 40, in roundrobin (half to s1: 503).
      const t0 = Date.now()
      a.sample(t0)
      const statuses: number[] = []
      const send = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++)
          statuses.push((await get(a.lb.url, '/', { host: 'shop.example.com' })).status)
        // lb counts a request where it writes its access line, maybe just after the client has the answer.
        await counted(a.lb.access, statuses.length)
      }
      await send(20)
      a.sample(t0 + 10_000)
      await send(40)
      assert.equal(statuses.filter((s) => s === 503).length, 30)
      // s1's check starts failing: it goes DOWN at its next check (fall 1).
      checkOk = false
      const s1 = a.lb.worker.state.services.get('shop')?.upstreams.find((u) => u.name === 's1')
      // The worker applies each status before later listeners hear of it (src/process/local.ts).
      await new Promise<void>((resolve) => a.lb.health.subscribe(() => s1?.up === false && resolve()))
      a.sample(t0 + 20_000)

      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(String(e)))
      await page.goto(a.url + '/')

      // The service, latest sample: 40 requests in 10 s = 4 req/s, 2 of them 5xx/s, latencies measured.
      const shop = page.locator('#services tr[data-service="shop"]')
      await shop.waitFor()
      assert.equal(await shop.locator('td[data-key="rps"]').innerText(), '4.0')
      assert.equal(await shop.locator('td[data-key="r2xx"]').innerText(), '2.0')
      assert.equal(await shop.locator('td[data-key="r5xx"]').innerText(), '2.0')
      assert.ok(Number(await shop.locator('td[data-key="p99"]').innerText()) > 0, 'p99 is shown')
      // A chart with a point per sample since the first request for both lines (req/s and 5xx/s), rising.
      const chart = shop.locator('td.chart-rps svg.chart')
      assert.equal(await chart.getAttribute('data-points'), '4')
      assert.equal(await chart.locator('polyline.l-rps').getAttribute('data-values'), '2,4')
      assert.equal(await chart.locator('polyline.l-5xx').getAttribute('data-values'), '1,2')

      // The failing server: DOWN, its 5xx rate, its check reason, the history with the state change.
      const row = page.locator('#servers tr[data-server="shop/s1"]')
      await row.locator('td.state.DOWN').waitFor()
      assert.equal(await row.locator('td.r5xx').innerText(), '2.0')
      assert.match(await row.locator('td.last-check').innerText(), /^L7STS 503/)
      assert.ok((await row.locator('.hist span.ok').count()) >= 1, 'passed checks before')
      const change = row.locator('.hist span.change.ko')
      assert.equal(await change.count(), 1, 'one state change: DOWN')
      assert.match((await change.getAttribute('title')) ?? '', /DOWN: L7STS 503/)
      const s0 = page.locator('#servers tr[data-server="shop/s0"]')
      assert.equal(await s0.locator('td.state').innerText(), 'UP')
      assert.equal(await s0.locator('td.r5xx').innerText(), '0.0')

      // "Failing now" names s1 with the reason, then the service's 5xx rate.
      const failing = page.locator('#failing li[data-failing="shop/s1"]')
      assert.match(await failing.innerText(), /DOWN: L7STS 503/)
      assert.match(
        await page.locator('#failing li').nth(1).innerText(),
        /shop \(service\): 2 5xx\/s of 4 req\/s/,
      )

      await mkdir(join(repoRoot, 'test-artifacts'), { recursive: true })
      await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'admin-dashboard.png'), fullPage: true })

      // Why: the route and the server the next request would reach (s1 is not eligible: down).
      await page.fill('#why-url', 'http://shop.example.com/cart')
      await page.click('#why button[type="submit"]')
      await page.locator('#why-out', { hasText: 'next pick: s0' }).waitFor()
      assert.match(await page.locator('#why-out').innerText(), /✗ s1 .*DOWN: HTTP\/1.1 503/)
      await page.locator('#why-out').scrollIntoViewIfNeeded()
      await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'admin-dashboard-why.png') })

      // Sorting by a click: by name s0 comes first; by 5xx/s (descending) the failing s1 does.
      assert.equal(await page.locator('#servers tbody tr').first().getAttribute('data-server'), 'shop/s0')
      await page.click('#servers th[data-key="r5xx"]')
      assert.equal(await page.locator('#servers tbody tr').first().getAttribute('data-server'), 'shop/s1')
      assert.deepEqual(errors, [], 'no script errors')
    } finally {
      await browser.close()
      await a.close()
      await good.close()
      await bad.close()
    }
  },
)
