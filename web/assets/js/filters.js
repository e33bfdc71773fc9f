// filters.js — label filters as chips ("env = prod ×") with an inline form to add one: the label
// name and value inputs autocomplete from LabelNames and LabelValues of the current selection
// (native <datalist>), the operator is one of = != =~ !~.

import { h } from './dom.js';

let seq = 0;

export class LabelFilters {
  // opts: {matchers, names() → Promise<[..]>, values(label) → Promise<[..]>, onChange(matchers)}
  constructor(opts) {
    this.opts = opts;
    this.ms = opts.matchers.slice();
    this.el = h('div.filters');
    this.draw();
  }

  draw() {
    const o = this.opts;
    this.el.textContent = '';
    this.ms.forEach((m, i) => {
      this.el.append(h('span.chip.filter-chip', `${m.name} ${m.op} ${m.value}`, h('button.x', {
        title: 'remove this filter',
        'aria-label': `remove filter ${m.name}`,
        on: {
          click: () => {
            this.ms.splice(i, 1);
            o.onChange(this.ms);
          },
        },
      }, '×')));
    });
    const id = 'lf' + ++seq;
    const nameList = h('datalist', { id: id + 'n' });
    const valList = h('datalist', { id: id + 'v' });
    const name = h('input.lf-name', { type: 'text', list: id + 'n', placeholder: 'label', 'aria-label': 'label name', spellcheck: false, size: 10 });
    const op = h('select.lf-op', { 'aria-label': 'operator' }, ['=', '!=', '=~', '!~'].map((x) => h('option', { value: x }, x)));
    const val = h('input.lf-value', { type: 'text', list: id + 'v', placeholder: 'value', 'aria-label': 'label value', spellcheck: false, size: 12 });
    const add = () => {
      if (!name.value.trim()) return;
      this.ms.push({ name: name.value.trim(), op: op.value, value: val.value });
      o.onChange(this.ms);
    };
    const add_b = h('button.btn.small.lf-add', { title: 'add this filter', on: { click: add } }, '+ Add');
    val.addEventListener('keydown', (ev) => ev.key === 'Enter' && add());
    let namesLoaded = false;
    name.addEventListener('focus', () => {
      if (namesLoaded) return;
      namesLoaded = true;
      o.names().then((ns) => {
        for (const n of ns) if (!n.startsWith('__') && n !== 'service_name') nameList.append(h('option', { value: n }));
      }).catch(() => {});
    });
    let valuesFor = null;
    const loadValues = () => {
      const l = name.value.trim();
      if (!l || l === valuesFor) return;
      valuesFor = l;
      valList.textContent = '';
      o.values(l).then((vs) => {
        if (valuesFor !== l) return;
        for (const v of vs) valList.append(h('option', { value: v }));
      }).catch(() => {});
    };
    name.addEventListener('change', loadValues);
    val.addEventListener('focus', loadValues);
    this.el.append(h('span.lf-form', name, op, val, add_b, nameList, valList));
  }
}
