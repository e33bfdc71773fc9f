// dom.js — a small element builder: h('div.cls', {attrs, on: {click}}, ...children) and the
// message boxes of the empty and error states.

export function h(spec, attrs, ...kids) {
  // spec: tag, then optional #id and .classes (in any order)
  const m = spec.match(/^[a-z0-9]*/i)[0];
  const e = document.createElement(m || 'div');
  const cls = [];
  for (const [, k, v] of spec.slice(m.length).matchAll(/([#.])([^#.]+)/g)) {
    if (k === '#') e.id = v;
    else cls.push(v);
  }
  if (cls.length) e.className = cls.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    kids.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k === 'style' && typeof v === 'object') Object.assign(e.style, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  add(e, kids);
  return e;
}

function add(e, kids) {
  for (const k of kids) {
    if (k == null || k === false) continue;
    if (Array.isArray(k)) add(e, k);
    else e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

// kind: "empty" | "error" | "loading"; what: the headline; hint: what to do (text or nodes).
export function message(kind, what, hint) {
  return h(`div.msg.msg-${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, h('div.msg-what', what), hint ? h('div.msg-hint', hint) : null);
}

export function clear(e) {
  e.textContent = '';
  return e;
}
