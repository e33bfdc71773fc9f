// time.js — time ranges as the server takes them ("now", "now-1h", unix ms) and as people read
// them: the presets of the range picker, resolving a range to absolute unix ms, and the text of
// a range. Pure code (no DOM).

export const PRESETS = [
  ['now-5m', 'Last 5 minutes'],
  ['now-15m', 'Last 15 minutes'],
  ['now-1h', 'Last hour'],
  ['now-3h', 'Last 3 hours'],
  ['now-6h', 'Last 6 hours'],
  ['now-12h', 'Last 12 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'],
  ['now-30d', 'Last 30 days'],
];

const UNIT_MS = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

// "now", "now-15m", unix seconds/ms (by digit count) or an ISO date → unix ms; NaN if none.
export function resolve(t, nowMs = Date.now()) {
  const s = String(t ?? '').trim();
  if (s === 'now' || s === '') return nowMs;
  let m = /^now-(\d+)([smhdw])$/.exec(s);
  if (m) return nowMs - Number(m[1]) * UNIT_MS[m[2]];
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (s.length <= 10) return n * 1000;
    if (s.length <= 13) return n;
    if (s.length <= 16) return Math.floor(n / 1e3);
    return Math.floor(n / 1e6);
  }
  const d = Date.parse(s);
  return Number.isNaN(d) ? NaN : d;
}

export function presetLabel(from, until) {
  if (until !== 'now') return null;
  const p = PRESETS.find((x) => x[0] === from);
  return p ? p[1] : null;
}

export function isRelative(from, until) {
  return String(from).startsWith('now') && String(until).startsWith('now');
}

// For <input type="datetime-local">: local time "YYYY-MM-DDTHH:MM:SS".
export function toLocalInput(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fromLocalInput(s) {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? NaN : d.getTime();
}

// A step in seconds for at most about n points over [fromMs, untilMs]: a "nice" multiple of
// 10 s (agents send a profile every 10 s, so such steps hold a whole number of profiles).
const NICE_STEPS = [10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

export function stepFor(fromMs, untilMs, n = 300) {
  const raw = (untilMs - fromMs) / 1000 / n;
  for (const s of NICE_STEPS) if (s >= raw) return s;
  return Math.ceil(raw / 86400) * 86400;
}
