// The query page (/graph): panels with an expression box (metric-name completion),
// a table tab (instant query) and a graph tab (range query drawn with uPlot).
// Panel state lives in the URL as in Prometheus: g<i>.expr, g<i>.tab (0 graph,
// 1 table), g<i>.range_input, g<i>.end_input, g<i>.moment_input, g<i>.step_input,
// g<i>.stacked.
import {
  api, h, errorBox, warningBox, parseDuration, formatDuration, formatTime, parseTime,
  metricToString, formatValue, parseSampleValue, useLocalTime,
} from './util.js';

const RANGE_STEPS_MS = [
  1e3, 10e3, 60e3, 300e3, 900e3, 1800e3, 3600e3, 7200e3, 6 * 3600e3, 12 * 3600e3, 86400e3,
  2 * 86400e3, 7 * 86400e3, 14 * 86400e3, 28 * 86400e3, 56 * 86400e3, 365 * 86400e3,
  730 * 86400e3,
];
const MAX_TABLE_ROWS = 10000;
const PALETTE = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf', '#393b79', '#ad494a', '#637939', '#8c6d31', '#7b4173', '#3182bd',
];

let metricNames = null;  // a Promise of the metric names, fetched once per page load

function loadMetricNames() {
  if (metricNames === null) {
    metricNames = api('/api/v1/label/__name__/values')
        .then((r) => r.data || [])
        .catch(() => []);
  }
  return metricNames;
}

function defaultPanel() {
  return { expr: '', tab: 1, range: 3600e3, end: null, moment: null, step: null, stacked: false };
}

// Reads g<i>.* parameters into panel states (at least one panel).
export function panelsFromUrl(search) {
  const params = new URLSearchParams(search);
  const panels = [];
  for (let i = 0; params.has(`g${i}.expr`) || params.has(`g${i}.tab`); i++) {
    const p = defaultPanel();
    const get = (k) => params.get(`g${i}.${k}`);
    p.expr = get('expr') || '';
    p.tab = get('tab') === '0' ? 0 : 1;
    p.range = parseDuration(get('range_input')) || p.range;
    p.end = parseTime(get('end_input') || '', false);
    p.moment = parseTime(get('moment_input') || '', false);
    const step = Number(get('step_input'));
    p.step = Number.isFinite(step) && step > 0 ? step : null;
    p.stacked = get('stacked') === '1';
    panels.push(p);
  }
  if (panels.length === 0) panels.push(defaultPanel());
  return panels;
}

export function panelsToUrl(panels) {
  const params = new URLSearchParams();
  panels.forEach((p, i) => {
    params.set(`g${i}.expr`, p.expr);
    params.set(`g${i}.tab`, String(p.tab));
    params.set(`g${i}.range_input`, formatDuration(p.range));
    if (p.end !== null) params.set(`g${i}.end_input`, formatTime(p.end, false));
    if (p.moment !== null) params.set(`g${i}.moment_input`, formatTime(p.moment, false));
    if (p.step !== null) params.set(`g${i}.step_input`, String(p.step));
    params.set(`g${i}.stacked`, p.stacked ? '1' : '0');
  });
  return `/graph?${params}`;
}

export function renderGraphPage(root) {
  const panels = panelsFromUrl(location.search);
  const views = [];
  const list = h('div', { class: 'panels' });
  const sync = () => history.replaceState(null, '', panelsToUrl(views.map((v) => v.state)));
  const add = (state) => {
    const view = new Panel(state, {
      onChange: sync,
      onRemove: () => {
        if (views.length === 1) return;
        views.splice(views.indexOf(view), 1);
        view.el.remove();
        view.destroy();
        sync();
      },
    });
    views.push(view);
    list.appendChild(view.el);
    view.autosize();  // a multi-line expression from the URL shows whole
    return view;
  };
  root.append(list, h('button', {
    class: 'btn', id: 'add-panel',
    onclick: () => add(defaultPanel()).focus(),
  }, 'Add Panel'));
  for (const p of panels) add(p);
  for (const v of views) if (v.state.expr) v.execute();
  if (views.length === 1 && !views[0].state.expr) views[0].focus();
  loadMetricNames();
}

