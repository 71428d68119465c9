// Preview page load in headless Chromium: node pageload.mjs REPS URL... ; prints one JSON line
// per URL: cold loads (a fresh browser context each: no cache, new connections) and warm loads
// (the same context again: cached modules revalidated), each timed from navigation to the
// page's ready marker (#out reads "ready" once every module has run). Host names resolve to
// loopback; certificates are the bench's own.
import { createRequire } from 'node:module';

// playwright-core comes from the e2e tests' lock file (tests/e2e); PW_FROM names that directory.
const { chromium } = createRequire(`${process.env.PW_FROM}/`)('playwright-core');

const [reps, ...urls] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--ignore-certificate-errors', '--host-resolver-rules=MAP *.bench.test 127.0.0.1'],
});
const timed = async (page, url) => {
  const t = performance.now();
  await page.goto(url, { waitUntil: 'commit', timeout: 120000 });
  await page.waitForFunction(() => document.getElementById('out')?.textContent === 'ready',
    null, { timeout: 120000, polling: 5 });
  return Math.round(performance.now() - t);
};
for (const url of urls) {
  const cold = []; const warm = []; let proto = '?'; let requests = 0;
  for (let i = 0; i < Number(reps); i++) {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    let n = 0;
    page.on('request', () => { n += 1; });
    cold.push(await timed(page, url));
    requests = n;
    proto = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
    warm.push(await timed(page, url));
    await ctx.close();
  }
  console.log(JSON.stringify({ url, proto, requests, cold, warm }));
}
await browser.close();
