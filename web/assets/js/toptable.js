// toptable.js — the per-function table: self and total with their shares, sortable by any
// column (click a header; again to reverse), filterable by a substring or regex, rows clickable
// (onPick(name)). Shows the first ROWS_MAX rows of the sorted, filtered list. Diff tables
// (compare) show base/new shares and the change, sorted by |change| by default.

import { h, clear } from './dom.js';
import { fmtValue, fmtPct, fmtSignedPct } from './format.js';
import { matcher } from './flame/layout.js';

const ROWS_MAX = 500;

export class TopTable {
  // opts: {unit, onPick(name), diff: bool, sort: 'self'|..., asc, onSort(key, desc), filter,
  //        onFilter(text)}
  constructor(parent, opts = {}) {
    this.opts = opts;
    this.sortKey = opts.sort || (opts.diff ? 'change' : 'self');
    this.desc = !opts.asc;
    this.filter = opts.filter || '';
    this.rows = [];
    this.el = h('div.toptable');
    this.input = h('input.filter', {
      type: 'search',
      placeholder: 'Filter functions (text or regex)',
      value: this.filter,
      'aria-label': 'filter functions',
      on: {
        input: () => {
          this.filter = this.input.value;
          this.draw();
          if (this.opts.onFilter) this.opts.onFilter(this.filter);
        },
      },
    });
    this.info = h('span.muted');
    this.tableBox = h('div.table-scroll');
    this.el.append(h('div.table-tools', this.input, this.info), this.tableBox);
    parent.append(this.el);
  }

  // rows: functionTable() or diffTable() output; total: the root total (diff: [left, right]).
  set(rows, total) {
    this.total = total;
    if (this.opts.diff) {
      const [L, R] = total;
      this.rows = rows.map((r) => {
        const ls = L ? r.lTotal / L : 0, rs = R ? r.rTotal / R : 0;
        const lss = L ? r.lSelf / L : 0, rss = R ? r.rSelf / R : 0;
        return { ...r, lShare: ls, rShare: rs, change: rs - ls, selfChange: rss - lss };
      });
    } else {
      this.rows = rows;
    }
    this.draw();
  }

  columns() {
    if (this.opts.diff) {
      return [
        ['name', 'Function'],
        ['lShare', 'Base total %'],
        ['rShare', 'New total %'],
        ['change', 'Change (total)'],
        ['selfChange', 'Change (self)'],
      ];
    }
    return [
      ['name', 'Function'],
      ['self', 'Self'],
      ['selfPct', 'Self %'],
      ['total', 'Total'],
      ['totalPct', 'Total %'],
    ];
  }

  sorted() {
    const m = matcher(this.filter);
    let rows = m ? this.rows.filter((r) => m(r.name)) : this.rows.slice();
    const k = this.sortKey === 'selfPct' ? 'self' : this.sortKey === 'totalPct' ? 'total' : this.sortKey;
    const dir = this.desc ? -1 : 1;
    if (k === 'name') rows.sort((a, b) => (a.name < b.name ? -dir : a.name > b.name ? dir : 0));
    else if (k === 'change' || k === 'selfChange') rows.sort((a, b) => dir * (Math.abs(a[k]) - Math.abs(b[k])) || (a.name < b.name ? -1 : 1));
    else rows.sort((a, b) => dir * (a[k] - b[k]) || (a.name < b.name ? -1 : 1));
    return rows;
  }

  draw() {
    const rows = this.sorted();
    const u = this.opts.unit;
    const T = this.total;
    clear(this.tableBox);
    const head = h('tr', this.columns().map(([k, label]) =>
      h('th', {
        class: 'sortable' + (k === this.sortKey ? (this.desc ? ' desc' : ' asc') : '') + (k === 'name' ? '' : ' num'),
        title: 'sort by ' + label,
        on: {
          click: () => {
            if (this.sortKey === k) this.desc = !this.desc;
            else {
              this.sortKey = k;
              this.desc = k !== 'name';
            }
            this.draw();
            if (this.opts.onSort) this.opts.onSort(k, this.desc);
          },
        },
      }, label)));
    const body = h('tbody');
    for (const r of rows.slice(0, ROWS_MAX)) {
      let cells;
      if (this.opts.diff) {
        cells = [
          h('td.num', fmtPct(r.lShare)),
          h('td.num', fmtPct(r.rShare)),
          h('td.num', { class: r.change > 0 ? 'num up' : r.change < 0 ? 'num down' : 'num' }, fmtSignedPct(r.change)),
          h('td.num', { class: r.selfChange > 0 ? 'num up' : r.selfChange < 0 ? 'num down' : 'num' }, fmtSignedPct(r.selfChange)),
        ];
      } else {
        cells = [
          h('td.num', fmtValue(r.self, u)),
          h('td.num', h('span.bar', { style: { '--w': T ? (100 * r.self) / T + '%' : '0' } }), fmtPct(T ? r.self / T : 0)),
          h('td.num', fmtValue(r.total, u)),
          h('td.num', fmtPct(T ? r.total / T : 0)),
        ];
      }
      body.append(h('tr', {
        tabIndex: 0,
        class: r.name === this.picked ? 'picked' : null,
        on: {
          click: () => this.pick(r.name),
          keydown: (ev) => ev.key === 'Enter' && this.pick(r.name),
        },
      }, h('td.fn', { title: r.name }, r.name), cells));
    }
    this.tableBox.append(h('table.data', h('thead', head), body));
    this.info.textContent = rows.length > ROWS_MAX ? `first ${ROWS_MAX} of ${rows.length} functions` : `${rows.length} functions`;
  }

  pick(name) {
    this.picked = name;
    for (const tr of this.tableBox.querySelectorAll('tr.picked')) tr.classList.remove('picked');
    if (this.opts.onPick) this.opts.onPick(name);
    this.draw();
  }
}