// One query panel. Owns its DOM (this.el) and its chart.
class Panel {
  constructor(state, { onChange, onRemove }) {
    this.state = state;
    this.onChange = onChange;
    this.chart = null;
    this.generation = 0;  // drops answers to superseded requests
    this.build(onRemove);
  }

  build(onRemove) {
    this.input = h('textarea', {
      class: 'expr-input', rows: 1, spellcheck: 'false', autocomplete: 'off',
      placeholder: 'Expression (press Shift+Enter for newlines)', 'aria-label': 'Expression',
    });
    this.input.value = this.state.expr;
    this.completion = new Completion(this.input, () => this.autosize());
    this.input.addEventListener('keydown', (e) => {
      if (this.completion.handleKey(e)) return;
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        this.execute();
      }
    });
    this.input.addEventListener('input', () => this.autosize());
    const exec = h('button', { class: 'btn btn-primary execute', onclick: () => this.execute() },
        'Execute');
    this.tabs = {
      graph: h('button', { class: 'tab', dataset: { tab: 'graph' }, onclick: () => this.setTab(0) },
          'Graph'),
      table: h('button', { class: 'tab', dataset: { tab: 'table' }, onclick: () => this.setTab(1) },
          'Table'),
    };
    this.status = h('span', { class: 'query-stats' });
    this.body = h('div', { class: 'panel-body' });
    this.el = h('section', { class: 'panel' },
        h('div', { class: 'expr-row' },
            h('div', { class: 'expr-wrap' }, this.input, this.completion.el), exec),
        h('div', { class: 'tab-row' }, this.tabs.table, this.tabs.graph, this.status,
            h('button', { class: 'btn btn-link remove-panel', title: 'Remove panel',
              onclick: onRemove }, 'Remove Panel')),
        this.body);
    this.renderTab();
  }

  focus() {
    this.input.focus();
  }

  autosize() {
    this.input.style.height = 'auto';
    this.input.style.height = `${this.input.scrollHeight + 2}px`;
  }

  destroy() {
    if (this.chart) this.chart.destroy();
    this.chart = null;
    if (this.resizeObserver) this.resizeObserver.disconnect();
  }

  setTab(tab) {
    if (this.state.tab === tab) return;
    this.state.tab = tab;
    this.onChange();
    this.renderTab();
    if (this.input.value.trim() !== '') this.execute();
  }

  execute() {
    this.state.expr = this.input.value.trim();
    this.completion.close();
    this.onChange();
    if (this.state.expr === '') return;
    if (this.state.tab === 0) this.runGraph();
    else this.runTable();
  }

  // Builds the controls and result area of the current tab.
  renderTab() {
    this.destroy();
    this.tabs.graph.classList.toggle('active', this.state.tab === 0);
    this.tabs.table.classList.toggle('active', this.state.tab === 1);
    this.body.replaceChildren();
    this.status.textContent = '';
    this.messages = h('div', { class: 'messages' });
    if (this.state.tab === 0) {
      this.body.append(this.graphControls(), this.messages);
      this.chartEl = h('div', { class: 'chart', dataset: { state: 'empty', seriesCount: '0' } });
      this.body.append(this.chartEl);
    } else {
      this.body.append(this.tableControls(), this.messages);
      this.tableEl = h('div', { class: 'table-result', dataset: { state: 'empty' } },
          h('p', { class: 'muted' }, 'No data queried yet'));
      this.body.append(this.tableEl);
    }
  }

  graphControls() {
    const s = this.state;
    const range = h('input', { class: 'range-input', value: formatDuration(s.range), size: 6,
      'aria-label': 'Range' });
    const setRange = (ms) => {
      s.range = ms;
      range.value = formatDuration(ms);
      this.execute();
    };
    range.addEventListener('change', () => {
      const ms = parseDuration(range.value);
      if (ms === null) range.value = formatDuration(s.range);
      else setRange(ms);
    });
    const shrink = () => {
      const smaller = RANGE_STEPS_MS.filter((r) => r < s.range);
      if (smaller.length) setRange(smaller[smaller.length - 1]);
    };
    const grow = () => {
      const larger = RANGE_STEPS_MS.find((r) => r > s.range);
      if (larger) setRange(larger);
    };
    const end = h('input', { class: 'end-input', size: 19, 'aria-label': 'End time',
      placeholder: 'End time (now)', value: s.end === null ? '' : formatTime(s.end) });
    const setEnd = (ms) => {
      s.end = ms;
      end.value = ms === null ? '' : formatTime(ms);
      this.execute();
    };
    end.addEventListener('change', () => {
      if (end.value.trim() === '') return setEnd(null);
      const ms = parseTime(end.value);
      if (ms === null) end.value = s.end === null ? '' : formatTime(s.end);
      else setEnd(ms);
    });
    const shiftEnd = (dir) => setEnd((s.end === null ? Date.now() : s.end) + dir * s.range / 2);
    const step = h('input', { class: 'step-input', size: 8, 'aria-label': 'Resolution (s)',
      placeholder: 'Res. (s)', value: s.step === null ? '' : String(s.step) });
    step.addEventListener('change', () => {
      const v = Number(step.value);
      s.step = step.value.trim() !== '' && Number.isFinite(v) && v > 0 ? v : null;
      step.value = s.step === null ? '' : String(s.step);
      this.execute();
    });
    this.controls = { range, end, step };
    return h('div', { class: 'controls' },
        h('div', { class: 'btn-group' },
            h('button', { class: 'btn', title: 'Decrease range', onclick: shrink }, '−'),
            range,
            h('button', { class: 'btn', title: 'Increase range', onclick: grow }, '+')),
        h('div', { class: 'btn-group' },
            h('button', { class: 'btn', title: 'Back', onclick: () => shiftEnd(-1) }, '«'),
            end,
            h('button', { class: 'btn', title: 'Forward', onclick: () => shiftEnd(1) }, '»'),
            h('button', { class: 'btn', title: 'Now', onclick: () => setEnd(null) }, 'now')),
        h('label', { class: 'step-label' }, 'Resolution ', step, ' s'),
        h('label', { class: 'stacked-label' }, h('input', {
          type: 'checkbox', class: 'stacked-input', checked: s.stacked,
          onchange: (e) => {
            s.stacked = e.target.checked;
            this.execute();
          },
        }), ' Stacked'));
  }

  tableControls() {
    const s = this.state;
    const moment = h('input', { class: 'moment-input', size: 19, 'aria-label': 'Evaluation time',
      placeholder: 'Evaluation time (now)', value: s.moment === null ? '' : formatTime(s.moment) });
    moment.addEventListener('change', () => {
      if (moment.value.trim() === '') s.moment = null;
      else s.moment = parseTime(moment.value) ?? s.moment;
      moment.value = s.moment === null ? '' : formatTime(s.moment);
      this.execute();
    });
    return h('div', { class: 'controls' }, h('label', {}, 'Evaluation time ', moment));
  }

  async runTable() {
    const gen = ++this.generation;
    const started = performance.now();
    this.tableEl.dataset.state = 'loading';
    this.status.textContent = 'Loading…';
    this.messages.replaceChildren();
    const params = { query: this.state.expr };
    if (this.state.moment !== null) params.time = this.state.moment / 1000;
    try {
      const { data, warnings } = await api('/api/v1/query', params);
      if (gen !== this.generation) return;
      this.messages.replaceChildren(...[warningBox(warnings)].filter(Boolean));
      this.renderTable(data, performance.now() - started);
    } catch (e) {
      if (gen !== this.generation) return;
      this.tableEl.dataset.state = 'error';
      this.status.textContent = '';
      this.tableEl.replaceChildren();
      this.messages.replaceChildren(errorBox(e.message));
    }
  }

  renderTable(data, elapsedMs) {
    const rows = [];
    let count = 0;
    if (data.resultType === 'vector') {
      count = data.result.length;
      for (const s of data.result.slice(0, MAX_TABLE_ROWS)) {
        rows.push([metricToString(s.metric), s.value[1]]);
      }
    } else if (data.resultType === 'matrix') {
      count = data.result.length;
      for (const s of data.result.slice(0, MAX_TABLE_ROWS)) {
        rows.push([metricToString(s.metric),
          s.values.map(([t, v]) => `${v} @${t}`).join('\n')]);
      }
    } else if (data.resultType === 'scalar' || data.resultType === 'string') {
      count = 1;
      rows.push([data.resultType, data.result[1]]);
    }
    this.status.textContent =
        `Load time: ${Math.round(elapsedMs)}ms · Result series: ${count}`;
    const tableChildren = [];
    if (count > MAX_TABLE_ROWS) {
      tableChildren.push(warningBox([`Showing the first ${MAX_TABLE_ROWS} of ${count} series.`]));
    }
    if (rows.length === 0) {
      tableChildren.push(h('p', { class: 'muted' }, 'Empty query result'));
    } else {
      tableChildren.push(h('table', { class: 'data-table' }, h('tbody', {},
          rows.map(([m, v]) => h('tr', {}, h('td', { class: 'metric' }, m),
              h('td', { class: 'value' }, v))))));
    }
    this.tableEl.replaceChildren(...tableChildren);
    this.tableEl.dataset.state = 'done';
    this.tableEl.dataset.resultCount = String(count);
  }

  async runGraph() {
    const gen = ++this.generation;
    const started = performance.now();
    const s = this.state;
    const endMs = s.end === null ? Date.now() : s.end;
    const startMs = endMs - s.range;
    // Prometheus' default resolution: about 250 points across the range.
    const step = s.step || Math.max(Math.floor(s.range / 250000), 1);
    this.chartEl.dataset.state = 'loading';
    this.status.textContent = 'Loading…';
    this.messages.replaceChildren();
    try {
      const { data, warnings } = await api('/api/v1/query_range', {
        query: s.expr, start: startMs / 1000, end: endMs / 1000, step,
      });
      if (gen !== this.generation) return;
      if (data.resultType !== 'matrix') {
        throw new Error(`expected a range vector (matrix) but got ${data.resultType}`);
      }
      this.messages.replaceChildren(...[warningBox(warnings)].filter(Boolean));
      this.status.textContent = `Load time: ${Math.round(performance.now() - started)}ms · ` +
          `Resolution: ${step}s · Result series: ${data.result.length}`;
      this.drawChart(data.result, startMs / 1000, endMs / 1000);
    } catch (e) {
      if (gen !== this.generation) return;
      if (this.chart) this.chart.destroy();
      this.chart = null;
      this.chartEl.replaceChildren();
      this.chartEl.dataset.state = 'error';
      this.status.textContent = '';
      this.chartEl.dataset.seriesCount = '0';
      this.messages.replaceChildren(errorBox(e.message));
    }
  }

  drawChart(result, startSec, endSec) {
    if (this.chart) this.chart.destroy();
    this.chart = null;
    if (this.resizeObserver) this.resizeObserver.disconnect();
    this.chartEl.replaceChildren();
    this.chartEl.dataset.seriesCount = String(result.length);
    if (typeof window.uPlot !== 'function') {
      this.chartEl.dataset.state = 'error';
      this.chartEl.append(errorBox('Chart library missing: this build of Cairn was made ' +
          'without uPlot (tools/setup fetches it from npm). The table tab still works.'));
      return;
    }
    if (result.length === 0) {
      this.chartEl.dataset.state = 'done';
      this.chartEl.append(h('p', { class: 'muted' }, 'Empty query result'));
      return;
    }
    // One shared x axis: the union of every series' timestamps (a range query's
    // series share the step grid, so this is usually just that grid).
    const times = new Set();
    for (const s of result) for (const [t] of s.values) times.add(Number(t));
    const xs = Float64Array.from(times).sort();
    const index = new Map();
    xs.forEach((t, i) => index.set(t, i));
    const data = [Array.from(xs)];
    for (const s of result) {
      const ys = new Array(xs.length).fill(null);
      for (const [t, v] of s.values) {
        const y = parseSampleValue(v);
        ys[index.get(Number(t))] = Number.isFinite(y) ? y : null;
      }
      data.push(ys);
    }
    // Stacked: each series drawn on top of the ones before it, filled down to the
    // one below (uPlot bands); legend and tooltip still show the series' own values.
    const raw = data;
    let bands;
    let drawn = data;
    if (this.state.stacked) ({ data: drawn, bands } = stackSeries(data));
    this.rawData = raw;
    const local = useLocalTime();
    const series = [{ label: 'Time', value: (u, t) => (t == null ? '' : formatTime(t * 1000)) }];
    result.forEach((s, i) => {
      const colour = PALETTE[i % PALETTE.length];
      series.push({
        label: metricToString(s.metric),
        stroke: colour,
        fill: this.state.stacked ? `${colour}55` : undefined,
        width: 1.5,
        spanGaps: false,
        value: (u, v, si, idx) => formatValue(idx == null ? v : raw[si][idx]),
      });
    });
    const tooltip = h('div', { class: 'chart-tooltip', hidden: true });
    const opts = {
      width: Math.max(this.chartEl.clientWidth, 300),
      height: 400,
      series,
      bands,
      scales: { x: { time: true, range: [startSec, endSec] } },
      axes: [{ values: timeTicks }, { size: 70, values: (u, vals) => vals.map(formatValue) }],
      legend: { live: true },
      cursor: { focus: { prox: 30 }, drag: { x: true, y: false } },
      focus: { alpha: 0.3 },
      hooks: {
        setCursor: [(u) => this.updateTooltip(u, tooltip)],
        setSelect: [(u) => this.zoomTo(u)],
      },
    };
    if (!local) opts.tzDate = (ts) => window.uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
    this.chart = new window.uPlot(opts, drawn, this.chartEl);
    this.chart.over.appendChild(tooltip);
    this.chartEl.dataset.state = 'done';
    this.resizeObserver = new ResizeObserver(() => {
      if (this.chart && this.chartEl.clientWidth > 0) {
        this.chart.setSize({ width: this.chartEl.clientWidth, height: 400 });
      }
    });
    this.resizeObserver.observe(this.chartEl);
  }

  // Shows the series nearest the cursor, with its time and value.
  updateTooltip(u, tooltip) {
    const idx = u.cursor.idx;
    if (idx == null || u.cursor.left < 0) {
      tooltip.hidden = true;
      return;
    }
    // uPlot snaps to the nearest index however far it is; only show a point the
    // cursor is actually near.
    if (Math.abs(u.valToPos(u.data[0][idx], 'x') - u.cursor.left) > 30) {
      tooltip.hidden = true;
      return;
    }
    const yAtCursor = u.posToVal(u.cursor.top, 'y');
    let best = -1;
    if (this.state.stacked) {
      // The band under the cursor: the first series stacked up to above it.
      for (let i = 1; i < u.series.length && best < 0; i++) {
        const v = u.data[i][idx];
        if (v != null && u.series[i].show && v >= yAtCursor) best = i;
      }
    }
    if (best < 0) {
      // Otherwise the series nearest the cursor.
      let bestDist = Infinity;
      for (let i = 1; i < u.series.length; i++) {
        const v = u.data[i][idx];
        if (v == null || !u.series[i].show) continue;
        const d = Math.abs(v - yAtCursor);
        if (d < bestDist) {
          bestDist = d;
          best = i;
        }
      }
    }
    if (best < 0) {
      tooltip.hidden = true;
      return;
    }
    tooltip.replaceChildren(
        h('div', { class: 'tt-time' }, formatTime(u.data[0][idx] * 1000)),
        h('div', { class: 'tt-series' },
            h('span', { class: 'swatch', style: `background:${u.series[best].stroke()}` }),
            u.series[best].label),
        h('div', { class: 'tt-value' }, `value: ${formatValue(this.rawData[best][idx])}`));
    tooltip.hidden = false;
    const left = u.cursor.left + 12;
    const flip = left + 260 > u.over.clientWidth;
    tooltip.style.left = flip ? '' : `${left}px`;
    tooltip.style.right = flip ? `${u.over.clientWidth - u.cursor.left + 12}px` : '';
    tooltip.style.top = `${Math.max(u.cursor.top - 10, 0)}px`;
  }

  // A drag on the chart narrows the range to the selection, as in Prometheus.
  zoomTo(u) {
    if (u.select.width < 2) return;
    const from = u.posToVal(u.select.left, 'x');
    const to = u.posToVal(u.select.left + u.select.width, 'x');
    // Whole seconds, so the range reads as a plain duration in the URL.
    const range = Math.max(Math.round(to - from), 1) * 1000;
    this.state.end = Math.round(to) * 1000;
    this.state.range = range;
    this.controls.range.value = formatDuration(range);
    this.controls.end.value = formatTime(this.state.end);
    this.execute();
  }
}

