// explore.js — the Explore page: profile type and service pickers, label filters with
// autocomplete, group-by, time range (presets, absolute, drag on the chart), the time series of
// the selection, and below it the merged profile of the range as a flame graph, top table, both,
// sandwich (callers/callees of one function) or one function's history; focus/hide, search,
// export. All state is in the URL (state.js); every change that navigates pushes a history
// entry, typing replaces it.

import * as api from './api.js';
import { h, clear, message } from './dom.js';
import { writeState } from './state.js';
import { parseQuery, buildQuery, matcherValue, exactRegex } from './query.js';
import { PRESETS, resolve, presetLabel, toLocalInput, fromLocalInput, stepFor } from './time.js';
import { fmtValue, fmtPct, fmtDate, unitOfType } from './format.js';
import { SeriesChart } from './chart.js';
import { FlameGraph } from './flame/view.js';
import { decodeFlamebearer, functionTable, callersTree, calleesTree } from './flame/tree.js';
import { TopTable } from './toptable.js';
import { LabelFilters } from './filters.js';

const SEP = '\u203a'; // joins the zoom path in the URL
const VIEWS = [
  ['flame', 'Flame graph'],
  ['table', 'Top table'],
  ['both', 'Table + flame'],
  ['sandwich', 'Sandwich'],
  ['history', 'Function history'],
];
const DEFAULT_TYPE = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const NO_DATA_HINT = 'Start an agent on a host (`ember agent --server http://THIS-SERVER:4040`), point a Pyroscope SDK at this server, or POST pprof/folded profiles to /ingest. Then pick a time range that holds data.';

function errText(e) {
  if (e.status === 501 || e.status === 404) return `This server does not offer ${e.url.split('?')[0]} (yet).`;
  return e.message;
}

export class Explore {
  constructor(root) {
    this.root = root;
    this.p = {};
    this.gen = 0;
    this.cache = new Map();
    this.types = null;
    this.el = h('div.page.explore');
    this.bar = h('div.toolbar');
    this.qline = h('div.qline');
    this.chartBox = h('section.card.chart-card');
    this.tabs = h('div.tabs');
    this.chips = h('div.chips');
    this.panel = h('section.panel');
    this.viewbar = h('div.viewbar', this.tabs, this.chips);
    this.el.append(this.bar, this.qline, this.chartBox, this.viewbar, this.panel);
    root.append(this.el);
    this.chart = new SeriesChart(this.chartBox, {
      height: 170,
      onSelect: (a, b) => this.set({ from: String(a), until: String(b), zoom: '' }),
    });
    this.chartMsg = h('div.chart-msg');
    this.chartBox.append(this.chartMsg);
    this.panelKey = '';
  }

  destroy() {
    this.gen++; // answers still in flight are dropped
    this.chart.destroy();
    for (const k of ['flame', 'callers', 'callees', 'histChart']) if (this[k]) this[k].destroy();
    this.el.remove();
  }

  themeChanged() {
    this.seriesKey = '';
    this.panelKey = '';
    this.barKey = '';
    this.tabsKey = '';
    this.update(this.p);
  }

  // Merges changes into the state and the URL (push: a new history entry), then updates.
  set(changes, push = true) {
    const p = { ...this.p, ...changes };
    for (const k of Object.keys(p)) if (p[k] == null || p[k] === '') delete p[k];
    writeState('explore', p, push);
    this.update(p);
  }

  cached(key, fn) {
    if (!this.cache.has(key)) {
      const pr = fn();
      this.cache.set(key, pr);
      pr.catch(() => this.cache.delete(key));
      if (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value);
    }
    return this.cache.get(key);
  }

