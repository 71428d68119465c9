// The dashboard page: one event stream carries a snapshot a second for the page, search and
// filter shown; actions go through the admin API with the login cookie and the header that
// proves the call comes from this page.
'use strict';

const $ = (id) => document.getElementById(id);
const view = { q: '', state: '', sort: 'id', page: 0, cq: '', cpage: 0 };
const pageSize = 50;
let source = null;
let latest = null;

function query() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(view)) {
    if (v !== '' && v !== 0 && !(k === 'sort' && v === 'id')) p.set(k, String(v));
  }
  p.set('size', String(pageSize));
  return p.toString();
}

function connect() {
  if (source) source.close();
  source = new EventSource('/dashboard/events?' + query());
  source.onopen = () => setLive('live', true);
  source.onmessage = (e) => render(JSON.parse(e.data));
  source.addEventListener('logout', () => location.reload());
  source.onerror = () => {
    setLive('reconnecting…', false);
    // Closed for good (the login expired, or too many windows): the page shows why.
    if (source.readyState === EventSource.CLOSED) setTimeout(() => location.reload(), 5000);
  };
}

function setLive(text, ok) {
  const el = $('live');
  el.textContent = text;
  el.classList.toggle('down', !ok);
}

// ---- formatting ----

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.floor(Math.abs(ms) / 1000);
  const sign = ms < 0 ? '-' : '';
  if (s < 60) return sign + s + 's';
  if (s < 3600) return sign + Math.floor(s / 60) + 'm ' + (s % 60) + 's';
  if (s < 86400) return sign + Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  return sign + Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
}

function bytes(n) {
  if (n < 1000) return n + ' B';
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return v.toFixed(v < 10 ? 1 : 0) + ' ' + units[u];
}

function text(v) {
  return v === null || v === undefined || v === '' ? '—' : String(v);
}

// ---- rendering: rows are kept by key, so focus and selection survive each update ----

function syncRows(tbody, rows, key, cells, actions) {
  const old = new Map();
  for (const tr of Array.from(tbody.rows)) old.set(tr.dataset.key, tr);
  rows.forEach((row, i) => {
    const k = key(row);
    let tr = old.get(k);
    old.delete(k);
    const values = cells(row);
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.key = k;
      values.forEach((_, c) => tr.appendChild(document.createElement(c === 0 ? 'th' : 'td')));
      tr.cells[0].scope = 'row';
      if (actions) {
        const td = document.createElement('td');
        td.className = 'actions';
        actions(row, td);
        tr.appendChild(td);
      }
    }
    values.forEach((v, c) => {
      const cell = tr.cells[c];
      const [content, cls] = Array.isArray(v) ? v : [v, ''];
      if (cell.textContent !== content) cell.textContent = content;
      if (cell.className !== cls) cell.className = cls;
    });
    tr.rowData = row;
    if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null);
  });
  for (const tr of old.values()) tr.remove();
}

function render(s) {
  latest = s;
  renderHealth(s.health, s.time_ms);
  const ss = s.sessions;
  $('sessions-count').textContent = '(' + ss.matched + (ss.matched !== ss.total ? ' of ' + ss.total : '') + ')';
  $('window-caption').textContent =
    'Requests, errors (5xx) and bytes over the last ' + Math.round(ss.window_ms / 60000) + ' minutes' +
    '; states: ' + Object.entries(ss.by_state).map(([k, v]) => k + ' ' + v).join(', ');
  syncRows($('sessions').tBodies[0], ss.rows, (r) => r.id, (r) => [
    r.id, [r.state, 'state ' + r.state], text(r.container), text(r.address), text(r.generation),
    duration(r.lease_left_ms), duration(r.idle_ms), String(r.tunnels), String(r.requests),
    [String(r.errors), r.errors > 0 ? 'bad' : ''], bytes(r.bytes),
  ], sessionActions);
  pager('range', 'prev', 'next', ss.page, ss.size, ss.matched);

  const cs = s.containers;
  $('containers-count').textContent = '(' + cs.matched + (cs.matched !== cs.total ? ' of ' + cs.total : '') + ')';
  syncRows($('containers').tBodies[0], cs.rows, (r) => r.id, (r) => [
    r.id, [r.state, 'state ' + r.state], r.address, String(r.generation),
    duration(r.lease_left_ms), String(r.sessions),
  ], containerActions);
  for (const tr of $('containers').tBodies[0].rows) {
    tr.querySelector('button').disabled = tr.rowData.status === 'draining';
  }
  pager('crange', 'cprev', 'cnext', cs.page, cs.size, cs.matched);

  syncRows($('errors').tBodies[0], s.errors, (e) => e.time_ms + ' ' + text(e.request_id) + ' ' + e.status, (e) => [
    new Date(e.time_ms).toLocaleTimeString(), [String(e.status), 'bad'], e.outcome,
    e.method ? e.method + ' ' + text(e.path) : '—', text(e.session), text(e.request_id),
  ]);
}

