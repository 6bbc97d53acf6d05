// Browser test of the web UI's query page: headless Chromium (Debian's `chromium`)
// driven by playwright-core (npm, installed by tools/setup into <build>/web-deps).
//
// It starts build/bin/cairn on free loopback ports with a temporary data directory
// (the UI always comes from this cairn), loads data, then in the browser:
//   1. opens /graph, types the start of the metric name, accepts the completion,
//      switches to the Graph tab and checks the chart;
//   2. opens /graph?g0.expr=...&g0.tab=0&g0.range_input=1h (a Prometheus link) and
//      checks the chart again, hovers it (tooltip, legend values), saves a
//      screenshot under <build>/web-test-artifacts/, drags across it (zoom: a
//      shorter range in the URL), and checks the Table tab;
//   3. loads the other pages (status, flags, TSDB status, targets, rules, alerts,
//      config) and checks they render their API answers.
// "Checks the chart" means: drawn without error, uPlot has exactly the expected
// number of series, the legend has one entry per series, and series colours were
// painted on the canvas.
//
// Backends (CAIRN_WEB_TEST_BACKEND):
//   cairn (default)  `cairnctl loadgen --series=20` remote-writes into the same
//                    cairn; expression node_load1, whose series are loadgen's
//                    series 4, 9, 14, 19 (name = i % 5): 4 series.
//   prometheus       starts /usr/bin/prometheus scraping its own /metrics as three
//                    jobs; expression scrape_duration_seconds: 3 series. The browser's /api/v1/*
//                    requests are routed to it.
//   CAIRN_WEB_TEST_API_URL=http://host:port  routes /api/v1/* to a running server
//                    instead (expression CAIRN_WEB_TEST_EXPR, default `up`; expected
//                    count CAIRN_WEB_TEST_SERIES, default: what that server's own
//                    query_range answers, which must be non-empty).
//   CAIRN_WEB_TEST_URL=http://host:port  tests a running cairn, UI and API, with
//                    its own data, instead of starting one (same EXPR / SERIES).
//
// Exit codes: 0 pass, 1 fail, 77 skip (ctest SKIP_RETURN_CODE). It skips only when
// a tool is absent (chromium, playwright-core, prometheus) or when this cairn does
// not serve /api/v1/query_range at all (404: the PromQL API is not built in; the
// other pages are still checked first, and fail the test if broken); a reachable
// server whose graph has no series fails.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SKIP = 77;
const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = path.resolve(process.env.CAIRN_BINARY_DIR || path.join(here, '..', '..', 'build'));
const chromiumPath = process.env.CAIRN_CHROMIUM || '/usr/bin/chromium';
const artifacts = path.join(buildDir, 'web-test-artifacts');
const children = [];
const tempDirs = [];

function log(...args) {
  console.log('graph_test:', ...args);
}

class Skip extends Error {}

// Stops the servers this test started (SIGTERM, then SIGKILL after 5 s) and only
// then removes their data directories, so nothing writes into a removed tree.
async function cleanup() {
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(running.map((c) => new Promise((resolve) => {
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    c.kill('SIGTERM');
  })));
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Starts a child process whose output goes to <artifacts>/<name>.log. Resolves with
// the process once `ready(outputSoFar)` returns a truthy value.
function start(name, cmd, args, ready, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    const logFile = fs.createWriteStream(path.join(artifacts, `${name}.log`));
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let done = false;
    const onData = (d) => {
      logFile.write(d);
      out += d.toString();
      const r = !done && ready(out);
      if (r) {
        done = true;
        resolve({ child, ready: r });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => !done && (done = true, reject(new Error(`${cmd}: ${e.message}`))));
    child.on('exit', (code) => {
      if (!done) {
        done = true;
        reject(new Error(`${name} exited (${code}) before it was ready:\n${out.slice(-2000)}`));
      }
    });
    setTimeout(() => {
      if (!done) {
        done = true;
        reject(new Error(`${name} not ready after ${timeoutMs} ms:\n${out.slice(-2000)}`));
      }
    }, timeoutMs).unref();
  });
}

