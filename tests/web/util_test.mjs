// Unit tests of the UI's pure functions (node's test runner, no browser): duration
// and time syntax, series names, value formatting, and the Prometheus /graph URL
// parameters. Expected values follow Prometheus' documentation (duration units
// y=365d, w=7d; g<i>.tab 0 = graph, 1 = table; end_input "YYYY-MM-DD HH:MM:SS" UTC).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  parseDuration, formatDuration, formatTime, parseTime, metricToString, formatValue,
  parseSampleValue, graphLink,
} from '../../server/web/util.js';
import { panelsFromUrl, panelsToUrl, stackSeries } from '../../server/web/graph.js';

test('parseDuration accepts Prometheus durations', () => {
  assert.equal(parseDuration('1h'), 3600e3);
  assert.equal(parseDuration('30m'), 1800e3);
  assert.equal(parseDuration('1d12h'), 36 * 3600e3);
  assert.equal(parseDuration('2w'), 14 * 86400e3);
  assert.equal(parseDuration('1y'), 365 * 86400e3);
  assert.equal(parseDuration('1m30s'), 90e3);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration(' 5m '), 300e3);
});

test('parseDuration refuses malformed durations', () => {
  for (const s of ['', '0s', '1', 'h', '1.5h', '-1h', '1m1h', '1hh', '1 h', '1H']) {
    assert.equal(parseDuration(s), null, s);
  }
});

test('formatDuration writes the largest units', () => {
  assert.equal(formatDuration(3600e3), '1h');
  assert.equal(formatDuration(90e3), '1m30s');
  assert.equal(formatDuration(36 * 3600e3), '1d12h');
  assert.equal(formatDuration(14 * 86400e3), '2w');
  assert.equal(formatDuration(1500), '1s500ms');
  for (const s of ['1h', '6h', '1d', '2w', '1y', '1m30s']) {
    assert.equal(formatDuration(parseDuration(s)), s);
  }
});

test('times are UTC "YYYY-MM-DD HH:MM:SS"', () => {
  // 2023-01-02T03:04:05Z = 1672628645 s.
  assert.equal(formatTime(1672628645000, false), '2023-01-02 03:04:05');
  assert.equal(parseTime('2023-01-02 03:04:05', false), 1672628645000);
  assert.equal(parseTime('2023-01-02T03:04:05', false), 1672628645000);
  assert.equal(parseTime('2023-01-02 03:04', false), 1672628640000);
  assert.equal(parseTime('2023-01-02', false), 1672617600000);
  assert.equal(parseTime('yesterday', false), null);
  assert.equal(parseTime('', false), null);
});

test('metricToString writes PromQL series syntax', () => {
  assert.equal(metricToString({ __name__: 'up', job: 'a', instance: 'x:1' }),
      'up{job="a", instance="x:1"}');
  assert.equal(metricToString({ __name__: 'up' }), 'up');
  assert.equal(metricToString({ job: 'a' }), '{job="a"}');
  assert.equal(metricToString({}), '{}');
  assert.equal(metricToString({ __name__: 'm', l: 'say "hi"\\' }), 'm{l="say \\"hi\\"\\\\"}');
});

test('sample values', () => {
  assert.equal(parseSampleValue('+Inf'), Infinity);
  assert.equal(parseSampleValue('-Inf'), -Infinity);
  assert.ok(Number.isNaN(parseSampleValue('NaN')));
  assert.equal(parseSampleValue('1.5e3'), 1500);
  assert.equal(formatValue(1500), '1500');
  assert.equal(formatValue(0.1 + 0.2), '0.3');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(-Infinity), '-Inf');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(1e20), '1.000e+20');
  assert.equal(formatValue(null), '');
});

test('a Prometheus graph link opens a graph panel', () => {
  const [p] = panelsFromUrl('?g0.expr=rate(x%5B5m%5D)&g0.tab=0&g0.range_input=1h');
  assert.equal(p.expr, 'rate(x[5m])');
  assert.equal(p.tab, 0);
  assert.equal(p.range, 3600e3);
  assert.equal(p.end, null);
  assert.equal(p.step, null);
});

test('table tab, end, moment, step and several panels', () => {
  const panels = panelsFromUrl('?g0.expr=up&g0.tab=1&g1.expr=a%2Bb&g1.tab=0&g1.range_input=6h' +
      '&g1.end_input=2023-01-02%2003%3A04%3A05&g1.step_input=30&g0.moment_input=2023-01-02%2003%3A04%3A05');
  assert.equal(panels.length, 2);
  assert.equal(panels[0].expr, 'up');
  assert.equal(panels[0].tab, 1);
  assert.equal(panels[0].moment, 1672628645000);
  assert.equal(panels[1].expr, 'a+b');
  assert.equal(panels[1].tab, 0);
  assert.equal(panels[1].range, 6 * 3600e3);
  assert.equal(panels[1].end, 1672628645000);
  assert.equal(panels[1].step, 30);
  assert.equal(panels[0].stacked, false);
});

test('g<i>.stacked=1 stacks', () => {
  assert.equal(panelsFromUrl('?g0.expr=up&g0.tab=0&g0.stacked=1')[0].stacked, true);
  assert.equal(panelsFromUrl('?g0.expr=up&g0.tab=0&g0.stacked=0')[0].stacked, false);
});

test('stackSeries adds each series onto the ones before it; gaps stay gaps', () => {
  const { data, bands } = stackSeries([[10, 20, 30], [1, 2, null], [5, null, 7], [0.5, 1, 1]]);
  assert.deepEqual(data, [[10, 20, 30], [1, 2, null], [6, null, 7], [6.5, 3, 8]]);
  assert.deepEqual(bands, [{ series: [2, 1] }, { series: [3, 2] }]);
});

test('defaults: table tab, 1h, one empty panel', () => {
  assert.deepEqual(panelsFromUrl(''), [{ expr: '', tab: 1, range: 3600e3, end: null, moment: null,
    step: null, stacked: false }]);
  const [p] = panelsFromUrl('?g0.expr=up&g0.range_input=bogus&g0.step_input=-3');
  assert.equal(p.tab, 1);
  assert.equal(p.range, 3600e3);
  assert.equal(p.step, null);
});

test('panel URLs round-trip', () => {
  const panels = [
    { expr: 'sum by (job) (rate(x{a="b"}[5m]))', tab: 0, range: 90 * 60e3, end: 1672628645000,
      moment: null, step: 15, stacked: true },
    { expr: 'up', tab: 1, range: 3600e3, end: null, moment: 1672628645000, step: null,
      stacked: false },
  ];
  const url = panelsToUrl(panels);
  assert.ok(url.startsWith('/graph?'));
  const params = new URLSearchParams(url.slice('/graph'.length));
  assert.equal(params.get('g0.range_input'), '1h30m');
  assert.equal(params.get('g0.end_input'), '2023-01-02 03:04:05');
  assert.equal(params.get('g0.tab'), '0');
  assert.equal(params.get('g0.stacked'), '1');
  assert.equal(params.get('g1.stacked'), '0');
  assert.deepEqual(panelsFromUrl(url.slice('/graph'.length)), panels);
});

test('graphLink', () => {
  assert.equal(graphLink('up == 0', 1), '/graph?g0.expr=up+%3D%3D+0&g0.tab=1');
});

test('the page modules load and export their renderers', async () => {
  const pages = await import('../../server/web/pages.js');
  for (const name of ['renderTargets', 'renderAlerts', 'renderRules', 'renderStatus',
    'renderFlags', 'renderTsdbStatus', 'renderConfig']) {
    assert.equal(typeof pages[name], 'function', name);
  }
});
