// compare.js — the Compare page: two selections (baseline and comparison), each a query (label
// set, e.g. version="1.2" vs "1.3") and a time range, picked with filters, absolute times or by
// dragging on the chart (a radio says which side the drag sets). Shows both ranges on the chart,
// then the differential flame graph (/pyroscope/render-diff; red = grew, green = shrank, by the
// normalized relative change; tooltips give both totals) and the diff table sorted by change.

import * as api from './api.js';
import { h, clear, message } from './dom.js';
import { writeState } from './state.js';

const SEP = '\u203a'; // joins the zoom path in the URL (as on Explore)
import { parseQuery, buildQuery } from './query.js';
import { resolve, toLocalInput, fromLocalInput, stepFor } from './time.js';
import { fmtValue, fmtDate, unitOfType } from './format.js';
import { SeriesChart } from './chart.js';
import { FlameGraph } from './flame/view.js';
import { decodeFlamebearer, diffTable } from './flame/tree.js';
import { TopTable } from './toptable.js';
import { LabelFilters } from './filters.js';
import { timePicker } from './explore.js';

const DEFAULT_TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';

export class Compare {
  constructor(root) {
    this.p = {};
    this.gen = 0;
    this.el = h('div.page.compare');
    this.bar = h('div.toolbar');
    this.chartBox = h('section.card.chart-card');
    this.sides = h('div.sides');
    this.viewbar = h('div.viewbar');
    this.panel = h('section.panel');
    this.el.append(this.bar, this.chartBox, this.sides, this.viewbar, this.panel);
    root.append(this.el);
    this.target = 'r';
    this.chart = new SeriesChart(this.chartBox, {
      height: 150,
      onSelect: (a, b) => this.set({ [this.target + 'from']: String(a), [this.target + 'until']: String(b) }),
    });
  }

  destroy() {
    this.gen++;
    this.chart.destroy();
    if (this.flame) this.flame.destroy();
    this.el.remove();
  }

  themeChanged() {
    this.key = '';
    this.update(this.p);
  }

  set(changes, push = true) {
    const p = { ...this.p, ...changes };
    for (const k of Object.keys(p)) if (p[k] == null || p[k] === '') delete p[k];
    writeState('compare', p, push);
    this.update(p);
  }

  async update(p) {
    const gen = ++this.gen;
    p = { from: 'now-1h', until: 'now', ...p };
    if (!p.lquery || !p.rquery) {
      let q = p.lquery || p.rquery || p.query;
      if (!q) {
        let types = [];
        try {
          types = await api.profileTypes('now-30d', 'now');
        } catch {
          types = [];
        }
        if (gen !== this.gen) return;
        const t = types.includes(DEFAULT_TYPE) ? DEFAULT_TYPE : types[0];
        if (!t) {
          clear(this.panel).append(message('empty', 'No profiles on this server yet.', 'Send profiles first (see Explore), then compare two time ranges or label sets.'));
          return;
        }
        q = `${t}{}`;
      }
      p.lquery = p.lquery || q;
      p.rquery = p.rquery || q;
      delete p.query;
    }
    if (!p.lfrom || !p.luntil || !p.rfrom || !p.runtil) {
      const a = resolve(p.from), b = resolve(p.until), mid = Math.round((a + b) / 2);
      p.lfrom = p.lfrom || String(a);
      p.luntil = p.luntil || String(mid);
      p.rfrom = p.rfrom || String(mid);
      p.runtil = p.runtil || String(b);
    }
    this.p = p;
    writeState('compare', p, false);
    this.unit = unitOfType(p.rquery.split('{')[0]);
    this.renderBar();
    this.renderSides();
    this.renderViewbar();
    this.loadChart(gen);
    const key = JSON.stringify([p.lquery, p.lfrom, p.luntil, p.rquery, p.rfrom, p.runtil, p.maxNodes, document.documentElement.dataset.theme]);
    if (key === this.key && this.tree) {
      this.applyLight();
      if (this.view !== (p.view || 'both')) this.renderPanel();
      return;
    }
    this.key = key;
    clear(this.panel).append(message('loading', 'Computing the difference…'));
    try {
      const fb = await api.renderDiff(p);
      if (gen !== this.gen) return;
      this.tree = decodeFlamebearer(fb.flamebearer, (fb.metadata && fb.metadata.format) || 'double');
    } catch (e) {
      if (gen !== this.gen) return;
      this.tree = null;
      this.key = '';
      clear(this.panel).append(message('error', 'The comparison failed: ' + e.message, 'Both sides need the same profile type; check the queries and ranges.'));
      return;
    }
    this.renderPanel();
  }