  async update(p) {
    const gen = ++this.gen;
    this.p = { from: 'now-1h', until: 'now', ...p };
    p = this.p;
    if (!p.query) {
      let types;
      try {
        types = await this.cached(`types|${p.from}|${p.until}`, () => api.profileTypes('now-30d', 'now'));
      } catch (e) {
        if (gen !== this.gen) return;
        clear(this.panel).append(message('error', 'Cannot reach the query API: ' + e.message, 'Check that `ember server` is running and reachable, then reload.'));
        return;
      }
      if (gen !== this.gen) return;
      const type = types.includes(DEFAULT_TYPE) ? DEFAULT_TYPE : types[0];
      if (!type) {
        for (const e of [this.bar, this.qline, this.tabs, this.chips, this.chartMsg]) clear(e);
        this.barKey = this.tabsKey = this.seriesKey = '';
        this.chartBox.hidden = this.viewbar.hidden = true;
        clear(this.panel).append(message('empty', 'No profiles on this server yet.', NO_DATA_HINT + ' This page checks again every 10 seconds.'));
        // a first run: look again until the agent's first profiles arrive
        setTimeout(() => {
          if (gen !== this.gen || !this.el.isConnected) return;
          this.cache.delete(`types|${p.from}|${p.until}`);
          this.update(this.p);
        }, 10000);
        return;
      }
      writeState('explore', { ...p, query: `${type}{}` }, false);
      this.p = { ...p, query: `${type}{}` };
      p = this.p;
    }
    this.chartBox.hidden = this.viewbar.hidden = false;
    let parsed;
    try {
      parsed = parseQuery(p.query);
    } catch (e) {
      parsed = { type: p.query.split('{')[0], matchers: [], error: e.message };
    }
    this.parsed = parsed;
    this.unit = unitOfType(parsed.type);
    let types = [];
    try {
      types = await this.cached('types|all', () => api.profileTypes('now-30d', 'now'));
    } catch {
      types = [];
    }
    if (gen !== this.gen) return;
    // only what changed is rebuilt: a zoom or a keystroke in the search box must not rebuild
    // the toolbars (that would cost time and the input's focus)
    const heavy = JSON.stringify([p.query, p.from, p.until, p.groupBy, p.focus, p.ignore, p.maxNodes]);
    if (heavy !== this.barKey) {
      this.barKey = heavy;
      this.renderToolbar(types);
    }
    const tabsKey = JSON.stringify([heavy, p.view, p.mode, p.color]);
    if (tabsKey !== this.tabsKey) {
      this.tabsKey = tabsKey;
      this.renderTabs();
    } else {
      const sb = this.chips.querySelector('#search');
      if (sb && document.activeElement !== sb && sb.value !== (p.search || '')) sb.value = p.search || '';
    }
    if (parsed.error) {
      clear(this.panel).append(message('error', 'The query is not valid: ' + parsed.error, 'Fix it in the query field, e.g. process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="app"}.'));
      return;
    }
    const rkey = JSON.stringify([p.query, p.from, p.until, p.focus, p.ignore, p.maxNodes]);
    const renderP = this.cached('render|' + rkey, () => api.render(p));
    this.loadSeries(gen, p, renderP);
    let fb, tree;
    if (this.renderKey !== rkey || !this.tree) {
      clear(this.panel).append(message('loading', 'Loading the profile…'));
      this.panelKey = '';
    }
    try {
      fb = await renderP;
      if (gen !== this.gen) return;
      if (this.renderKey !== rkey || !this.tree) {
        const t0 = performance.now();
        this.tree = decodeFlamebearer(fb.flamebearer, fb.metadata && fb.metadata.format);
        this.decodeMs = performance.now() - t0;
        this.renderKey = rkey;
        this.fb = fb;
      }
      tree = this.tree;
    } catch (e) {
      if (gen !== this.gen || e.name === 'AbortError') return;
      this.tree = null;
      this.renderKey = '';
      this.panelKey = '';
      clear(this.panel).append(message('error', 'The profile could not be loaded: ' + errText(e), 'Check the query and the time range; the server said why above.'));
      return;
    }
    this.renderPanel(tree);
  }