function renderHealth(h, now) {
  const items = [
    ['Status', h.ready ? 'ready' : 'not ready', h.ready ? '' : 'bad'],
    ['Version', h.version],
    ['Up', duration(h.uptime_ms)],
    ['Workers', h.workers],
    ['Connections', h.connections + (h.h2_connections ? ' (' + h.h2_connections + ' h2)' : '')],
    ['Tunnels', h.tunnels],
    ['Routes', h.routes],
    ['Config generation', h.config_generation],
    ['Store', h.store.type + (h.store.ok ? '' : ' (unreachable)'), h.store.ok ? '' : 'bad'],
  ];
  if (h.store.shared) {
    items.push(['Change feed', h.store.feed + (h.store.feed_detail ? ': ' + h.store.feed_detail : ''),
                h.store.feed === 'up' ? '' : 'bad']);
    items.push(['Last resync', h.store.last_resync_at_ms ? duration(now - h.store.last_resync_at_ms) + ' ago' : 'never']);
  }
  if (h.detail) items.push(['Detail', h.detail, 'bad']);
  const dl = $('health');
  dl.replaceChildren();
  for (const [k, v, cls] of items) {
    const div = document.createElement('div');
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = String(v);
    if (cls) dd.className = cls;
    div.append(dt, dd);
    dl.appendChild(div);
  }
}

function pager(rangeId, prevId, nextId, page, size, matched) {
  const first = matched === 0 ? 0 : page * size + 1;
  $(rangeId).textContent = first + '–' + Math.min(matched, (page + 1) * size) + ' of ' + matched;
  $(prevId).disabled = page === 0;
  $(nextId).disabled = (page + 1) * size >= matched;
}

// ---- actions ----

// `what` names the row for a screen reader ("Expire" alone does not say which session).
function button(label, what, onClick, cls) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.setAttribute('aria-label', label + ' ' + what);
  if (cls) b.className = cls;
  b.addEventListener('click', onClick);
  return b;
}

function sessionActions(row, td) {
  const id = row.id;
  td.append(
    button('Link', 'session ' + id, () => confirmThen('Mint a preview link for session ' + id + '?', 'Mint link',
      () => api('POST', '/v1/sessions/' + encodeURIComponent(id) + '/links', {}).then(showLink)), ''),
    button('Revoke links', 'of session ' + id, () => confirmThen('Revoke every preview link of session ' + id +
      '? Anyone using one loses access.', 'Revoke links',
      () => api('POST', '/v1/sessions/' + encodeURIComponent(id) + '/revoke-links')
        .then(() => toast('Links of ' + id + ' revoked'))), ''),
    button('Expire', 'session ' + id, () => confirmThen('Expire session ' + id + '? Its preview stops at once ' +
      'and its record is deleted.', 'Expire session',
      () => api('DELETE', '/v1/sessions/' + encodeURIComponent(id))
        .then(() => toast('Session ' + id + ' expired'))), 'danger'));
}

function containerActions(row, td) {
  td.append(button('Drain', 'container ' + row.id, () => {
    const c = td.parentElement.rowData;
    confirmThen('Mark container ' + c.id + ' draining? It keeps serving what it serves but ' +
      'should take no new work.', 'Mark draining',
      () => api('PUT', '/v1/containers/' + encodeURIComponent(c.id),
        { address: c.address, status: 'draining', lease_ttl: c.lease_ttl_ms })
        .then(() => toast('Container ' + c.id + ' is draining')));
  }, 'danger'));
}

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { 'X-Sessiongate-Dashboard': '1' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) {
    const why = data.message || res.statusText;
    toast(method + ' ' + path + ' failed: ' + why, true);
    throw new Error(why);
  }
  return data;
}

function confirmThen(message, label, action) {
  const d = $('confirm');
  $('confirm-text').textContent = message;
  $('confirm-ok').textContent = label;
  d.returnValue = '';
  d.onclose = () => { if (d.returnValue === 'ok') action().catch(() => {}); };
  d.showModal();
}

function showLink(data) {
  $('link-text').textContent = 'Session ' + data.session + ', valid until ' +
    new Date(data.expires_at).toLocaleString() + '.';
  $('link-query').value = '?' + data.query;
  $('link').showModal();
  $('link-query').select();
}

async function copyLink() {
  const value = $('link-query').value;
  try {
    await navigator.clipboard.writeText(value);
  } catch {
    $('link-query').select();
    document.execCommand('copy');
  }
  toast('Copied');
}

let toastTimer = 0;
function toast(message, bad) {
  const t = $('toast');
  t.textContent = message;
  t.className = 'shown' + (bad ? ' bad' : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = ''; }, 6000);
}

// ---- controls ----

function debounce(fn, ms) {
  let timer = 0;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function init() {
  const research = debounce(() => { view.page = 0; view.cpage = 0; connect(); }, 250);
  $('q').addEventListener('input', (e) => { view.q = e.target.value.trim(); research(); });
  $('cq').addEventListener('input', (e) => { view.cq = e.target.value.trim(); research(); });
  $('state').addEventListener('change', (e) => { view.state = e.target.value; view.page = 0; connect(); });
  $('sort').addEventListener('change', (e) => { view.sort = e.target.value; view.page = 0; connect(); });
  $('prev').addEventListener('click', () => { view.page = Math.max(0, view.page - 1); connect(); });
  $('next').addEventListener('click', () => { view.page++; connect(); });
  $('cprev').addEventListener('click', () => { view.cpage = Math.max(0, view.cpage - 1); connect(); });
  $('cnext').addEventListener('click', () => { view.cpage++; connect(); });
  $('copy').addEventListener('click', copyLink);
  connect();
}

document.addEventListener('DOMContentLoaded', init);
