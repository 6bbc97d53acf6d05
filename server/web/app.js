// Entry point of the Cairn UI: picks the page from the path (the server returns this
// same app for /graph, /targets, /alerts, /rules, /status, /flags, /tsdb-status,
// /config).
import { renderGraphPage } from './graph.js';
import {
  renderTargets, renderAlerts, renderRules, renderStatus, renderFlags, renderTsdbStatus,
  renderConfig,
} from './pages.js';
import { h } from './util.js';

const PAGES = {
  '/graph': ['graph', 'Graph', renderGraphPage],
  '/targets': ['targets', 'Targets', renderTargets],
  '/alerts': ['alerts', 'Alerts', renderAlerts],
  '/rules': ['rules', 'Rules', renderRules],
  '/status': ['status', 'Status', renderStatus],
  '/flags': ['flags', 'Flags', renderFlags],
  '/tsdb-status': ['tsdb-status', 'TSDB Status', renderTsdbStatus],
  '/config': ['config', 'Configuration', renderConfig],
};

function main() {
  const root = document.getElementById('app');
  root.replaceChildren();
  const page = PAGES[location.pathname.replace(/\/+$/, '')];
  const tz = document.getElementById('use-local-time');
  tz.checked = localStorage.getItem('cairn.useLocalTime') === '1';
  tz.addEventListener('change', () => {
    localStorage.setItem('cairn.useLocalTime', tz.checked ? '1' : '0');
    location.reload();
  });
  if (!page) {
    root.append(h('h1', {}, 'Not found'), h('p', {}, `No page at ${location.pathname}.`));
    return;
  }
  const [id, title, render] = page;
  document.title = `${title} - Cairn`;
  for (const a of document.querySelectorAll('nav a[data-page]')) {
    a.classList.toggle('active', a.dataset.page === id);
  }
  document.body.dataset.page = id;
  render(root);
}

main();