  async loadSeries(gen, p, renderP) {
    const from = resolve(p.from), until = resolve(p.until);
    const key = JSON.stringify([p.query, p.from, p.until, p.groupBy, document.documentElement.dataset.theme]);
    if (key === this.seriesKey) return;
    this.seriesKey = key;
    const step = stepFor(from, until);
    clear(this.chartMsg);
    let series;
    try {
      const r = await this.cached('series|' + key, () => api.series({ ...p, step, limit: 10 }));
      this.seriesStep = r.step || step;
      series = (r.series || []).map((s) => ({
        label: p.groupBy ? `${p.groupBy}=${(s.labels || {})[p.groupBy] ?? ''}` : 'total',
        points: s.points || [],
      }));
    } catch (e) {
      if (gen !== this.gen) return;
      if (!(e instanceof api.ApiError) || !e.unavailable) {
        this.chartMsg.append(message('error', 'The time series could not be loaded: ' + e.message));
        this.chart.set([], this.unit, [from, until]);
        return;
      }
      // /api/v1/series is not there: the render answer's timeline (ungrouped)
      try {
        const fb = await renderP;
        const tl = fb.timeline;
        this.seriesStep = tl ? tl.durationDelta : step;
        series = [{ label: 'total', points: tl ? tl.samples.map((v, i) => [(tl.startTime + i * tl.durationDelta) * 1000, v]) : [] }];
        if (p.groupBy) this.chartMsg.append(message('empty', 'Grouping needs /api/v1/series, which this server does not offer; showing the total.'));
      } catch {
        series = [];
      }
    }
    if (gen !== this.gen) return;
    const any = series.some((s) => s.points.some((pt) => pt[1]));
    if (!any) this.chartMsg.append(message('empty', `No samples between ${fmtDate(from)} and ${fmtDate(until)}.`, 'Widen the time range (presets above) or remove label filters.'));
    this.chart.set(series, this.unit, [from, until], null, (this.seriesStep || step) * 1000);
  }

  // ---- toolbar -------------------------------------------------------------------------------
  renderToolbar(types) {
    const p = this.p, parsed = this.parsed;
    clear(this.bar);
    const typeSel = h('select#type', { 'aria-label': 'profile type', title: 'profile type', on: { change: () => this.set({ query: buildQuery(typeSel.value, parsed.matchers), zoom: '', fn: p.fn }) } });
    const allTypes = types.includes(parsed.type) || !parsed.type ? types : [parsed.type, ...types];
    for (const t of allTypes) typeSel.append(h('option', { value: t, selected: t === parsed.type }, t));
    if (!allTypes.length) typeSel.append(h('option', { value: '' }, 'no profile types'));

    const svc = matcherValue(parsed.matchers, 'service_name');
    const svcSel = h('select#service', {
      'aria-label': 'service',
      title: 'service_name',
      on: {
        change: () => {
          const ms = parsed.matchers.filter((m) => m.name !== 'service_name');
          if (svcSel.value) ms.unshift({ name: 'service_name', op: '=', value: svcSel.value });
          this.set({ query: buildQuery(parsed.type, ms), zoom: '' });
        },
      },
    }, h('option', { value: '' }, 'All services'));
    if (svc) svcSel.append(h('option', { value: svc, selected: true }, svc));
    this.cached(`svc|${parsed.type}|${p.from}|${p.until}`, () => api.labelValues('service_name', `${parsed.type}{}`, p.from, p.until))
      .then((vals) => {
        for (const v of vals) if (v !== svc) svcSel.append(h('option', { value: v }, v));
      })
      .catch(() => {});

    const filters = new LabelFilters({
      matchers: parsed.matchers.filter((m) => m.name !== 'service_name'),
      names: () => this.cached(`names|${p.query}|${p.from}|${p.until}`, () => api.labelNames(p.query, p.from, p.until)),
      values: (label) => this.cached(`vals|${label}|${p.query}|${p.from}|${p.until}`, () => api.labelValues(label, p.query, p.from, p.until)),
      onChange: (ms) => {
        const s = parsed.matchers.filter((m) => m.name === 'service_name');
        this.set({ query: buildQuery(parsed.type, [...s, ...ms]), zoom: '' });
      },
    });

    const gb = h('select#groupby', { 'aria-label': 'group by', title: 'group the time series by a label', on: { change: () => this.set({ groupBy: gb.value }) } }, h('option', { value: '' }, 'No grouping'));
    if (p.groupBy) gb.append(h('option', { value: p.groupBy, selected: true }, 'by ' + p.groupBy));
    this.cached(`names|${p.query}|${p.from}|${p.until}`, () => api.labelNames(p.query, p.from, p.until))
      .then((names) => {
        for (const n of names) if (n !== p.groupBy && !n.startsWith('__')) gb.append(h('option', { value: n }, 'by ' + n));
      })
      .catch(() => {});

    this.bar.append(
      h('label.field', h('span', 'Type'), typeSel),
      h('label.field', h('span', 'Service'), svcSel),
      h('div.field.grow', h('span', 'Filters'), filters.el),
      h('label.field', h('span', 'Series'), gb),
      h('div.field', h('span', 'Time range'), timePicker(p.from, p.until, (from, until) => this.set({ from, until, zoom: '' }))),
      h('button.btn#refresh', {
        title: 'reload the data',
        on: {
          click: () => {
            this.cache.clear();
            this.seriesKey = '';
            this.renderKey = '';
            this.barKey = '';
            this.update(this.p);
          },
        },
      }, '↻ Refresh'),
    );
    clear(this.qline);
    const qi = h('input#query', {
      type: 'text',
      value: p.query,
      spellcheck: false,
      'aria-label': 'query',
      on: { keydown: (ev) => ev.key === 'Enter' && this.set({ query: qi.value.trim(), zoom: '' }) },
    });
    this.qline.append(h('span.muted', 'Query'), qi, h('span.muted.small', 'Enter to run'));
  }