// Cumulative sums for a stacked graph: data[0] is the x axis, data[1..] the series
// (null where a series has no sample, which stays a gap and adds nothing). Returns
// the stacked arrays and uPlot bands filling each series down to the one below.
export function stackSeries(data) {
  const sums = new Array(data[0].length).fill(0);
  const out = [data[0]];
  for (let i = 1; i < data.length; i++) {
    out.push(data[i].map((v, j) => (v == null ? null : (sums[j] += v))));
  }
  const bands = [];
  for (let i = 2; i < data.length; i++) bands.push({ series: [i, i - 1] });
  return { data: out, bands };
}

// X-axis labels in 24-hour time (UTC unless "Use local time"), with the date
// under the first tick and wherever the day changes; dates only for day-sized ticks.
function timeTicks(u, splits, axisIdx, space, incr) {
  let lastDate = '';
  return splits.map((t) => {
    const [date, time] = formatTime(t * 1000).split(' ');
    if (incr >= 86400) return date;
    const label = incr < 60 ? time : time.slice(0, 5);
    if (date === lastDate) return label;
    lastDate = date;
    return `${label}\n${date}`;
  });
}

// Metric-name completion under the expression box: suggests names matching the
// identifier at the cursor (prefix matches first). Up/Down choose, Tab/Enter accept,
// Escape closes.
class Completion {
  constructor(input, onAccept) {
    this.input = input;
    this.onAccept = onAccept;
    this.items = [];
    this.selected = -1;
    this.el = h('ul', { class: 'completions', role: 'listbox', hidden: true });
    input.addEventListener('input', () => this.update());
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
  }

