// The read-only pages: targets, alerts, rules, status, flags, TSDB status and the
// loaded configuration. Each renders one or two /api/v1 answers.
import {
  api, h, errorBox, ago, formatSeconds, graphLink, labelBadges, formatValue, parseSampleValue,
} from './util.js';

async function load(root, title, fn) {
  root.append(h('h1', {}, title));
  const body = h('div', { class: 'page-body', dataset: { state: 'loading' } },
      h('p', { class: 'muted' }, 'Loading…'));
  root.append(body);
  try {
    await fn(body);
    body.dataset.state = 'done';
  } catch (e) {
    body.dataset.state = 'error';
    body.replaceChildren(errorBox(e.message));
  }
}

function kvTable(rows) {
  return h('table', { class: 'data-table kv' }, h('tbody', {},
      rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

function table(headers, rows) {
  return h('table', { class: 'data-table' },
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}

function stateBadge(state) {
  return h('span', { class: `badge state-${String(state).toLowerCase()}` }, String(state).toUpperCase());
}

export function renderTargets(root) {
  return load(root, 'Targets', async (body) => {
    const { data } = await api('/api/v1/targets', { state: 'active' });
    const targets = data.activeTargets || [];
    const pools = new Map();
    for (const t of targets) {
      if (!pools.has(t.scrapePool)) pools.set(t.scrapePool, []);
      pools.get(t.scrapePool).push(t);
    }
    const onlyUnhealthy = h('input', { type: 'checkbox', id: 'only-unhealthy' });
    const list = h('div', {});
    const draw = () => {
      list.replaceChildren();
      for (const [pool, ts] of [...pools.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
        const up = ts.filter((t) => t.health === 'up').length;
        const shown = onlyUnhealthy.checked ? ts.filter((t) => t.health !== 'up') : ts;
        if (shown.length === 0) continue;
        list.append(h('details', { class: 'pool', open: true },
            h('summary', {}, h('strong', {}, pool), ` (${up}/${ts.length} up)`),
            table(['Endpoint', 'State', 'Labels', 'Last Scrape', 'Scrape Duration', 'Error'],
                shown.map((t) => [
                  // Only http(s) URLs become links: a config could hold any scheme.
                  /^https?:\/\//.test(t.scrapeUrl) ? h('a', { href: t.scrapeUrl }, t.scrapeUrl)
                    : t.scrapeUrl,
                  stateBadge(t.health),
                  h('div', { class: 'badges' }, labelBadges(t.labels)),
                  ago(t.lastScrape),
                  formatSeconds(t.lastScrapeDuration),
                  t.lastError ? h('span', { class: 'error-text' }, t.lastError) : '',
                ]))));
      }
      if (!list.hasChildNodes()) {
        list.append(h('p', { class: 'muted' },
            targets.length === 0 ? 'No targets configured.' : 'Every target is up.'));
      }
    };
    onlyUnhealthy.addEventListener('change', draw);
    draw();
    body.replaceChildren(h('label', { class: 'filter' }, onlyUnhealthy, ' Unhealthy only'), list);
  });
}

function ruleText(rule) {
  const lines = [];
  if (rule.type === 'alerting') lines.push(`alert: ${rule.name}`);
  else lines.push(`record: ${rule.name}`);
  const expr = h('a', { href: graphLink(rule.query, 1) }, rule.query);
  const out = [h('div', {}, lines[0]), h('div', {}, 'expr: ', expr)];
  if (rule.type === 'alerting' && rule.duration) out.push(h('div', {}, `for: ${rule.duration}s`));
  if (rule.keepFiringFor) out.push(h('div', {}, `keep_firing_for: ${rule.keepFiringFor}s`));
  const section = (name, obj) => {
    if (!obj || Object.keys(obj).length === 0) return;
    out.push(h('div', {}, `${name}:`));
    for (const [k, v] of Object.entries(obj)) out.push(h('div', { class: 'indent' }, `${k}: ${v}`));
  };
  section('labels', rule.labels);
  section('annotations', rule.annotations);
  return h('div', { class: 'rule-text' }, out);
}

export function renderAlerts(root) {
  return load(root, 'Alerts', async (body) => {
    const { data } = await api('/api/v1/rules', { type: 'alert' });
    const rules = [];
    for (const g of data.groups || []) {
      for (const r of g.rules || []) if (r.type === 'alerting') rules.push({ group: g, rule: r });
    }
    const states = ['inactive', 'pending', 'firing'];
    const counts = Object.fromEntries(states.map((s) => [s, 0]));
    for (const { rule } of rules) counts[rule.state] = (counts[rule.state] || 0) + 1;
    const boxes = Object.fromEntries(states.map((s) => [s, h('input', { type: 'checkbox', checked: true })]));
    const list = h('div', {});
    const draw = () => {
      list.replaceChildren();
      for (const { group, rule } of rules) {
        if (!boxes[rule.state]?.checked) continue;
        const alerts = rule.alerts || [];
        // Firing and pending rules open, as the states that need a look.
        list.append(h('details', { class: `alert-rule state-${rule.state}`,
          open: rule.state !== 'inactive' },
            h('summary', {}, stateBadge(rule.state), ' ', h('strong', {}, rule.name),
                ` (${alerts.length} active)`, h('span', { class: 'muted' }, `  ${group.file} > ${group.name}`)),
            ruleText(rule),
            alerts.length === 0 ? null : table(
                ['Labels', 'Annotations', 'State', 'Active Since', 'Value'],
                alerts.map((a) => [h('div', { class: 'badges' }, labelBadges(a.labels)),
                  h('div', {}, Object.entries(a.annotations || {}).map(([k, v]) =>
                    h('div', {}, h('strong', {}, `${k}: `), v))),
                  stateBadge(a.state), a.activeAt ? `${a.activeAt} (${ago(a.activeAt)})` : '',
                  formatValue(parseSampleValue(a.value))]))));
      }
      if (!list.hasChildNodes()) list.append(h('p', { class: 'muted' }, 'No alerting rules.'));
    };
    for (const b of Object.values(boxes)) b.addEventListener('change', draw);
    draw();
    body.replaceChildren(h('div', { class: 'filter' }, states.map((s) =>
      h('label', {}, boxes[s], ' ', stateBadge(s), ` (${counts[s] || 0}) `))), list);
  });
}

export function renderRules(root) {
  return load(root, 'Rules', async (body) => {
    const { data } = await api('/api/v1/rules');
    const groups = data.groups || [];
    if (groups.length === 0) {
      body.replaceChildren(h('p', { class: 'muted' }, 'No rule groups configured.'));
      return;
    }
    body.replaceChildren(...groups.map((g) => h('section', { class: 'rule-group' },
        h('h2', {}, g.name, h('span', { class: 'muted' }, `  ${g.file} · every ${g.interval}s · ` +
            `last evaluation ${ago(g.lastEvaluation)} · took ${formatSeconds(g.evaluationTime)}`)),
        table(['Rule', 'State', 'Error', 'Last Evaluation', 'Evaluation Time'],
            (g.rules || []).map((r) => [ruleText(r), stateBadge(r.health),
              r.lastError ? h('span', { class: 'error-text' }, r.lastError) : '',
              ago(r.lastEvaluation), formatSeconds(r.evaluationTime)])))));
  });
}

export function renderStatus(root) {
  return load(root, 'Status', async (body) => {
    const { data: build } = await api('/api/v1/status/buildinfo');
    const parts = [h('h2', {}, 'Build Information'),
      kvTable(Object.entries(build).map(([k, v]) => [k, String(v)]))];
    try {
      const { data: rt } = await api('/api/v1/status/runtimeinfo');
      parts.push(h('h2', {}, 'Runtime Information'),
          kvTable(Object.entries(rt).map(([k, v]) => [k, String(v)])));
    } catch (e) {
      parts.push(h('h2', {}, 'Runtime Information'), errorBox(e.message));
    }
    body.replaceChildren(...parts);
  });
}

export function renderFlags(root) {
  return load(root, 'Command-Line Flags', async (body) => {
    const { data } = await api('/api/v1/status/flags');
    const filter = h('input', { class: 'filter-input', placeholder: 'Filter by flag name or value' });
    const holder = h('div', {});
    const draw = () => {
      const f = filter.value.toLowerCase();
      const rows = Object.entries(data).sort((a, b) => a[0].localeCompare(b[0]))
          .filter(([k, v]) => k.toLowerCase().includes(f) || String(v).toLowerCase().includes(f));
      holder.replaceChildren(table(['Flag', 'Value'], rows.map(([k, v]) => [k, String(v)])));
    };
    filter.addEventListener('input', draw);
    draw();
    body.replaceChildren(filter, holder);
  });
}

export function renderTsdbStatus(root) {
  return load(root, 'TSDB Status', async (body) => {
    const { data } = await api('/api/v1/status/tsdb');
    const hs = data.headStats || {};
    const time = (ms) => (Number.isFinite(ms) && Math.abs(ms) < 8.64e15
      ? `${new Date(ms).toISOString()} (${ms})` : String(ms));
    const parts = [h('h2', {}, 'Head Stats'), table(
        ['Number of Series', 'Number of Chunks', 'Number of Label Pairs', 'Current Min Time',
          'Current Max Time'],
        [[String(hs.numSeries ?? ''), String(hs.chunkCount ?? ''), String(hs.numLabelPairs ?? ''),
          time(hs.minTime), time(hs.maxTime)]])];
    const top = (title, key, col) => {
      parts.push(h('h2', {}, title),
          table(['Name', col], (data[key] || []).map((e) => [e.name, String(e.value)])));
    };
    top('Top 10 series count by metric names', 'seriesCountByMetricName', 'Count');
    top('Top 10 label names with value count', 'labelValueCountByLabelName', 'Count');
    top('Top 10 label names with high memory usage', 'memoryInBytesByLabelName', 'Bytes');
    top('Top 10 series count by label value pairs', 'seriesCountByLabelValuePair', 'Count');
    body.replaceChildren(...parts);
  });
}

export function renderConfig(root) {
  return load(root, 'Configuration', async (body) => {
    const { data } = await api('/api/v1/status/config');
    body.replaceChildren(h('pre', { class: 'config-yaml' }, data.yaml || ''));
  });
}
