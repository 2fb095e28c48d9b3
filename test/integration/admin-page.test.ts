/**
 * The admin web page in a real browser: headless Debian `chromium` driven by playwright-core. Load the page
 * against a running lb with a few services, see the routes and the server states (and check history fill in),
 * filter, enter the admin token, drain a server through the page and see its state change in the page and in
 * the lb itself. A screenshot goes to test-artifacts/admin-page.png.
 *
 * Skipped only when /usr/bin/chromium is missing and LB_REQUIRE_BROWSER is not 1; .ci/run installs chromium
 * and sets LB_REQUIRE_BROWSER=1, so on CI a missing browser is a failure.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { chromium } from 'playwright-core'
import { checkDefaults } from '../../src/config/defaults.js'
import { startAdmin } from '../helpers/admin.js'
import { route, service } from '../helpers/lb.js'
import { repoRoot } from '../helpers/process.js'
import { deadPort, startUpstream } from '../helpers/upstream.js'

const executablePath = '/usr/bin/chromium'
const browserMissing = !existsSync(executablePath) && process.env.LB_REQUIRE_BROWSER !== '1'

test(
  'admin page in chromium: routes and states, live check history, filter, drain through the page',
  { skip: browserMissing ? `${executablePath} not installed (apt-get install -y chromium)` : false },
  async () => {
    const ups = await Promise.all(['u0', 'u1', 'u2'].map((n) => startUpstream(n)))
    const dead = await deadPort()
    const a = await startAdmin((c) => {
      c.admin.token = 'page-token'
      const web = service('web', [ups[0]?.port ?? 0, ups[1]?.port ?? 0])
      const api = service('api', [ups[2]?.port ?? 0, dead], {
        check: { ...checkDefaults, inter: 300, rise: 1, fall: 1 },
      })
      c.services = [web, api]
      c.routes = [
        route('example.com', '/', 'web'),
        route('*.example.com', '/api', 'api', { strip: '/api' }),
        route('', '/<b>&"x"', 'web'),
      ]
    })
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] })
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(String(e)))
      await page.goto(a.url + '/')

      // Routes: host, path, service and the servers with their states.
      await page.waitForSelector('#routes tbody tr[data-route="*.example.com/api"]')
      const wild = page.locator('#routes tbody tr[data-route="*.example.com/api"]')
      assert.deepEqual(
        await wild
          .locator('td')
          .allInnerTexts()
          .then((t) => t.slice(0, 3)),
        ['*.example.com', '/api', 'api'],
      )
      assert.equal(await page.locator('#routes tbody tr').count(), 3)
      // A value with markup is shown as text, not parsed.
      assert.equal(await page.locator('#routes td', { hasText: '/<b>&"x"' }).count(), 1)
      assert.equal(await page.locator('#routes b').count(), 0)

      // Servers: the checked ones get UP / DOWN and a check history from the live updates.
      const s0 = page.locator('#servers tr[data-server="web/s0"] td.state')
      assert.equal(await s0.innerText(), 'UP')
      await page.waitForSelector('#servers tr[data-server="api/s1"] td.state.DOWN')
      // At least 2 passed checks on the live server, 1 failed on the dead one.
      await page.locator('#servers tr[data-server="api/s0"] .hist span.ok').nth(1).waitFor()
      await page.locator('#servers tr[data-server="api/s1"] .hist span.ko').first().waitFor()

      // Read-only until a token is entered.
      assert.equal(await page.locator('#servers button[data-action]').count(), 0)

      // Filter.
      await page.fill('#filter', 'api')
      await page.locator('#servers tr[data-server="web/s0"]').waitFor({ state: 'detached' })
      assert.equal(await page.locator('#servers tbody tr').count(), 2)
      await page.fill('#filter', '')

      // Enter the token and drain web/s1 through the page.
      await page.fill('#token', 'page-token')
      await page.click('#save-token')
      const drain = page.locator('#servers tr[data-server="web/s1"] button[data-action="drain"]')
      await drain.click()
      await page.waitForSelector('#servers tr[data-server="web/s1"] td.state.DRAIN')
      const up = a.lb.worker.state.services.get('web')?.upstreams.find((u) => u.name === 's1')
      assert.equal(up?.admin, 'drain', 'the lb itself is draining the server')
      assert.equal(
        await page
          .locator('#routes tr[data-route="example.com/"]')
          .innerText()
          .then((t) => t.includes('DRAIN')),
        true,
      )
      assert.match(await page.locator('#message').innerText(), /web\/s1 → drain/)

      await mkdir(join(repoRoot, 'test-artifacts'), { recursive: true })
      await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'admin-page.png'), fullPage: true })

      // A wrong token is refused and the page says so.
      await page.fill('#token', 'wrong')
      await page.click('#save-token')
      await page.locator('#servers tr[data-server="web/s1"] button[data-action="ready"]').click()
      await page.locator('#message', { hasText: 'HTTP 401' }).waitFor()
      assert.equal(up?.admin, 'drain')
      assert.deepEqual(errors, [], 'no script errors')
    } finally {
      await browser.close()
      await a.close()
      await Promise.all(ups.map((u) => u.close()))
    }
  },
)
