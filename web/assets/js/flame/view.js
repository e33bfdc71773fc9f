// flame/view.js — the flame graph on canvas: flame (root at the bottom) or icicle (root at the
// top) orientation, click to zoom with a breadcrumb, a hover outline and tooltip drawn on an
// overlay canvas (the graph itself is not redrawn on hover), search highlighting, keyboard
// navigation (arrows, Enter zooms, Esc zooms out, f focus, h hide), a context menu (focus on /
// hide this function, sandwich, history, copy name), colours by package or per function, diff
// colouring for "double" trees. Draws only nodes at least MIN_PX wide, batching rects by colour.
// Timings of every draw, hover and zoom are kept in .timings for the benchmark.

import { Layout, MIN_PX, searchTree } from './layout.js';
import { nodeColor, diffChange, diffColor, isKernel } from './colors.js';
import { pathOf, findPath } from './tree.js';
import { fmtValue, fmtPct, fmtSignedPct } from '../format.js';

const ROW = 18;
const TEXT_MIN_PX = 28;
const FULL_DEPTH_ROWS = 64; // trees up to this deep get a canvas for all their levels
const FONT = '11.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

export class FlameGraph {
  // opts: {unit, mode: 'flame'|'icicle', colorMode: 'package'|'function', title,
  //        onZoom(path), onSelect(name), actions: {focus, hide, sandwich, history}(name)}
  constructor(parent, opts = {}) {
    this.opts = opts;
    this.mode = opts.mode || 'icicle';
    this.colorMode = opts.colorMode || 'package';
    this.unit = opts.unit || '';
    this.t = null;
    this.L = null;
    this.hover = -1;
    this.sel = -1;
    this.search = null;
    this.timings = { firstPaint: 0, draw: [], hover: [], zoom: [] };
    this.root = el('div', 'fg');
    this.bar = el('div', 'fg-bar');
    this.crumbs = el('div', 'fg-crumbs');
    this.status = el('div', 'fg-status');
    this.bar.append(this.crumbs, this.status);
    this.wrap = el('div', 'fg-wrap');
    this.canvas = el('canvas', 'fg-main');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('aria-label', 'flame graph; arrows move, Enter zooms, Esc zooms out');
    this.overlay = el('canvas', 'fg-overlay');
    this.wrap.append(this.canvas, this.overlay);
    this.tip = el('div', 'fg-tip');
    this.tip.hidden = true;
    this.menu = el('div', 'fg-menu');
    this.menu.hidden = true;
    this.root.append(this.bar, this.wrap, this.tip, this.menu);
    if (opts.title) this.root.prepend(el('div', 'fg-title', opts.title));
    parent.append(this.root);
    this.bind();
    // the width comes from the observer, so that drawing never forces a layout
    this.width = 0;
    this.ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[entries.length - 1].contentRect.width);
      if (w === this.width) return;
      this.width = w;
      if (this.t) this.draw();
    });
    this.ro.observe(this.wrap);
  }

  destroy() {
    this.ro.disconnect();
    document.removeEventListener('click', this.onDocClick);
    this.root.remove();
  }

  dark() {
    return document.documentElement.dataset.theme === 'dark';
  }

  setTree(tree, zoomPath) {
    const t0 = performance.now();
    this.t = tree;
    this.colors = new Array(tree.names.length);
    this.L = new Layout(tree, 0, this.width || 800);
    this.hover = -1;
    this.sel = -1;
    if (this.searchText) this.search = searchTree(tree, this.searchText);
    if (zoomPath && zoomPath.length) {
      const id = findPath(tree, zoomPath);
      if (id > 0) this.L.setZoom(id);
    }
    this.draw();
    this.timings.firstPaint = performance.now() - t0;
    this.root.classList.toggle('fg-empty', !tree.n || !tree.numTicks);
  }

  setMode(mode) {
    this.mode = mode;
    if (this.t) this.draw();
  }

  setColorMode(m) {
    this.colorMode = m;
    if (this.t) {
      this.colors = new Array(this.t.names.length);
      this.draw();
    }
  }

  setSearch(text) {
    this.searchText = text || '';
    this.search = this.t && text ? searchTree(this.t, text) : null;
    if (this.t) this.draw();
    return this.search;
  }

  // Selects the widest node of a function and zooms to its parent so that it is in view.
  selectFunction(name) {
    const t = this.t;
    if (!t) return false;
    const ni = t.names.indexOf(name);
    if (ni < 0) return false;
    let best = -1;
    for (let i = 1; i < t.n; i++) if (t.name[i] === ni && (best < 0 || t.total[i] > t.total[best])) best = i;
    if (best < 0) return false;
    this.zoomTo(t.parent[best] > 0 ? t.parent[best] : 0);
    this.sel = best;
    this.drawOverlay();
    this.canvas.focus({ preventScroll: true });
    return true;
  }

  zoomTo(id) {
    const t0 = performance.now();
    this.L.setZoom(id);
    this.hover = -1;
    this.draw();
    this.timings.zoom.push(performance.now() - t0);
    if (this.opts.onZoom) this.opts.onZoom(id > 0 ? pathOf(this.t, id) : []);
  }

  zoomPath() {
    return this.L && this.L.zoom > 0 ? pathOf(this.t, this.L.zoom) : [];
  }

  rowY(d, rows) {
    return this.mode === 'flame' ? (rows - 1 - d) * ROW : d * ROW;
  }

  colorOf(id) {
    const t = this.t;
    const nm = t.name[id];
    if (this.search && !this.search.hits[nm]) return this.dark() ? '#3a3d44' : '#dcdcdc';
    if (t.diff) {
      const D = t.diff;
      const c = diffChange(D.lTotal[id], D.leftTicks, D.rTotal[id], D.rightTicks);
      return diffColor(Math.round(c * 20) / 20, this.dark());
    }
    let c = this.colors[nm];
    if (!c) c = this.colors[nm] = nodeColor(t.names[nm], this.colorMode, this.dark());
    return c;
  }

  draw() {
    const t0 = performance.now();
    this.tipId = -1;
    const t = this.t, L = this.L;
    if (!this.width) this.width = Math.floor(this.wrap.clientWidth); // before the first observation
    const width = Math.max(100, this.width || 800);
    L.setWidth(width);
    const maxD = t.n ? L.maxVisibleDepth() : 0;
    // the canvas never shrinks for one tree and width: resizing reallocates its pixels, which
    // costs more than drawing (and the graph does not jump on zoom)
    if (this.rowsFor !== t || this.rowsWidth !== width) {
      this.rowsFor = t;
      this.rowsWidth = width;
      // room for every level when that is reasonable, so that zooming never resizes
      this.rowsCap = t.nLevels <= FULL_DEPTH_ROWS ? t.nLevels : 1;
    }
    this.rowsCap = Math.max(this.rowsCap, maxD + 1);
    const rows = this.rowsCap;
    this.rows = rows;
    const height = rows * ROW;
    const dpr = window.devicePixelRatio || 1;
    this.fit(this.canvas, width, height);
    // the overlay gets its pixels on the first hover: not allocating it speeds up the first paint
    if (this.overlayUsed) this.fit(this.overlay, width, height);
    this.cssW = width;
    this.cssH = height;
    this.wrap.style.height = height + 'px';
    const ctx = this.canvas.getContext('2d', { alpha: false });
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const theme = document.documentElement.dataset.theme;
    if (this.bgTheme !== theme) {
      this.bgTheme = theme;
      this.bg = getComputedStyle(this.root).getPropertyValue('--fg-bg').trim() || '#fff';
      this.colors = new Array(t.names.length);
    }
    ctx.fillStyle = this.bg;
    ctx.fillRect(0, 0, width, height);
    if (!t.n || !t.numTicks) {
      this.renderCrumbs();
      this.timings.draw.push(performance.now() - t0);
      return;
    }
    // rects batched by colour; labels collected for one text pass
    const buckets = new Map();
    const labels = [];
    const zd = L.zoomDepth;
    for (let d = 0; d <= maxD; d++) {
      const y = this.rowY(d, rows);
      L.forEachVisible(d, (id, x, w) => {
        const col = d < zd ? 'anc' : this.colorOf(id);
        let b = buckets.get(col);
        if (!b) buckets.set(col, (b = []));
        b.push(x, y, w);
        if (w >= TEXT_MIN_PX) labels.push(id, x, y, w);
      });
    }
    const gap = 0.5;
    for (const [col, b] of buckets) {
      ctx.fillStyle = col === 'anc' ? (this.dark() ? '#4a4d55' : '#c8c8cc') : col;
      for (let i = 0; i < b.length; i += 3) {
        const w = b[i + 2];
        ctx.fillRect(b[i], b[i + 1], w > 2 ? w - gap : w, ROW - 1);
      }
    }
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#111';
    if (!this.charW) this.charW = ctx.measureText('abcdefghij').width / 10 || 7;
    const cw = this.charW;
    for (let i = 0; i < labels.length; i += 4) {
      const id = labels[i], x = labels[i + 1], y = labels[i + 2], w = labels[i + 3];
      const name = t.names[t.name[id]];
      const fit = Math.floor((w - 6) / cw);
      if (fit < 2) continue;
      const s = name.length <= fit ? name : name.slice(0, fit - 1) + '…';
      ctx.fillText(s, Math.max(0, x) + 3, y + ROW / 2);
    }
    this.renderCrumbs();
    this.renderStatus();
    this.drawOverlay();
    this.timings.draw.push(performance.now() - t0);
  }

  // Sizes a canvas to width x height CSS pixels (its pixels are reallocated only on a change).
  fit(c, width, height) {
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(width * dpr) || c.height !== Math.round(height * dpr)) {
      c.width = Math.round(width * dpr);
      c.height = Math.round(height * dpr);
      c.style.width = width + 'px';
      c.style.height = height + 'px';
    }
  }

  drawOverlay() {
    if (!this.overlayUsed) {
      if (this.hover < 0 && this.sel < 0) return;
      this.overlayUsed = true;
      this.fit(this.overlay, this.cssW, this.cssH);
    }
    const ctx = this.overlay.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.overlay.width, this.overlay.height);
    const outline = (id, style, lw) => {
      if (id < 0 || !this.t || id >= this.t.n) return;
      const [x, w] = this.L.rect(id);
      if (w < MIN_PX) return;
      const y = this.rowY(this.t.depth[id], this.rows);
      if (this.t.depth[id] > this.rows - 1) return;
      ctx.strokeStyle = style;
      ctx.lineWidth = lw;
      ctx.strokeRect(Math.max(0, x) + lw / 2, y + lw / 2, Math.max(1, Math.min(w, this.L.width) - lw), ROW - 1 - lw);
    };
    outline(this.sel, this.dark() ? '#fff' : '#000', 2);
    outline(this.hover, this.dark() ? '#ddd' : '#333', 1);
  }

  renderCrumbs() {
    const t = this.t, L = this.L;
    this.crumbs.textContent = '';
    if (!t || !t.n) return;
    const ids = [...L.ancestors];
    ids.forEach((id, k) => {
      if (k) this.crumbs.append(el('span', 'fg-sep', '›'));
      const b = el('button', 'fg-crumb', k ? t.names[t.name[id]] : 'all');
      b.title = 'zoom to ' + (k ? t.names[t.name[id]] : 'the whole profile');
      if (id === L.zoom) b.classList.add('cur');
      b.onclick = () => this.zoomTo(id);
      this.crumbs.append(b);
    });
  }

  renderStatus() {
    const s = this.search;
    if (!s) {
      this.status.textContent = '';
      return;
    }
    this.status.textContent = s.nNames
      ? `${s.nNames} matching function${s.nNames > 1 ? 's' : ''}: ${fmtPct(s.share)} of total (${fmtValue(s.value, this.unit)})`
      : 'no function matches';
  }

  idAt(ev) {
    if (!this.t || !this.t.n) return -1;
    const r = this.canvas.getBoundingClientRect();
    const x = ev.clientX - r.left, y = ev.clientY - r.top;
    const row = Math.floor(y / ROW);
    const d = this.mode === 'flame' ? this.rows - 1 - row : row;
    return this.L.hit(d, x);
  }

  tooltip(id, ev) {
    const t = this.t;
    if (id < 0) {
      this.tip.hidden = true;
      this.tipId = -1;
      return;
    }
    if (id !== this.tipId) {
      this.tipId = id;
      this.fillTip(id);
      this.tip.hidden = false;
      this.tipW = this.tip.offsetWidth; // one layout per node, not per mouse move
      this.tipH = this.tip.offsetHeight;
    }
    this.tip.hidden = false;
    const pad = 14;
    let x = ev.clientX + pad, y = ev.clientY + pad;
    if (x + this.tipW > window.innerWidth) x = Math.max(0, ev.clientX - this.tipW - pad);
    if (y + this.tipH > window.innerHeight) y = Math.max(0, ev.clientY - this.tipH - pad);
    this.tip.style.transform = `translate(${x}px,${y}px)`;
  }

  fillTip(id) {
    const t = this.t;
    const name = t.names[t.name[id]];
    const u = this.unit;
    const rows = [];
    if (t.diff) {
      const D = t.diff;
      const ls = D.leftTicks ? D.lTotal[id] / D.leftTicks : 0, rs = D.rightTicks ? D.rTotal[id] / D.rightTicks : 0;
      rows.push(['Base total', `${fmtValue(D.lTotal[id], u)} (${fmtPct(ls)})`]);
      rows.push(['New total', `${fmtValue(D.rTotal[id], u)} (${fmtPct(rs)})`]);
      rows.push(['Change', fmtSignedPct(rs - ls) + ' of total']);
      rows.push(['Base self', fmtValue(D.lSelf[id], u)]);
      rows.push(['New self', fmtValue(D.rSelf[id], u)]);
    } else {
      rows.push(['Total', `${fmtValue(t.total[id], u)} (${fmtPct(t.total[id] / t.numTicks)})`]);
      rows.push(['Self', `${fmtValue(t.self[id], u)} (${fmtPct(t.self[id] / t.numTicks)})`]);
      if (this.L.zoom > 0) rows.push(['Of zoomed', fmtPct(t.total[id] / t.total[this.L.zoom])]);
    }
    this.tip.textContent = '';
    const h = el('div', 'fg-tip-name', name);
    if (isKernel(name)) h.append(el('span', 'fg-tag', 'kernel'));
    this.tip.append(h);
    const tb = el('table');
    for (const [k, v] of rows) {
      const tr = el('tr');
      tr.append(el('th', null, k), el('td', null, v));
      tb.append(tr);
    }
    this.tip.append(tb, el('div', 'fg-tip-hint', 'click: zoom · right-click: more'));
  }

  showMenu(id, x, y) {
    const t = this.t;
    const name = t.names[t.name[id]];
    const a = this.opts.actions || {};
    this.menu.textContent = '';
    this.menu.append(el('div', 'fg-menu-title', name));
    const item = (label, fn) => {
      const b = el('button', 'fg-menu-item', label);
      b.onclick = () => {
        this.menu.hidden = true;
        fn();
      };
      this.menu.append(b);
    };
    item('Zoom here', () => this.zoomTo(id));
    if (a.focus) item('Focus on this function', () => a.focus(name));
    if (a.hide) item('Hide this function', () => a.hide(name));
    if (a.sandwich) item('Sandwich: callers and callees', () => a.sandwich(name));
    if (a.history) item('History of this function', () => a.history(name));
    item('Copy name', () => navigator.clipboard && navigator.clipboard.writeText(name).catch(() => {}));
    this.menu.hidden = false;
    this.menu.style.left = Math.min(x, window.innerWidth - 260) + 'px';
    this.menu.style.top = Math.min(y, window.innerHeight - 220) + 'px';
  }

  bind() {
    const c = this.canvas;
    c.addEventListener('mousemove', (ev) => {
      const t0 = performance.now();
      const id = this.idAt(ev);
      if (id !== this.hover) {
        this.hover = id;
        this.drawOverlay();
      }
      this.tooltip(id, ev);
      const cur = id >= 0 ? 'pointer' : 'default';
      if (c.style.cursor !== cur) c.style.cursor = cur;
      this.timings.hover.push(performance.now() - t0);
    });
    c.addEventListener('mouseleave', () => {
      this.hover = -1;
      this.tip.hidden = true;
      this.drawOverlay();
    });
    c.addEventListener('click', (ev) => {
      this.menu.hidden = true;
      const id = this.idAt(ev);
      if (id < 0) return;
      this.sel = id;
      if (this.opts.onSelect) this.opts.onSelect(this.t.names[this.t.name[id]]);
      this.zoomTo(id);
    });
    c.addEventListener('contextmenu', (ev) => {
      const id = this.idAt(ev);
      if (id < 0) return;
      ev.preventDefault();
      this.sel = id;
      this.drawOverlay();
      this.tip.hidden = true;
      this.showMenu(id, ev.clientX, ev.clientY);
    });
    this.onDocClick = (ev) => {
      if (!this.menu.contains(ev.target) && ev.target !== c) this.menu.hidden = true;
    };
    document.addEventListener('click', this.onDocClick);
    c.addEventListener('keydown', (ev) => this.key(ev));
  }

  key(ev) {
    if (!this.t || !this.t.n) return;
    const L = this.L;
    let s = this.sel >= 0 ? this.sel : L.zoom;
    const up = this.mode === 'flame' ? 'ArrowUp' : 'ArrowDown';
    const down = this.mode === 'flame' ? 'ArrowDown' : 'ArrowUp';
    let next = -2;
    switch (ev.key) {
      case up:
        next = L.firstChildOf(s);
        break;
      case down:
        next = s > 0 && this.t.depth[s] > 0 ? this.t.parent[s] : -1;
        break;
      case 'ArrowLeft':
        next = L.sibling(s, -1);
        break;
      case 'ArrowRight':
        next = L.sibling(s, 1);
        break;
      case 'Enter':
        this.zoomTo(s);
        break;
      case 'Escape':
        this.menu.hidden = true;
        this.zoomTo(L.zoom > 0 ? this.t.parent[L.zoom] : 0);
        break;
      case 'f':
        if (this.opts.actions && this.opts.actions.focus && s > 0) this.opts.actions.focus(this.t.names[this.t.name[s]]);
        break;
      case 'h':
        if (this.opts.actions && this.opts.actions.hide && s > 0) this.opts.actions.hide(this.t.names[this.t.name[s]]);
        break;
      default:
        return;
    }
    ev.preventDefault();
    if (next >= 0) {
      this.sel = next;
      if (this.t.depth[next] < L.zoomDepth) this.zoomTo(next);
      else this.drawOverlay();
      const [x, w] = L.rect(next);
      const r = this.canvas.getBoundingClientRect();
      const y = this.rowY(this.t.depth[next], this.rows);
      this.tooltip(next, { clientX: r.left + x + Math.min(w, L.width) / 2, clientY: r.top + y + ROW });
      if (this.opts.onSelect) this.opts.onSelect(this.t.names[this.t.name[next]]);
    }
  }

  // A PNG of the graph as drawn.
  toPNG() {
    return this.canvas.toDataURL('image/png');
  }
}