  renderTabs() {
    const p = this.p;
    const view = p.view || 'flame';
    clear(this.tabs);
    for (const [k, label] of VIEWS) {
      this.tabs.append(h('button.tab', { class: 'tab' + (k === view ? ' active' : ''), 'data-view': k, on: { click: () => this.set({ view: k }) } }, label));
    }
    clear(this.chips);
    const chip = (label, key) => this.chips.append(h('span.chip', label, h('button.x', { title: 'remove', 'aria-label': 'remove ' + label, on: { click: () => this.set({ [key]: '', zoom: '' }) } }, '×')));
    if (p.focus) chip('focus: ' + p.focus, 'focus');
    if (p.ignore) chip('hidden: ' + p.ignore, 'ignore');
    const mode = p.mode || 'icicle';
    this.chips.append(
      h('button.btn.small#mode', { title: 'switch between icicle (root on top) and flame (root at the bottom)', on: { click: () => this.set({ mode: mode === 'icicle' ? 'flame' : 'icicle' }) } }, mode === 'icicle' ? '▼ Icicle' : '▲ Flame'),
      colorSelect(p.color, (c) => this.set({ color: c }, false)),
      nodesSelect(p.maxNodes, (n) => this.set({ maxNodes: n, zoom: '' })),
      this.searchBox(),
      this.exportMenu(),
    );
  }

  searchBox() {
    let timer = 0;
    const s = h('input#search', {
      type: 'search',
      placeholder: 'Search functions (regex)',
      value: this.p.search || '',
      'aria-label': 'search functions',
      on: {
        input: () => {
          clearTimeout(timer);
          timer = setTimeout(() => this.set({ search: s.value }, false), 120);
        },
      },
    });
    return s;
  }