function run(cmd, args, timeoutMs = 120000) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${code}:\n${out}`));
    });
  });
}

async function startCairn() {
  const bin = path.join(buildDir, 'bin', 'cairn');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: build the cairn target first`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-web-test-'));
  tempDirs.push(dataDir);
  // No scrape targets: without a config cairn scrapes itself, which would add its own
  // series to the head counts the status pages are checked against.
  const config = path.join(dataDir, 'cairn.yml');
  fs.writeFileSync(config, 'global:\n  scrape_interval: 15s\n');
  const { ready } = await start('cairn', bin, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${dataDir}`, '--web.listen-address=127.0.0.1:0',
    '--grpc.listen-address=127.0.0.1:0',
  ], (out) => /listening on \S+ \(port (\d+)\)/.exec(out)?.[1]);
  return `http://127.0.0.1:${ready}`;
}

async function getJson(url) {
  const resp = await fetch(url);
  const text = await resp.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // left null: the caller reports the raw text
  }
  return { status: resp.status, body, text };
}

function rangeParams(expr, rangeSec = 3600) {
  const end = Date.now() / 1000;
  const step = Math.max(Math.floor(rangeSec / 250), 1);
  return new URLSearchParams({ query: expr, start: String(end - rangeSec), end: String(end),
    step: String(step) });
}

// Backend set-up: returns { uiUrl, apiUrl, expr, expected, label }.
async function setUpCairn(uiUrl) {
  const cairnctl = path.join(buildDir, 'bin', 'cairnctl');
  const out = await run(cairnctl, ['loadgen', `--url=${uiUrl}/api/v1/write`, '--series=20',
    '--rounds=40', '--interval-ms=15000', '--concurrency=1', '--quiet']);
  log('loadgen:', out.trim().split('\n').pop());
  // Without the PromQL HTTP API in this build there is nothing to graph: skip, but
  // any other answer (an error, an empty result) is the UI's or server's failure.
  let noPromql = null;
  for (const ep of ['query_range', 'query']) {
    const probe = await getJson(`${uiUrl}/api/v1/${ep}?${rangeParams('node_load1')}`);
    if (probe.status === 404 && probe.body === null) {
      noPromql = `this cairn has no /api/v1/${ep} (HTTP 404): the PromQL API is not built in ` +
          'yet, so only the other pages were checked; run with ' +
          'CAIRN_WEB_TEST_BACKEND=prometheus or CAIRN_WEB_TEST_API_URL to check the graph';
      break;
    }
  }
  return { uiUrl, apiUrl: uiUrl, expr: 'node_load1', expected: 4, label: 'cairn', noPromql };
}

async function setUpPrometheus(uiUrl) {
  const bin = process.env.CAIRN_PROMETHEUS || '/usr/bin/prometheus';
  if (!fs.existsSync(bin)) throw new Skip(`${bin} not installed`);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-web-test-prom-'));
  tempDirs.push(dir);
  const jobs = ['self-a', 'self-b', 'self-c'];
  // One recording rule and one alert that fires for every job at once, for the
  // rules and alerts pages.
  fs.writeFileSync(path.join(dir, 'rules.yml'), [
    'groups:', '  - name: web-test', '    rules:',
    '      - record: job:up:sum', '        expr: sum by (job) (up)',
    '      - alert: SelfScraped', '        expr: up == 1',
    '        labels: { severity: info }',
    '        annotations: { summary: "{{ $labels.job }} is up" }',
  ].join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
    'rule_files:', `  - ${path.join(dir, 'rules.yml')}`, 'scrape_configs:',
    ...jobs.flatMap((j) => [`  - job_name: ${j}`, '    static_configs:',
      `      - targets: ['127.0.0.1:${port}']`]),
  ].join('\n') + '\n');
  await start('prometheus', bin, [`--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${path.join(dir, 'data')}`],
  (out) => out.includes('Server is ready to receive web requests'));
  const apiUrl = `http://127.0.0.1:${port}`;
  // scrape_duration_seconds differs between the three jobs' scrapes, so their lines
  // do not hide each other. Wait until each has 4 points at the 1h graph's 14 s
  // resolution, so each draws a line.
  const expr = 'scrape_duration_seconds';
  const deadline = Date.now() + 90000;
  for (;;) {
    const r = await getJson(`${apiUrl}/api/v1/query_range?${rangeParams(expr)}`);
    const result = r.body?.data?.result || [];
    if (result.length === jobs.length && result.every((s) => s.values.length >= 4)) break;
    if (Date.now() > deadline) throw new Error(`prometheus has no 3 scraped series: ${r.text}`);
    await sleep(1000);
  }
  return { uiUrl, apiUrl, expr, expected: jobs.length, label: 'prometheus', jobs };
}