  applyLight() {
    const p = this.p;
    if (this.flame) {
      this.flame.setMode(p.mode || 'icicle');
      if ((this.flame.searchText || '') !== (p.search || '')) this.flame.setSearch(p.search || '');
      const zoom = p.zoom ? p.zoom.split(SEP) : [];
      if (this.flame.zoomPath().join(SEP) !== zoom.join(SEP)) this.flame.setTree(this.tree, zoom);
    }
  }

  async loadChart(gen) {
    const p = this.p;
    const from = resolve(p.from), until = resolve(p.until);
    const bands = [
      { from: resolve(p.lfrom), until: resolve(p.luntil), color: 'rgba(59,130,246,0.18)' },
      { from: resolve(p.rfrom), until: resolve(p.runtil), color: 'rgba(239,68,68,0.18)' },
    ];
    const pts = async (query) => {
      try {
        const r = await api.series({ query, from, until, step: stepFor(from, until) });
        return (r.series && r.series[0] && r.series[0].points) || [];
      } catch (e) {
        if (!(e instanceof api.ApiError) || !e.unavailable) throw e;
        const fb = await api.render({ query, from: p.from, until: p.until, maxNodes: 1 });
        const tl = fb.timeline;
        return tl ? tl.samples.map((v, i) => [(tl.startTime + i * tl.durationDelta) * 1000, v]) : [];
      }
    };
    try {
      const series = [{ label: 'baseline query', points: await pts(p.lquery), color: '#3b82f6' }];
      if (p.rquery !== p.lquery) series.push({ label: 'comparison query', points: await pts(p.rquery), color: '#ef4444' });
      if (gen !== this.gen) return;
      this.chart.set(series, this.unit, [from, until], bands, stepFor(from, until) * 1000);
    } catch (e) {
      if (gen !== this.gen) return;
      this.chart.set([], this.unit, [from, until], bands);
    }
  }

  renderBar() {
    const p = this.p;
    clear(this.bar);
    const radio = (v, label) =>
      h('label.radio', h('input', { type: 'radio', name: 'target', value: v, checked: this.target === v, on: { change: () => (this.target = v) } }), label);
    const a = resolve(p.from), b = resolve(p.until);
    const halves = h('button.btn.small#halves', {
      title: 'baseline = first half of the chart range, comparison = second half',
      on: { click: () => { const m = Math.round((a + b) / 2); this.set({ lfrom: String(a), luntil: String(m), rfrom: String(m), runtil: String(b) }); } },
    }, 'First half vs second half');
    const prev = h('button.btn.small#previous', {
      title: 'comparison = the chart range, baseline = the same length just before it',
      on: { click: () => this.set({ from: String(2 * a - b), until: String(b), lfrom: String(2 * a - b), luntil: String(a), rfrom: String(a), runtil: String(b) }) },
    }, 'Previous period vs this one');
    this.bar.append(
      h('div.field', h('span', 'Chart range'), timePicker(p.from, p.until, (from, until) => this.set({ from, until }))),
      h('div.field', h('span', 'Drag on the chart to set'), h('div.radios', radio('l', 'Baseline'), radio('r', 'Comparison'))),
      h('div.field', h('span', 'Presets'), h('div.radios', halves, prev)),
    );
  }

  renderSides() {
    clear(this.sides);
    this.sides.append(this.side('l', 'Baseline', 'base'), this.side('r', 'Comparison', 'new'));
  }

