// Opens a preview through sessiongate in headless Chromium, edits the page's CSS and reports
// whether the new style arrived in place (hot module replacement) or by navigating again.
// Usage: node browser_hmr.mjs URL SITE_DIR PROXY_PORT [SPKI]; prints one JSON line. SPKI: the
// base64 SHA-256 of the test certificate's key, the one certificate an https run trusts.
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, site, port, spki] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    // Every preview host name is this machine's sessiongate.
    `--host-resolver-rules=MAP * 127.0.0.1:${port}`,
    ...(spki ? [`--ignore-certificate-errors-spki-list=${spki}`] : []),
  ],
});
const result = { url };
try {
  const page = await browser.newPage();
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
  page.on('websocket', (ws) => { result.hmr = ws.url(); });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelector('#title').textContent === 'hello from vite');
  const color = () => page.evaluate(() => getComputedStyle(document.querySelector('#title')).color);
  result.before = await color();
  await page.evaluate(() => { window.sgMarker = 'kept'; });
  // The HMR socket is open once Vite's client has logged its connection.
  await page.waitForFunction(() => performance.getEntriesByType('resource')
    .some((e) => e.name.includes('@vite/client')));
  await new Promise((r) => setTimeout(r, 500));  // the file watcher settles
  writeFileSync(join(site, 'style.css'), '#title { color: rgb(200, 30, 40); }\n');
  await page.waitForFunction(
    () => getComputedStyle(document.querySelector('#title')).color === 'rgb(200, 30, 40)',
    null, { timeout: 15000 });
  result.after = await color();
  result.marker = await page.evaluate(() => window.sgMarker ?? null);
  result.navigations = navigations;
  result.document_protocol = await page.evaluate(
    () => performance.getEntriesByType('navigation')[0].nextHopProtocol);
  result.module_protocols = await page.evaluate(() => [...new Set(
    performance.getEntriesByType('resource').map((e) => e.nextHopProtocol))]);
  result.failed = failed;
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