  exportMenu() {
    const p = this.p;
    const link = (fmt, label) => h('a', { href: api.exportURL(p, fmt), download: '' }, label);
    const png = h('a', {
      href: '#',
      on: {
        click: (ev) => {
          ev.preventDefault();
          const fg = this.flame || this.callers;
          if (!fg) return;
          const a = h('a', { href: fg.toPNG(), download: 'ember-flamegraph.png' });
          document.body.append(a);
          a.click();
          a.remove();
        },
      },
    }, 'PNG of the flame graph');
    return h('details.menu#export', h('summary.btn.small', 'Export ▾'), h('div.menu-body', link('pprof', 'pprof (.pb.gz)'), link('folded', 'Folded stacks'), link('speedscope', 'speedscope JSON'), link('svg', 'SVG flame graph'), png, h('a', { href: location.href, on: { click: (ev) => { ev.preventDefault(); navigator.clipboard && navigator.clipboard.writeText(location.href).catch(() => {}); } } }, 'Copy link to this view')));
  }

  // ---- lower panel ---------------------------------------------------------------------------
  actions() {
    const add = (cur, name) => (cur ? cur + '|' : '') + exactRegex(name);
    return {
      focus: (name) => this.set({ focus: exactRegex(name), zoom: '' }),
      hide: (name) => this.set({ ignore: add(this.p.ignore, name), zoom: '' }),
      sandwich: (name) => this.set({ view: 'sandwich', fn: name, czoom: '', ezoom: '' }),
      history: (name) => this.set({ view: 'history', fn: name }),
    };
  }

  renderPanel(tree) {
    const p = this.p;
    const view = p.view || 'flame';
    const key = [view, this.renderKey, view === 'sandwich' || view === 'history' ? p.fn : '', document.documentElement.dataset.theme].join('|');
    const zoom = p.zoom ? p.zoom.split(SEP) : [];
    if (key === this.panelKey) {
      // same data and view: apply the light parameters
      for (const fg of [this.flame, this.callers, this.callees]) {
        if (!fg) continue;
        if (fg === this.flame) fg.setMode(p.mode || 'icicle');
        if (fg.colorMode !== (p.color || 'package')) fg.setColorMode(p.color || 'package');
        if ((fg.searchText || '') !== (p.search || '')) fg.setSearch(p.search || '');
      }
      if (this.flame && this.flame.zoomPath().join(SEP) !== zoom.join(SEP)) {
        this.flame.setTree(this.tree, zoom);
      }
      // the sandwich's two graphs keep their own zoom paths (czoom: callers, ezoom: callees)
      for (const [fg, k] of [[this.callers, 'czoom'], [this.callees, 'ezoom']]) {
        const z = p[k] ? p[k].split(SEP) : [];
        if (fg && fg.t && fg.zoomPath().join(SEP) !== z.join(SEP)) fg.setTree(fg.t, z);
      }
      if (this.table && p.fn && view === 'both' && this.flame && this.lastPicked !== p.fn) {
        this.lastPicked = p.fn;
        this.flame.selectFunction(p.fn);
      }
      return;
    }
    this.panelKey = key;
    for (const k of ['flame', 'callers', 'callees']) {
      if (this[k]) this[k].destroy();
      this[k] = null;
    }
    this.table = null;
    if (this.histChart) {
      this.histChart.destroy();
      this.histChart = null;
    }
    clear(this.panel);
    if (!tree.n || !tree.numTicks) {
      this.panel.append(message('empty', 'No samples for this selection.', 'Widen the time range, pick another service or profile type, or remove filters (focus/hide too).'));
      return;
    }
    const meta = h('div.meta', `${fmtValue(tree.numTicks, this.unit)} in total · ${tree.n.toLocaleString()} nodes · ${tree.names.length.toLocaleString()} functions`);
    this.panel.append(meta);
    const fgOpts = (extra) => ({
      unit: this.unit,
      mode: p.mode || 'icicle',
      colorMode: p.color || 'package',
      actions: this.actions(),
      ...extra,
    });
    const pickRow = (name) => {
      this.lastPicked = name;
      if (view === 'table') this.set({ view: 'both', fn: name });
      else {
        if (this.flame) this.flame.selectFunction(name);
        this.set({ fn: name }, false);
      }
    };
    if (view === 'flame' || view === 'both') {
      const box = view === 'both' ? h('div.split') : this.panel;
      if (view === 'both') this.panel.append(box);
      if (view === 'both') {
        const left = h('div.split-left');
        box.append(left);
        this.table = new TopTable(left, this.tableOpts(pickRow));
        this.table.set(functionTable(tree), tree.numTicks);
      }
      const right = view === 'both' ? h('div.split-right') : box;
      if (view === 'both') box.append(right);
      this.flame = new FlameGraph(right, fgOpts({ onZoom: (path) => this.set({ zoom: path.join(SEP) }) }));
      this.flame.setSearch(p.search || '');
      this.flame.setTree(tree, zoom);
      if (view === 'both' && p.fn) {
        this.lastPicked = p.fn;
        this.flame.selectFunction(p.fn);
        this.table.picked = p.fn;
      }
      window.__ember.flame = this.flame;
    } else if (view === 'table') {
      this.table = new TopTable(this.panel, this.tableOpts(pickRow));
      this.table.set(functionTable(tree), tree.numTicks);
    } else if (view === 'sandwich' || view === 'history') {
      const names = tree.names.slice(1);
      const pick = functionPicker(names, p.fn, (name) => this.set({ fn: name, czoom: '', ezoom: '' }));
      this.panel.append(pick);
      if (!p.fn) {
        this.panel.append(message('empty', 'Pick a function.', 'Type its name above, right-click a node of the flame graph, or click a row of the top table.'));
        return;
      }
      if (view === 'sandwich') this.renderSandwich(tree, p.fn, fgOpts);
      else this.renderHistory(p.fn);
    }
  }