  side(s, title, cls) {
    const p = this.p;
    const q = p[s + 'query'];
    let parsed;
    try {
      parsed = parseQuery(q);
    } catch {
      parsed = { type: q.split('{')[0], matchers: [] };
    }
    const qi = h('input.side-query', { id: s + 'query', type: 'text', value: q, spellcheck: false, 'aria-label': title + ' query', on: { keydown: (ev) => ev.key === 'Enter' && this.set({ [s + 'query']: qi.value.trim() }) } });
    const filters = new LabelFilters({
      matchers: parsed.matchers,
      names: () => api.labelNames(q, p.from, p.until),
      values: (label) => api.labelValues(label, q, p.from, p.until),
      onChange: (ms) => this.set({ [s + 'query']: buildQuery(parsed.type, ms) }),
    });
    const f = h('input.dt', { id: s + 'from', type: 'datetime-local', step: 1, value: toLocalInput(resolve(p[s + 'from'])), 'aria-label': title + ' from' });
    const u = h('input.dt', { id: s + 'until', type: 'datetime-local', step: 1, value: toLocalInput(resolve(p[s + 'until'])), 'aria-label': title + ' until' });
    const apply = h('button.btn.small', {
      on: {
        click: () => {
          const a = fromLocalInput(f.value), b = fromLocalInput(u.value);
          if (a < b) this.set({ [s + 'from']: String(a), [s + 'until']: String(b) });
        },
      },
    }, 'Apply');
    return h(`div.side.side-${cls}`, h('div.side-title', title, h('span.muted.small', ` ${fmtDate(resolve(p[s + 'from']))} → ${fmtDate(resolve(p[s + 'until']))}`)), qi, filters.el, h('div.side-range', f, u, apply));
  }

  renderViewbar() {
    const p = this.p;
    clear(this.viewbar);
    const view = p.view || 'both';
    const tabs = h('div.tabs');
    for (const [k, l] of [['flame', 'Diff flame graph'], ['table', 'Diff table'], ['both', 'Both']]) tabs.append(h('button.tab', { class: 'tab' + (k === view ? ' active' : ''), 'data-view': k, on: { click: () => this.set({ view: k }) } }, l));
    const mode = p.mode || 'icicle';
    let timer = 0;
    const search = h('input#search', { type: 'search', placeholder: 'Search functions (regex)', value: p.search || '', on: { input: () => { clearTimeout(timer); timer = setTimeout(() => this.set({ search: search.value }, false), 120); } } });
    this.viewbar.append(tabs, h('div.chips',
      h('span.legend', h('i.sw.up'), 'grew ', h('i.sw.down'), 'shrank (share of each side\'s total)'),
      h('button.btn.small#mode', { on: { click: () => this.set({ mode: mode === 'icicle' ? 'flame' : 'icicle' }) } }, mode === 'icicle' ? '▼ Icicle' : '▲ Flame'),
      search));
  }

  renderPanel() {
    const p = this.p, t = this.tree;
    const view = p.view || 'both';
    this.view = view;
    if (this.flame) this.flame.destroy();
    this.flame = null;
    clear(this.panel);
    const D = t.diff;
    if (!t.n || (!D.leftTicks && !D.rightTicks)) {
      this.panel.append(message('empty', 'Neither selection has samples.', 'Pick time ranges that hold data (drag on the chart) or change the label filters.'));
      return;
    }
    const warn = !D.leftTicks ? 'The baseline has no samples: everything shows as new.' : !D.rightTicks ? 'The comparison has no samples: everything shows as gone.' : '';
    this.panel.append(h('div.meta', `Baseline ${fmtValue(D.leftTicks, this.unit)} · Comparison ${fmtValue(D.rightTicks, this.unit)} · ${t.n.toLocaleString()} nodes`));
    if (warn) this.panel.append(message('empty', warn));
    const box = view === 'both' ? h('div.split') : this.panel;
    if (view === 'both') this.panel.append(box);
    if (view !== 'flame') {
      const left = view === 'both' ? h('div.split-left') : box;
      if (view === 'both') box.append(left);
      const table = new TopTable(left, {
        unit: this.unit,
        diff: true,
        onPick: (name) => this.flame && this.flame.selectFunction(name),
      });
      table.set(diffTable(t), [D.leftTicks, D.rightTicks]);
    }
    if (view !== 'table') {
      const right = view === 'both' ? h('div.split-right') : box;
      if (view === 'both') box.append(right);
      // the zoom (a path of function names) is in the URL: a shared link opens the same view
      this.flame = new FlameGraph(right, { unit: this.unit, mode: p.mode || 'icicle', onZoom: (path) => this.set({ zoom: path.join(SEP) }) });
      this.flame.setSearch(p.search || '');
      this.flame.setTree(t, p.zoom ? p.zoom.split(SEP) : []);
      window.__ember.flame = this.flame;
    }
  }
}
