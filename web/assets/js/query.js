// query.js — the query text `<profile_type_id>{name="v",name!="v",name=~"re",name!~"re"}` (as
// /pyroscope/render takes it) parsed into {type, matchers: [{name, op, value}]} and written back;
// values are escaped as Prometheus string literals. Pure code (no DOM).

const OPS = ['=~', '!~', '!=', '='];

export function parseQuery(text) {
  const s = (text || '').trim();
  const b = s.indexOf('{');
  if (b < 0) return { type: s, matchers: [] };
  const type = s.slice(0, b).trim();
  const body = s.slice(b + 1, s.lastIndexOf('}') >= b ? s.lastIndexOf('}') : s.length);
  const matchers = [];
  let i = 0;
  const ws = () => {
    while (i < body.length && /[\s,]/.test(body[i])) i++;
  };
  for (ws(); i < body.length; ws()) {
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(body.slice(i));
    if (!m) throw new Error(`bad label name at "${body.slice(i, i + 20)}"`);
    const name = m[0];
    i += name.length;
    while (body[i] === ' ') i++;
    const op = OPS.find((o) => body.startsWith(o, i));
    if (!op) throw new Error(`want one of = != =~ !~ after ${name}`);
    i += op.length;
    while (body[i] === ' ') i++;
    const q = body[i];
    if (q !== '"' && q !== "'" && q !== '`') throw new Error(`want a quoted value after ${name}${op}`);
    let v = '';
    i++;
    for (; i < body.length && body[i] !== q; i++) {
      if (body[i] === '\\' && q !== '`' && i + 1 < body.length) {
        i++;
        v += { n: '\n', t: '\t' }[body[i]] || body[i];
      } else v += body[i];
    }
    if (body[i] !== q) throw new Error(`unterminated value for ${name}`);
    i++;
    matchers.push({ name, op, value: v });
  }
  return { type, matchers };
}

export function quote(v) {
  return '"' + String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

export function buildQuery(type, matchers) {
  const ms = (matchers || []).filter((m) => m.name && m.op).map((m) => `${m.name}${m.op}${quote(m.value ?? '')}`);
  return `${type || ''}{${ms.join(',')}}`;
}

// The value of an equality matcher on name, or ''.
export function matcherValue(matchers, name) {
  const m = (matchers || []).find((x) => x.name === name && x.op === '=');
  return m ? m.value : '';
}

// Regex-escapes a function name for focus=/ignore= (whole-name match).
export function exactRegex(name) {
  return '^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';
}