  // The table's sort column (tsort, "-" prefix = ascending) and filter (tfilter) live in the URL.
  tableOpts(onPick) {
    const ts = this.p.tsort || '';
    let timer = 0;
    return {
      unit: this.unit,
      onPick,
      sort: ts.replace(/^-/, '') || undefined,
      asc: ts.startsWith('-'),
      filter: this.p.tfilter || '',
      onSort: (k, desc) => this.set({ tsort: (desc ? '' : '-') + k }, false),
      onFilter: (f) => {
        clearTimeout(timer);
        timer = setTimeout(() => this.set({ tfilter: f }, false), 200);
      },
    };
  }

  renderSandwich(tree, fn, fgOpts) {
    if (!tree.names.includes(fn)) {
      this.panel.append(message('empty', `${fn} is not in this profile.`, 'Pick another function or widen the time range.'));
      return;
    }
    const callers = callersTree(tree, fn), callees = calleesTree(tree, fn);
    const box = h('div.sandwich');
    this.panel.append(box);
    const share = callees.numTicks / tree.numTicks;
    box.append(h('div.meta', `${fn}: ${fmtValue(callees.numTicks, this.unit)} total (${fmtPct(share)})`));
    const zp = (k) => (this.p[k] ? this.p[k].split(SEP) : []);
    this.callers = new FlameGraph(box, fgOpts({ mode: 'flame', title: 'Callers (who calls it; read upwards)', onZoom: (path) => this.set({ czoom: path.join(SEP) }) }));
    this.callers.setSearch(this.p.search || '');
    this.callers.setTree(callers, zp('czoom'));
    this.callees = new FlameGraph(box, fgOpts({ mode: 'icicle', title: 'Callees (what it calls; read downwards)', onZoom: (path) => this.set({ ezoom: path.join(SEP) }) }));
    this.callees.setSearch(this.p.search || '');
    this.callees.setTree(callees, zp('ezoom'));
    window.__ember.flame = this.callees;
  }

