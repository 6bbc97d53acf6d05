// Shared helpers of the Cairn UI: API calls, DOM building, durations and times.
// Every piece of data reaches the page through text nodes (h() / textContent),
// never innerHTML, so label values cannot inject markup.

// Calls a Prometheus HTTP API endpoint and returns its `data`, or throws an Error
// whose message carries the API's errorType and error.
export async function api(path, params = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null) qs.append(k, String(v));
  }
  const url = qs.toString() ? `${path}?${qs}` : path;
  let resp;
  try {
    resp = await fetch(url, { headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new Error(`cannot reach the server (${e.message})`);
  }
  let body = null;
  try {
    body = await resp.json();
  } catch (e) {
    if (resp.status === 404) throw new Error(`${path} is not available on this server (HTTP 404)`);
    throw new Error(`${path}: HTTP ${resp.status} ${resp.statusText} (not a JSON response)`);
  }
  if (!resp.ok || body.status !== 'success') {
    const type = body.errorType ? `${body.errorType}: ` : '';
    throw new Error(`${type}${body.error || `HTTP ${resp.status}`}`);
  }
  return { data: body.data, warnings: body.warnings || [] };
}

// h('div', {class: 'x', onclick: f}, child, 'text', [more]) builds an element.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) appendChildren(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function errorBox(message) {
  return h('div', { class: 'alert alert-error', role: 'alert' }, message);
}

export function warningBox(messages) {
  if (!messages || messages.length === 0) return null;
  return h('div', { class: 'alert alert-warning' }, messages.map((m) => h('div', {}, m)));
}

// Prometheus duration syntax: 1y2w3d4h5m6s7ms (each unit at most once, in order).
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86400e3, 7 * 86400e3, 86400e3, 3600e3, 60e3, 1e3, 1];
const UNIT_NAMES = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];

// Milliseconds, or null when `s` is not a valid non-zero duration.
export function parseDuration(s) {
  s = (s || '').trim();
  if (s === '') return null;
  const m = DURATION_RE.exec(s);
  if (!m) return null;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1]) ms += Number(m[i + 1]) * UNIT_MS[i];
  return ms > 0 ? ms : null;
}

export function formatDuration(ms) {
  if (ms <= 0) return '0s';
  let out = '';
  for (let i = 0; i < UNIT_MS.length; i++) {
    const n = Math.floor(ms / UNIT_MS[i]);
    if (n > 0) {
      out += n + UNIT_NAMES[i];
      ms -= n * UNIT_MS[i];
    }
  }
  return out;
}

export function useLocalTime() {
  return typeof localStorage !== 'undefined' && localStorage.getItem('cairn.useLocalTime') === '1';
}

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

// "2006-01-02 15:04:05" in UTC or local time: the format of Prometheus' end_input.
export function formatTime(ms, local = useLocalTime()) {
  const d = new Date(ms);
  if (local) {
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
        `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// Parses formatTime's output (also without seconds, or a bare date); null if invalid.
export function parseTime(s, local = useLocalTime()) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec((s || '').trim());
  if (!m) return null;
  const p = m.slice(1).map((x) => Number(x || 0));
  const ms = local ? new Date(p[0], p[1] - 1, p[2], p[3], p[4], p[5]).getTime()
                   : Date.UTC(p[0], p[1] - 1, p[2], p[3], p[4], p[5]);
  return Number.isFinite(ms) ? ms : null;
}

// "3.2s ago", "5m 10s ago" for a timestamp string or ms.
export function ago(t) {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms) || ms <= 0 || new Date(ms).getUTCFullYear() < 1971) return 'never';
  const secs = (Date.now() - ms) / 1000;
  if (secs < 0) return 'in the future';
  if (secs < 60) return `${secs.toFixed(secs < 10 ? 3 : 1)}s ago`;
  const parts = [];
  let rest = Math.floor(secs);
  for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']]) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return `${parts.slice(0, 2).join(' ')} ago`;
}

// Seconds (a number) as "12.3ms" / "1.234s".
export function formatSeconds(s) {
  if (!Number.isFinite(s)) return '';
  if (s < 1) return `${(s * 1000).toFixed(3)}ms`;
  return `${s.toFixed(3)}s`;
}

// The text of a label set as PromQL writes it: name{a="b", c="d"}.
export function metricToString(metric) {
  const name = metric.__name__ || '';
  const labels = Object.entries(metric)
      .filter(([k]) => k !== '__name__')
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (labels.length === 0) return name === '' ? '{}' : name;
  return `${name}{${labels.join(', ')}}`;
}

// Formats a sample value for axes and tooltips: compact but exact for integers.
export function formatValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e15 || a < 1e-4)) return v.toExponential(3);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

// Sample values arrive as strings ("1.5", "NaN", "+Inf").
export function parseSampleValue(s) {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

export function graphLink(expr, tab = 0) {
  const qs = new URLSearchParams({ 'g0.expr': expr, 'g0.tab': String(tab) });
  return `/graph?${qs}`;
}

export function labelBadges(labels) {
  return Object.entries(labels || {}).map(([k, v]) => h('span', { class: 'badge' }, `${k}="${v}"`));
}
