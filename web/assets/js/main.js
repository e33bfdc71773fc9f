// main.js — boots the UI: the theme switch, the two pages (Explore, Compare) chosen by the URL
// path, in-app navigation without reloads, and back/forward (popstate re-reads the URL).
// window.__ember exposes the current page for the browser tests and the benchmark.

import { readState, stateURL } from './state.js';
import { Explore } from './explore.js';
import { Compare } from './compare.js';
import { decodeFlamebearer } from './flame/tree.js';
import { FlameGraph } from './flame/view.js';

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

window.__ember = {
  page: null,
  // For bench/ui_flame.mjs: draws a flamebearer answer in a full-width flame graph on top of the
  // page and returns how long decoding and the first draw took (ms).
  bench(fb) {
    const box = document.createElement('div');
    box.style.cssText = 'position:absolute;left:0;top:0;width:100%;min-height:100%;background:var(--bg);z-index:100;padding:8px';
    document.body.append(box);
    const t0 = performance.now();
    const tree = decodeFlamebearer(fb.flamebearer, fb.metadata && fb.metadata.format);
    const t1 = performance.now();
    const fg = new FlameGraph(box, { unit: 'nanoseconds' });
    fg.setTree(tree);
    const t2 = performance.now();
    window.__ember.flame = fg;
    return { nodes: tree.n, decodeMs: t1 - t0, drawMs: t2 - t1, firstPaintMs: t2 - t0 };
  },
};

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