  async renderHistory(fn) {
    const p = this.p, gen = this.gen;
    const box = h('div.history');
    this.panel.append(box);
    const from = resolve(p.from), until = resolve(p.until);
    box.append(h('div.meta', `Share of ${fn} in the selection over time (self and total, % of all samples of each step)`));
    try {
      const r = await api.fnHistory({ ...p, fn, step: stepFor(from, until, 200) });
      if (gen !== this.gen) return;
      const pts = r.points || [];
      const self = pts.map((x) => [x.t, x.all ? x.self / x.all : 0]);
      const total = pts.map((x) => [x.t, x.all ? x.total / x.all : 0]);
      this.histChart = new SeriesChart(box, { height: 240, valueFmt: (v) => fmtPct(v), onSelect: (a, b) => this.set({ from: String(a), until: String(b) }) });
      const step = (r.step || stepFor(from, until, 200)) * 1000;
      await this.histChart.set([{ label: 'total %', points: total, color: '#ef4444' }, { label: 'self %', points: self, color: '#3b82f6' }], '', [from, until], null, step);
      if (!pts.some((x) => x.total)) box.append(message('empty', `${fn} has no samples in this range.`, 'Widen the time range.'));
    } catch (e) {
      if (gen !== this.gen) return;
      box.append(message('error', 'The history could not be loaded: ' + errText(e), 'Function history needs /api/v1/function on the server.'));
    }
  }
}

// ---- small widgets ---------------------------------------------------------------------------

export function timePicker(from, until, onChange) {
  const box = h('div.timepicker');
  const label = presetLabel(from, until);
  const sel = h('select#range', { 'aria-label': 'time range', on: { change: () => sel.value && onChange(sel.value, 'now') } });
  if (!label) sel.append(h('option', { value: '', selected: true }, 'Custom range'));
  for (const [v, l] of PRESETS) sel.append(h('option', { value: v, selected: label === l }, l));
  const f = h('input.dt#from', { type: 'datetime-local', step: 1, value: toLocalInput(resolve(from)), 'aria-label': 'from' });
  const u = h('input.dt#until', { type: 'datetime-local', step: 1, value: toLocalInput(resolve(until)), 'aria-label': 'until' });
  const apply = h('button.btn.small', {
    title: 'apply the absolute range',
    on: {
      click: () => {
        const a = fromLocalInput(f.value), b = fromLocalInput(u.value);
        if (a < b) onChange(String(a), String(b));
      },
    },
  }, 'Apply');
  const out = h('button.btn.small', {
    title: 'zoom out (twice the range)',
    on: {
      click: () => {
        const a = resolve(from), b = resolve(until), w = b - a;
        onChange(String(Math.round(a - w / 2)), String(Math.min(Date.now(), Math.round(b + w / 2))));
      },
    },
  }, '−');
  box.append(sel, f, u, apply, out);
  return box;
}

function colorSelect(cur, onChange) {
  const s = h('select#color', { 'aria-label': 'colour by', title: 'colour by', on: { change: () => onChange(s.value) } });
  for (const [v, l] of [['package', 'Colour by package'], ['function', 'Colour by function']]) s.append(h('option', { value: v, selected: (cur || 'package') === v }, l));
  return s;
}

function nodesSelect(cur, onChange) {
  const s = h('select#maxnodes', { 'aria-label': 'max nodes', title: 'most nodes the server keeps (the rest is folded into "other")', on: { change: () => onChange(s.value) } });
  for (const n of ['1024', '8192', '16384', '65536']) s.append(h('option', { value: n, selected: (cur || '8192') === n }, `${Number(n).toLocaleString()} nodes`));
  return s;
}

export function functionPicker(names, cur, onPick) {
  const id = 'fnlist' + Math.random().toString(36).slice(2, 8);
  const dl = h('datalist', { id });
  for (const n of names.slice(0, 5000)) dl.append(h('option', { value: n }));
  const inp = h('input#fn', { type: 'text', list: id, value: cur || '', placeholder: 'Function name', 'aria-label': 'function', spellcheck: false });
  const go = () => inp.value && onPick(inp.value);
  inp.addEventListener('change', go);
  inp.addEventListener('keydown', (ev) => ev.key === 'Enter' && go());
  return h('div.fnpick', h('span.muted', 'Function'), inp, dl);
}
