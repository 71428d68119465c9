// Drives the dashboard in headless Chromium as an operator would: logs in (a wrong token
// first), watches a session appear and its traffic arrive without reloading, searches, mints
// a link and copies it, drains a container, expires a session, and checks labels, keyboard
// use and a narrow window. Usage: node browser_dashboard.mjs ADMIN_URL TOKEN PROXY_PORT
// SCREENSHOT; prints one JSON line of what it saw.
import { chromium } from 'playwright-core';
import http from 'node:http';

const [adminUrl, token, proxyPort, screenshot] = process.argv.slice(2);
const result = {};
const api = async (method, path, body) => {
  const res = await fetch(adminUrl + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.status;
};
const preview = (session, path) => new Promise((resolve, reject) => {
  const req = http.request({ host: '127.0.0.1', port: Number(proxyPort), path,
    headers: { Host: `${session}.preview.example.com` } }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode));
  });
  req.on('error', reject);
  req.end();
});
const row = (page, table, key) => page.locator(`#${table} tbody tr[data-key="${key}"]`);
const cell = async (page, table, key, column) =>
  (await row(page, table, key).locator('th, td').nth(column).textContent()).trim();

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: adminUrl });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await page.goto(adminUrl + '/');
  result.login_url = new URL(page.url()).pathname;
  result.login_label = await page.getByLabel('Admin token').count();
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  result.wrong_token_alert = (await page.getByRole('alert').textContent()).trim();
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForSelector('#sessions tbody tr');
  result.url_after_login = page.url();
  result.cookies = (await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));

  // From here on the console stays clean (the wrong token's 401 above is logged by design).
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text() + ' ' + JSON.stringify(m.location())); });
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });

  // A session created through the API appears by itself.
  result.created = await api('PUT', '/v1/sessions/live-1', { container_id: 'c1' });
  await row(page, 'sessions', 'live-1').waitFor({ timeout: 10000 });
  result.live_state = await cell(page, 'sessions', 'live-1', 1);
  // Traffic to it shows up in its row.
  for (let i = 0; i < 3; i++) await preview('live-1', '/');
  await preview('live-1', '/fail');
  await page.waitForFunction(() => {
    const tr = document.querySelector('#sessions tbody tr[data-key="live-1"]');
    return tr && tr.cells[8].textContent === '4' && tr.cells[9].textContent === '1';
  }, null, { timeout: 10000 });
  result.live_requests = await cell(page, 'sessions', 'live-1', 8);
  result.live_errors = await cell(page, 'sessions', 'live-1', 9);
  await page.waitForFunction(() => Array.from(document.querySelectorAll('#errors tbody tr'))
    .some((tr) => tr.cells[4].textContent === 'live-1' && tr.cells[1].textContent === '502'
      && tr.cells[3].textContent === 'GET /fail'), null, { timeout: 10000 });
  result.error_row = true;

  // Search (server-side): only matching rows stay.
  await page.getByLabel('Search sessions').fill('live');
  await page.waitForFunction(() => {
    const keys = Array.from(document.querySelectorAll('#sessions tbody tr')).map((tr) => tr.dataset.key);
    return keys.length === 1 && keys[0] === 'live-1';
  }, null, { timeout: 10000 });
  result.search_rows = await page.locator('#sessions tbody tr').count();

  // Mint a link, copy it.
  await row(page, 'sessions', 'live-1').getByRole('button', { name: 'Link session live-1' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Mint link', exact: true }).click();
  await page.locator('#link[open]').waitFor();
  result.link_query = await page.locator('#link-query').inputValue();
  await page.getByRole('button', { name: 'Copy' }).click();
  result.clipboard = await page.evaluate(() => navigator.clipboard.readText());
  await page.keyboard.press('Escape');
  await page.locator('#link[open]').waitFor({ state: 'detached' });

  // Drain a container: cancel first (nothing happens), then confirm.
  await row(page, 'containers', 'c2').getByRole('button', { name: 'Drain container c2' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await page.waitForTimeout(1500);
  result.after_cancel = await cell(page, 'containers', 'c2', 1);
  await row(page, 'containers', 'c2').getByRole('button', { name: 'Drain container c2' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Mark draining' }).click();
  await page.waitForFunction(() => {
    const tr = document.querySelector('#containers tbody tr[data-key="c2"]');
    return tr && tr.cells[1].textContent === 'draining';
  }, null, { timeout: 10000 });
  result.drained = await cell(page, 'containers', 'c2', 1);

  // Expire a session, with the keyboard: focus its button, Enter, then confirm.
  await row(page, 'sessions', 'live-1').getByRole('button', { name: 'Expire session live-1' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').getByRole('button', { name: 'Expire session' }).focus();
  await page.keyboard.press('Enter');
  await row(page, 'sessions', 'live-1').waitFor({ state: 'detached', timeout: 10000 });
  result.expired_status = await api('GET', '/v1/sessions/live-1');

  // Every control has a name a screen reader can say.
  result.unlabelled = await page.evaluate(() => Array.from(document.querySelectorAll('input, select, button'))
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
    .map((el) => el.outerHTML));
  // Every piece of text has at least 4.5:1 contrast with what is behind it (WCAG AA; disabled
  // controls are exempt).
  result.low_contrast = await page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const low = [];
    for (const el of document.querySelectorAll('body *')) {
      const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
      const st = getComputedStyle(el);
      if (!own || el.disabled || el.closest('dialog:not([open])') || st.visibility === 'hidden' || st.opacity === '0') continue;
      const a = lum(rgb(st.color).slice(0, 3));
      const b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) low.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    return low;
  });
  // Tab from the top reaches the search field.
  await page.getByLabel('Search sessions').fill('');
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  let reached = false;
  for (let i = 0; i < 10 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'q');
  }
  result.tab_reaches_search = reached;

  await page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr').length >= 3, null, { timeout: 10000 });
  await page.waitForTimeout(1200);
  await page.evaluate(() => { document.getElementById('toast').className = ''; });
  await page.waitForTimeout(300);
  await page.screenshot({ path: screenshot, fullPage: true });
  // A phone-sized window: the page itself never scrolls sideways (tables scroll in their box).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  result.narrow_overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  result.navigations = navigations;
  result.page_errors = errors;
} catch (e) {
  result.error = String(e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
