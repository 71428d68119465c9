// Path mode with several sessions in one browser (one origin, one cookie jar): headless
// Chromium opens sessions in tabs, edits their CSS and reports what each page shows. With the
// session worker each page's requests outside the prefix carry its session; the control run
// (a rule without it) shows what the Referer and the cookie alone do.
// Usage: node browser_session_worker.mjs CONFIG_JSON; prints one JSON line.
// CONFIG: {origin, port, spki, scenario: "hmr"|"control"|"streams", ids: [3 session ids],
//          sites: {sid: dir}, style: {file, text}, admin, token}
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const cfg = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--host-resolver-rules=MAP * 127.0.0.1:${cfg.port}`,
    `--ignore-certificate-errors-spki-list=${cfg.spki}`,
  ],
});
const ctx = await browser.newContext();
const result = { scenario: cfg.scenario, failed: [] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function open(sid, { expectWorker = true } = {}) {
  const page = await ctx.newPage();
  page.on('response', (r) => { if (r.status() >= 400) result.failed.push(`${r.status()} ${r.url()}`); });
  const hmr = new Promise((resolve) => page.on('websocket', resolve));
  await page.goto(`${cfg.origin}/session/${sid}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => (document.querySelector('#title')?.textContent ?? '').startsWith('hello from'));
  if (expectWorker) {
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15000 });
  }
  page.hmr = hmr;
  await page.evaluate(() => { window.sgMarker = 'kept'; });
  return page;
}
const title = (p) => p.evaluate(() => document.querySelector('#title').textContent);
const color = (p) => p.evaluate(() => getComputedStyle(document.querySelector('#title')).color);
const controlled = (p) => p.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
const marker = (p) => p.evaluate(() => window.sgMarker ?? null);
// The session's stylesheet with a new colour (cfg.style: the file and its text, %s the colour).
function edit(sid, rgb) {
  writeFileSync(join(cfg.sites[sid], cfg.style.file), cfg.style.text.replace('%s', rgb));
}
// True when the page's title takes `rgb` within `ms`.
async function becomes(p, rgb, ms = 10000) {
  return p.waitForFunction(
    (want) => getComputedStyle(document.querySelector('#title')).color === want, rgb, { timeout: ms })
    .then(() => true, () => false);
}
async function state(p) {
  return { title: await title(p), color: await color(p), marker: await marker(p), worker: await controlled(p) };
}

// Three sessions of one kind of dev server (cfg.ids), the first two side by side in tabs.
async function hmrScenario(withWorker) {
  const [a, b, c] = cfg.ids;
  const one = await open(a, { expectWorker: withWorker });
  const two = await open(b, { expectWorker: withWorker });
  await Promise.all([one.hmr, two.hmr]);
  await sleep(800);  // the file watchers settle
  edit(a, 'rgb(1, 100, 1)');
  result.first_edit = { updated: await becomes(one, 'rgb(1, 100, 1)'), first: await state(one), second: await state(two) };
  if (!withWorker) return;
  edit(b, 'rgb(2, 100, 2)');
  result.second_edit = { updated: await becomes(two, 'rgb(2, 100, 2)'), first: await state(one), second: await state(two) };
  await one.reload({ waitUntil: 'load' });
  await one.waitForFunction(() => (document.querySelector('#title')?.textContent ?? '').startsWith('hello from'));
  result.first_reload = await state(one);
  // A third session opened (the cookie now names it) and closed again.
  const three = await open(c);
  result.third = await state(three);
  await three.close();
  await sleep(800);
  edit(a, 'rgb(3, 100, 3)');
  result.after_third = { updated: await becomes(one, 'rgb(3, 100, 3)'), first: await state(one), second: await state(two) };
}

// SSE, a 100 MiB download and a POST made at the root by a controlled page of session t4
// (served by the test's own upstream) while the cookie names t1; then t4's app registers a
// worker of its own on session t5, and t4 is deleted.
async function streamsScenario() {
  const t4 = await open('t4');
  await open('t1');  // the cookie now names t1: only the worker can take t4's requests to t4
  result.streams = await t4.evaluate(async () => {
    const out = {};
    out.events = await new Promise((resolve) => {
      const got = [];
      const es = new EventSource('/events');
      es.onmessage = (e) => { got.push(e.data); if (got.length === 3) { es.close(); resolve(got); } };
      es.onerror = () => { es.close(); resolve(got.concat(['error'])); };
    });
    const big = await fetch('/big');
    out.big_from = big.headers.get('x-upstream');
    let n = 0;
    const reader = big.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
    }
    out.big_bytes = n;
    const body = 'x'.repeat(1 << 20);
    const post = await fetch('/echo', { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } });
    out.post = await post.text();
    return out;
  });
  // An app with a worker of its own on its session's scope: it wins, nothing breaks.
  const t5 = await open('t5', { expectWorker: false });
  await t5.waitForFunction(() => navigator.serviceWorker.controller?.scriptURL.endsWith('/app-sw.js'),
    null, { timeout: 15000 }).catch(() => {});

  await t5.reload({ waitUntil: 'load' });
  await t5.waitForFunction(() => (document.querySelector('#title')?.textContent ?? '').startsWith('hello from'));
  await sleep(500);
  result.own_worker = { ...(await state(t5)),
    ping: await t5.evaluate(() => fetch('/ping').then((r) => r.text())) };
  // The session goes while its worker is installed: the next load is the 404 page, and the
  // worker is gone after it.
  const del = await fetch(`${cfg.admin}/v1/sessions/t4`, {
    method: 'DELETE', headers: { Authorization: `Bearer ${cfg.token}` } });
  result.deleted = del.status;
  const before = await t4.evaluate(() => navigator.serviceWorker.getRegistration(location.href)
    .then((r) => r?.active?.scriptURL ?? null));
  const res = await t4.reload({ waitUntil: 'load' });
  await sleep(1000);
  result.after_delete = { status: res.status(), worker_before: before,
    worker_after: await t4.evaluate(() => navigator.serviceWorker.getRegistration(location.href)
      .then((r) => r?.active?.scriptURL ?? null)) };
}

try {
  if (cfg.scenario === 'streams') await streamsScenario();
  else await hmrScenario(cfg.scenario === 'hmr');
} catch (e) {
  result.error = String(e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
