// main.js — boots the UI: the theme switch, the two pages (Explore, Compare) chosen by the URL
// path, in-app navigation without reloads, and back/forward (popstate re-reads the URL).
// window.__ember exposes the current page for the browser tests and the benchmark.

import { readState, stateURL } from './state.js';
import { Explore } from './explore.js';
import { Compare } from './compare.js';

const app = document.getElementById('app');
let page = null;
let pageName = '';

function show() {
  const { page: name, p } = readState();
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.nav === name);
  if (name !== pageName) {
    if (page && page.destroy) page.destroy();
    app.textContent = '';
    page = name === 'compare' ? new Compare(app) : new Explore(app);
    pageName = name;
    window.__ember.page = page;
  }
  page.update(p);
}

window.__ember = { page: null };

document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[data-nav]');
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  // keep the selection when switching pages
  const cur = readState().p;
  const keep = {};
  if (a.dataset.nav === 'compare' && cur.query) Object.assign(keep, { lquery: cur.query, rquery: cur.query, from: cur.from, until: cur.until });
  if (a.dataset.nav === 'explore' && cur.rquery) Object.assign(keep, { query: cur.rquery, from: cur.rfrom, until: cur.runtil });
  history.pushState(null, '', stateURL(a.dataset.nav, keep));
  show();
});

window.addEventListener('popstate', show);

document.getElementById('theme').addEventListener('click', () => {
  const t = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = t;
  try {
    localStorage.setItem('ember-theme', t);
  } catch {
    /* private mode: the choice lasts for this page */
  }
  if (page && page.themeChanged) page.themeChanged();
});

show();