async function setUpExternal(uiUrl, apiUrl) {
  const expr = process.env.CAIRN_WEB_TEST_EXPR || 'up';
  let expected = Number(process.env.CAIRN_WEB_TEST_SERIES || 0);
  if (!expected) {
    const r = await getJson(`${apiUrl}/api/v1/query_range?${rangeParams(expr)}`);
    if (r.body?.status !== 'success') {
      throw new Error(`${apiUrl}/api/v1/query_range?query=${expr} answered ${r.status}: ${r.text}`);
    }
    expected = r.body.data.result.length;
    if (expected === 0) throw new Error(`${apiUrl} has no series for ${expr}: nothing to graph`);
  }
  return { uiUrl, apiUrl, expr, expected, label: 'external' };
}

function loadPlaywright() {
  const require = createRequire(path.join(buildDir, 'web-deps', 'package.json'));
  try {
    return require('playwright-core');
  } catch (e) {
    throw new Skip(`playwright-core not found in ${buildDir}/web-deps (tools/setup installs it)`);
  }
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

// Waits for the graph of the first panel and checks it as described at the top.
async function checkChart(page, t, where) {
  const chart = page.locator('.panel .chart').first();
  await chart.waitFor({ state: 'attached', timeout: 10000 });
  try {
    await page.waitForFunction(() => {
      const c = document.querySelector('.panel .chart');
      return c && (c.dataset.state === 'done' || c.dataset.state === 'error');
    }, null, { timeout: 20000 });
  } catch (e) {
    const state = await page.evaluate(() => document.querySelector('.panel .chart')?.dataset.state);
    const text = await page.locator('.panel').first().textContent();
    throw new Error(`${where}: no graph after 20 s (chart state ${state}): ${text.slice(0, 400)}`);
  }
  const info = await page.evaluate(() => {
    const panel = document.querySelector('.panel');
    const c = panel.querySelector('.chart');
    const canvas = c.querySelector('canvas');
    let colourful = 0;
    if (canvas) {
      const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      // Grid, axes and text are grey; only series strokes are saturated.
      for (let i = 0; i < img.length; i += 4) {
        const max = Math.max(img[i], img[i + 1], img[i + 2]);
        const min = Math.min(img[i], img[i + 1], img[i + 2]);
        if (img[i + 3] > 128 && max - min > 60) colourful++;
      }
    }
    return {
      state: c.dataset.state,
      seriesCount: Number(c.dataset.seriesCount),
      legendEntries: c.querySelectorAll('.u-legend .u-series').length - 1,  // minus the time row
      legendLabels: [...c.querySelectorAll('.u-legend .u-series .u-label')].slice(1)
          .map((e) => e.textContent),
      colourful,
      messages: panel.querySelector('.messages')?.textContent || '',
      chartText: c.textContent.slice(0, 300),
    };
  });
  log(`${where}: chart state=${info.state} series=${info.seriesCount} ` +
      `legend=${info.legendEntries} colourful pixels=${info.colourful}`);
  check(info.state === 'done', `${where}: the graph failed: ${info.messages} ${info.chartText}`);
  check(info.seriesCount > 0, `${where}: the graph of ${t.expr} has no series ` +
      `(${info.chartText || 'empty'}); expected ${t.expected}`);
  check(info.seriesCount === t.expected,
      `${where}: the graph of ${t.expr} has ${info.seriesCount} series, expected ${t.expected}`);
  check(info.legendEntries === t.expected,
      `${where}: the legend has ${info.legendEntries} entries, expected ${t.expected}`);
  check(info.colourful > 20, `${where}: no series line was painted on the chart canvas ` +
      `(${info.colourful} coloured pixels)`);
  return info;
}

// Loads the other pages. Against the test's own Prometheus every page must render
// its API answer, whose content is known and checked; elsewhere the status, flags
// and TSDB status pages must, and pages whose endpoint the server lacks may show
// the error instead.
async function checkOtherPages(page, t) {
  const pages = ['/status', '/flags', '/tsdb-status', '/targets', '/rules', '/alerts', '/config'];
  const mustWork = t.label === 'prometheus' ? pages : ['/status', '/flags', '/tsdb-status'];
  const texts = {};
  for (const p of pages) {
    await page.goto(`${t.uiUrl}${p}`);
    try {
      await page.waitForFunction(() => {
        const b = document.querySelector('.page-body');
        return b && b.dataset.state !== 'loading';
      }, null, { timeout: 10000 });
    } catch {
      throw new Error(`${p}: still loading after 10 s`);
    }
    const state = await page.locator('.page-body').getAttribute('data-state');
    texts[p] = await page.locator('main').textContent();
    if (p === '/tsdb-status' && t.label === 'cairn') {
      // loadgen --series=20 wrote 20 series into this cairn's head.
      const series = await page.locator('.page-body table').first().locator('td').first()
          .textContent();
      check(series === '20', `/tsdb-status shows ${series} head series, expected 20`);
    }
    log(`page ${p}: ${state}`);
    check(state === 'done' || !mustWork.includes(p), `${p} failed: ${texts[p].slice(0, 300)}`);
  }
  const want = [['/status', /version/], ['/flags', /storage\.tsdb\.path/],
    ['/tsdb-status', /Number of Series/]];
  if (t.label === 'prometheus') {
    want.push(['/status', /2\.42\./], ['/targets', /self-a \(1\/1 up\)/],
        ['/targets', /self-c \(1\/1 up\)/], ['/rules', /record: job:up:sum/],
        ['/rules', /alert: SelfScraped/], ['/config', /job_name: self-b/],
        ['/alerts', /SelfScraped \(3 active\)/], ['/alerts', /summary: self-a is up/]);
  }
  for (const [p, re] of want) check(re.test(texts[p]), `${p} does not show ${re}: ${texts[p].slice(0, 500)}`);
  await page.goto(`${t.uiUrl}/alerts`);
  await page.waitForSelector('.page-body[data-state="done"]', { timeout: 10000 }).catch(() => {});
  await page.screenshot({ path: path.join(artifacts, `alerts-${t.label}.png`), fullPage: true });
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  if (!fs.existsSync(chromiumPath)) throw new Skip(`${chromiumPath} not installed`);
  const { chromium } = loadPlaywright();

  const running = process.env.CAIRN_WEB_TEST_URL?.replace(/\/+$/, '');
  const uiUrl = running || await startCairn();
  log('cairn at', uiUrl);
  const apiOverride = process.env.CAIRN_WEB_TEST_API_URL?.replace(/\/+$/, '');
  const backend = process.env.CAIRN_WEB_TEST_BACKEND || 'cairn';
  let t;
  if (running) t = await setUpExternal(uiUrl, apiOverride || uiUrl);
  else if (apiOverride) t = await setUpExternal(uiUrl, apiOverride);
  else if (backend === 'prometheus') t = await setUpPrometheus(uiUrl);
  else if (backend === 'cairn') t = await setUpCairn(uiUrl);
  else throw new Error(`unknown CAIRN_WEB_TEST_BACKEND=${backend}`);
  log(`backend ${t.label}: API ${t.apiUrl}, expression ${t.expr}, expecting ${t.expected} series`);

  const browser = await chromium.launch({ executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && log('browser console:', m.text()));
    if (t.apiUrl !== t.uiUrl) {
      // The UI is cairn's; its API calls go to the chosen backend.
      await page.route('**/api/v1/**', async (route) => {
        const u = new URL(route.request().url());
        const resp = await route.fetch({ url: `${t.apiUrl}${u.pathname}${u.search}` });
        await route.fulfill({ response: resp });
      });
    }

    if (t.noPromql) {
      await checkOtherPages(page, t);
      check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
      throw new Skip(t.noPromql);
    }

    // 1. Type the query with completion, switch to the graph.
    await page.goto(`${t.uiUrl}/`);
    check(new URL(page.url()).pathname === '/graph', `/ did not redirect to /graph: ${page.url()}`);
    const input = page.locator('.expr-input').first();
    await input.waitFor({ timeout: 10000 });
    const prefixLen = Math.max(2, t.expr.length - 3);
    if (/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(t.expr)) {
      await input.pressSequentially(t.expr.slice(0, prefixLen));
      const item = page.locator('.completions li').filter({ hasText: new RegExp(`^${t.expr}$`) });
      await item.waitFor({ state: 'visible', timeout: 10000 });
      await item.click();
      const typed = await input.inputValue();
      check(typed === t.expr, `completion of ${t.expr.slice(0, prefixLen)} gave "${typed}"`);
    } else {
      await input.fill(t.expr);
    }
    await page.locator('.panel .tab[data-tab="graph"]').first().click();
    await checkChart(page, t, 'typed query');
    const url = new URL(page.url());
    check(url.searchParams.get('g0.expr') === t.expr && url.searchParams.get('g0.tab') === '0',
        `the URL does not hold the panel: ${page.url()}`);

    // 2. A Prometheus-style link opens the same graph.
    const link = `${t.uiUrl}/graph?${new URLSearchParams({ 'g0.expr': t.expr, 'g0.tab': '0',
      'g0.range_input': '1h' })}`;
    await page.goto(link);
    const info = await checkChart(page, t, 'link');
    // Hover where the data is: sweep from the right edge until the tooltip shows.
    const over = await page.locator('.panel .chart .u-over').first().boundingBox();
    const tooltip = page.locator('.panel .chart-tooltip').first();
    for (let x = over.x + over.width - 2; x > over.x; x -= 8) {
      await page.mouse.move(x, over.y + over.height * 0.5);
      if (await tooltip.isVisible()) break;
    }
    check(await tooltip.isVisible(), 'no hover tooltip anywhere over the chart');
    const tip = await tooltip.textContent();
    check(/value: /.test(tip) && info.legendLabels.some((l) => tip.includes(l)),
        `hover tooltip names no series: "${tip}"`);
    const shot = path.join(artifacts, `graph-${t.label}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    log('screenshot saved to', shot);

    // Dragging across the chart zooms: a shorter range and an end time, in the URL.
    await page.mouse.move(over.x + over.width * 0.5, over.y + over.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.75, over.y + over.height * 0.3, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => new URL(location.href).searchParams.has('g0.end_input'), null,
        { timeout: 10000 });
    const zoomed = new URL(page.url()).searchParams;
    // A quarter of 1h, give or take a pixel's worth of seconds.
    check(/^1[45]m\d*s?$/.test(zoomed.get('g0.range_input')),
        `zooming a quarter of 1h gave range_input ${zoomed.get('g0.range_input')}`);
    check(await page.locator('.range-input').first().inputValue() === zoomed.get('g0.range_input'),
        'the range box does not show the zoomed range');

    // 3. The table tab shows the instant vector.
    await page.locator('.panel .tab[data-tab="table"]').first().click();
    await page.waitForFunction(() => {
      const e = document.querySelector('.panel .table-result');
      return e && (e.dataset.state === 'done' || e.dataset.state === 'error');
    }, null, { timeout: 20000 });
    const rows = await page.locator('.panel .table-result tr').count();
    const tableText = await page.locator('.panel').first().textContent();
    check(rows === t.expected,
        `the table of ${t.expr} has ${rows} rows, expected ${t.expected}: ${tableText.slice(0, 300)}`);
    await page.screenshot({ path: path.join(artifacts, `table-${t.label}.png`), fullPage: true });

    await checkOtherPages(page, t);
    check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
  } finally {
    await browser.close();
  }
}

const watchdog = setTimeout(() => {
  console.error('graph_test: FAIL: timed out after 200 s');
  cleanup().finally(() => process.exit(1));
}, 200000);

try {
  await main();
  log('PASS');
  process.exitCode = 0;
} catch (e) {
  if (e instanceof Skip) {
    log('SKIP:', e.message);
    process.exitCode = SKIP;
  } else {
    console.error('graph_test: FAIL:', e.stack || e.message);
    process.exitCode = 1;
  }
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
