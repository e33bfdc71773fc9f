// format.js — human-readable values: durations for nanosecond units, sizes for bytes, counts
// otherwise; percentages; dates. Pure code (no DOM).

export function fmtValue(v, unit) {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (unit === 'nanoseconds') {
    if (a >= 3600e9) return (v / 3600e9).toFixed(2) + ' h';
    if (a >= 60e9) return (v / 60e9).toFixed(2) + ' min';
    if (a >= 1e9) return (v / 1e9).toFixed(2) + ' s';
    if (a >= 1e6) return (v / 1e6).toFixed(2) + ' ms';
    if (a >= 1e3) return (v / 1e3).toFixed(2) + ' µs';
    return Math.round(v) + ' ns';
  }
  if (unit === 'bytes') {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0, x = v;
    while (Math.abs(x) >= 1024 && i < u.length - 1) {
      x /= 1024;
      i++;
    }
    return (i ? x.toFixed(2) : String(Math.round(x))) + ' ' + u[i];
  }
  if (a >= 1e9) return (v / 1e9).toFixed(2) + ' G';
  if (a >= 1e6) return (v / 1e6).toFixed(2) + ' M';
  if (a >= 1e4) return (v / 1e3).toFixed(1) + ' k';
  return String(Math.round(v));
}

export function fmtPct(x) {
  if (!Number.isFinite(x)) return '–';
  const p = x * 100;
  if (p !== 0 && Math.abs(p) < 0.01) return (p < 0 ? '-' : '') + '<0.01%';
  return p.toFixed(2) + '%';
}

export function fmtSignedPct(x) {
  if (!Number.isFinite(x)) return '–';
  return (x > 0 ? '+' : '') + fmtPct(x);
}

export function fmtDate(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// The sample unit of a profile type id name:sample_type:sample_unit:period_type:period_unit.
export function unitOfType(typeId) {
  return (typeId || '').split(':')[2] || '';
}