  wordAtCursor() {
    const pos = this.input.selectionStart;
    const before = this.input.value.slice(0, pos);
    const m = /[a-zA-Z_:][a-zA-Z0-9_:]*$/.exec(before);
    if (!m) return null;
    // Not inside a string or a label matcher's braces.
    const quotes = (before.match(/"/g) || []).length;
    const opens = (before.match(/\{/g) || []).length;
    const closes = (before.match(/\}/g) || []).length;
    if (quotes % 2 === 1 || opens > closes) return null;
    return { word: m[0], start: pos - m[0].length, end: pos };
  }

  async update() {
    const w = this.wordAtCursor();
    if (!w || w.word.length < 1) return this.close();
    const names = await loadMetricNames();
    const cur = this.wordAtCursor();
    if (!cur || cur.word !== w.word) return;
    const lw = w.word.toLowerCase();
    // An exact match first (so Tab keeps what was typed), then prefix matches,
    // then names containing the word.
    const exact = names.filter((n) => n === w.word);
    const prefix = names.filter((n) => n.toLowerCase().startsWith(lw) && n !== w.word);
    const infix = names.filter((n) => !n.toLowerCase().startsWith(lw) &&
        n.toLowerCase().includes(lw));
    this.items = exact.concat(prefix, infix).slice(0, 50);
    this.word = w;
    this.selected = this.items.length ? 0 : -1;
    this.render();
  }

  render() {
    if (this.items.length === 0) return this.close();
    this.el.replaceChildren(...this.items.map((n, i) => h('li', {
      class: i === this.selected ? 'selected' : '', role: 'option',
      onmousedown: (e) => {
        e.preventDefault();
        this.accept(i);
      },
    }, n)));
    this.el.hidden = false;
    const sel = this.el.children[this.selected];
    if (sel) sel.scrollIntoView({ block: 'nearest' });
  }

  close() {
    this.items = [];
    this.el.hidden = true;
  }

  accept(i) {
    const name = this.items[i];
    const w = this.wordAtCursor() || this.word;
    const v = this.input.value;
    this.input.value = v.slice(0, w.start) + name + v.slice(w.end);
    const pos = w.start + name.length;
    this.input.setSelectionRange(pos, pos);
    this.close();
    this.onAccept();
  }

  // Returns true when the key was used by the open completion list.
  handleKey(e) {
    if (this.el.hidden || this.items.length === 0) return false;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const n = this.items.length;
      this.selected = (this.selected + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
    } else if (e.key === 'Tab' || (e.key === 'Enter' && !e.shiftKey)) {
      this.accept(this.selected);
    } else if (e.key === 'Escape') {
      this.close();
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }
}
