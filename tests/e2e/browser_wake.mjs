// A person opens a sleeping preview in headless Chromium: the live starting page shows, then
// turns into the preview by itself once the container is ready. The platform then puts the
// container to sleep while the page is open (a signed stop call to the orchestrator, then the
// container registered as sleeping); the page's HMR client reconnects, which wakes the
// container again, and the page recovers without a manual reload.
// Usage: node browser_wake.mjs URL PROXY_PORT ORCHESTRATOR_URL ADMIN_URL CONTAINER [SCREENSHOT]
// (SG_WAKE_SECRET and SESSIONGATE_TOKEN from the environment); prints one JSON line.
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';

const [url, port, orchestrator, admin, container, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP * 127.0.0.1:${port}`],
});
const result = { url };
try {
  const page = await browser.newPage({ viewport: { width: 720, height: 420 } });
  const first = await page.goto(url, { waitUntil: 'load' });
  result.first_status = first.status();
  // From the response, not the DOM: the page may already have turned into the preview.
  const html = await first.text();
  result.first_title = (html.match(/<title>([^<]*)<\/title>/) || [])[1];
  result.first_text = (html.match(/<p id="sg-what">([^<]*)<\/p>/) || [])[1];
  if (screenshot) await page.screenshot({ path: screenshot }).catch(() => {});
  const began = Date.now();
  await page.waitForFunction(() => document.querySelector('#title')?.textContent === 'hello from vite',
    null, { timeout: 30000 });
  result.switched_ms = Date.now() - began;
  await page.evaluate(() => { window.sgMarker = 'before sleep'; });
  await page.waitForFunction(() => performance.getEntriesByType('resource')
    .some((e) => e.name.includes('@vite/client')));
  await new Promise((r) => setTimeout(r, 800));  // the HMR socket is up
  // The platform stops the container and records it as sleeping.
  const body = JSON.stringify({ action: 'stop', session: 'e2e', container, reason: 'test', request_id: 'stop-1' });
  const ts = Math.floor(Date.now() / 1000).toString();
  const sig = 'sha256=' + createHmac('sha256', process.env.SG_WAKE_SECRET).update(`${ts}.${body}`).digest('hex');
  const stop = await fetch(orchestrator, { method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Sessiongate-Timestamp': ts, 'X-Sessiongate-Signature': sig } });
  result.stop_status = stop.status;
  const c = await (await fetch(`${admin}/v1/containers/${container}`,
    { headers: { Authorization: `Bearer ${process.env.SESSIONGATE_TOKEN}` } })).json();
  const mark = await fetch(`${admin}/v1/containers/${container}`, { method: 'PUT',
    headers: { Authorization: `Bearer ${process.env.SESSIONGATE_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ address: c.address, status: 'sleeping' }) });
  result.mark_status = mark.status;
  // Vite's client sees its socket close, waits for the server to answer again (which wakes
  // the container through sessiongate) and reloads the page.
  await page.waitForFunction(
    () => window.sgMarker === undefined && document.querySelector('#title')?.textContent === 'hello from vite',
    null, { timeout: 40000 });
  result.recovered = true;
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
