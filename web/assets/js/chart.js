// chart.js — time series charts on uPlot (vendored, loaded on first use from
// /assets/vendor/uPlot.iife.min.js; without it the chart says so and the rest of the page
// works): one or more series of [t_ms, value] points aligned on a shared time axis, drag-select
// to pick a range (onSelect(fromMs, untilMs)), optional highlighted bands (compare selections).

import { fmtValue, fmtDate } from './format.js';
import { message } from './dom.js';

let loading = null;
export function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading) {
    loading = new Promise((ok, ko) => {
      const s = document.createElement('script');
      s.src = '/assets/vendor/uPlot.iife.min.js';
      s.onload = () => (window.uPlot ? ok(window.uPlot) : ko(new Error('uPlot did not load')));
      s.onerror = () => ko(new Error('the chart library (uPlot) is missing from this build; run scripts/deps.sh and rebuild'));
      document.head.append(s);
    });
  }
  return loading;
}

const PALETTE = ['#3b82f6', '#ef4444', '#10b981', '#f59e0b', '#8b5cf6', '#ec4899', '#14b8a6', '#f97316', '#6366f1', '#84cc16'];

// series: [{label, points: [[t_ms, v], ...]}] → uPlot's aligned data [xs (s), ys...].
// With stepMs, a gap of more than a step between points gets a null point, so that the line
// breaks where there is no data instead of joining the two sides.
export function align(series, stepMs) {
  // series fetched separately have their points at different offsets: snap to the step grid
  const snap = stepMs > 0 ? (t) => Math.round(t / stepMs) * stepMs : (t) => t;
  series = series.map((s) => ({ ...s, points: s.points.map(([t, v]) => [snap(t), v]) }));
  const ts = new Set();
  for (const s of series) for (const [t] of s.points) ts.add(t);
  let xs = [...ts].sort((a, b) => a - b);
  if (stepMs > 0) {
    const filled = [];
    for (let i = 0; i < xs.length; i++) {
      filled.push(xs[i]);
      if (i + 1 < xs.length && xs[i + 1] - xs[i] > 1.5 * stepMs) filled.push(xs[i] + stepMs);
    }
    xs = filled;
  }
  const pos = new Map(xs.map((t, i) => [t, i]));
  const ys = series.map((s) => {
    const y = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) y[pos.get(t)] = v;
    return y;
  });
  return [xs.map((t) => t / 1000), ...ys];
}

export class SeriesChart {
  // opts: {height, onSelect(fromMs, untilMs), valueFmt(v), yLabel}
  constructor(parent, opts = {}) {
    this.opts = opts;
    this.el = document.createElement('div');
    this.el.className = 'chart';
    this.el.style.minHeight = this.height() + 34 + 'px'; // the chart's room: no layout shift on load
    parent.append(this.el);
    this.u = null;
    this.bands = [];
    this.ro = new ResizeObserver(() => {
      if (this.u && this.el.clientWidth && Math.abs(this.u.width - this.el.clientWidth) > 1) this.u.setSize({ width: this.el.clientWidth, height: this.height() });
    });
    this.ro.observe(this.el);
  }

  height() {
    return this.opts.height || 180;
  }

  destroy() {
    this.ro.disconnect();
    if (this.u) this.u.destroy();
    this.el.remove();
  }

  // series as for align(); unit for the axis; xRange [fromMs, untilMs] to show the whole range;
  // bands [{from, until, color}] to highlight; stepMs the series' step (gaps break the line).
  async set(series, unit, xRange, bands, stepMs) {
    this.bands = bands || [];
    let uPlot;
    try {
      uPlot = await loadUPlot();
    } catch (e) {
      this.el.textContent = '';
      this.el.append(message('error', 'Cannot draw the chart', e.message));
      return;
    }
    if (this.u) {
      this.u.destroy();
      this.u = null;
    }
    this.el.textContent = '';
    const data = align(series, stepMs);
    const fmtV = this.opts.valueFmt || ((v) => fmtValue(v, unit));
    const dark = document.documentElement.dataset.theme === 'dark';
    const axisStroke = dark ? '#aab' : '#555';
    const grid = { stroke: dark ? '#2c2f36' : '#eee', width: 1 };
    const opts = {
      width: Math.max(200, this.el.clientWidth || 800),
      height: this.height(),
      cursor: { drag: { x: true, y: false, setScale: false } },
      select: { show: true },
      legend: { show: series.length > 1 || !!series[0]?.label },
      scales: { x: { time: true, range: xRange ? () => [xRange[0] / 1000, xRange[1] / 1000] : undefined }, y: { range: (u, lo, hi) => [0, hi > 0 ? hi * 1.1 : 1] } },
      axes: [
        { stroke: axisStroke, grid },
        { stroke: axisStroke, grid, size: 70, values: (u, vals) => vals.map(fmtV) },
      ],
      series: [
        { value: (u, v) => (v == null ? '–' : fmtDate(v * 1000)) },
        ...series.map((s, i) => ({
          label: s.label || 'total',
          stroke: s.color || PALETTE[i % PALETTE.length],
          fill: series.length === 1 ? (s.color || PALETTE[0]) + '22' : undefined,
          width: 1.5,
          spanGaps: false,
          points: { show: data[0].length < 60 },
          value: (u, v) => (v == null ? '–' : fmtV(v)),
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const a = u.posToVal(u.select.left, 'x'), b = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
            if (this.opts.onSelect) this.opts.onSelect(Math.round(a * 1000), Math.round(b * 1000));
          },
        ],
        drawClear: [
          (u) => {
            const ctx = u.ctx;
            for (const b of this.bands) {
              const x0 = u.valToPos(b.from / 1000, 'x', true), x1 = u.valToPos(b.until / 1000, 'x', true);
              ctx.save();
              ctx.fillStyle = b.color;
              ctx.fillRect(Math.min(x0, x1), u.bbox.top, Math.abs(x1 - x0), u.bbox.height);
              ctx.restore();
            }
          },
        ],
      },
    };
    this.u = new uPlot(opts, data, this.el);
  }
}
