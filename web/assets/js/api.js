// api.js — the server's query API as the UI uses it (docs/api.md): the legacy Pyroscope
// endpoints (render, render-diff, labels, label-values) and Ember's /api/v1/ (profile-types,
// series, top, function, export). Errors become ApiError with the server's {"error"} message and
// the HTTP status, so that views can tell "not available on this server" (404/501) apart.

export class ApiError extends Error {
  constructor(status, msg, url) {
    super(msg);
    this.status = status;
    this.url = url;
  }
  get unavailable() {
    return this.status === 404 || this.status === 501;
  }
}

function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') u.set(k, String(v));
  return u.toString();
}

export function url(path, params) {
  const s = qs(params || {});
  return s ? `${path}?${s}` : path;
}

export async function getJSON(path, params, signal) {
  const u = url(path, params);
  let r;
  try {
    r = await fetch(u, { signal, headers: { Accept: 'application/json' } });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'the server does not answer (is `ember server` running?)', u);
  }
  const text = await r.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!r.ok) {
    const msg = body && body.error ? body.error : `HTTP ${r.status}`;
    throw new ApiError(r.status, msg, u);
  }
  if (body == null) throw new ApiError(r.status, 'the answer is not JSON', u);
  return body;
}

// The profile types with data in the range: /api/v1/profile-types, or the ids that
// /pyroscope/label-values?label=__name__ gives when that endpoint is unavailable.
export async function profileTypes(from, until, signal) {
  try {
    const r = await getJSON('/api/v1/profile-types', { from, until }, signal);
    return (r.types || []).map((t) => t.id);
  } catch (e) {
    if (!(e instanceof ApiError) || !e.unavailable) throw e;
    const ids = await getJSON('/pyroscope/label-values', { label: '__name__', from, until }, signal);
    return Array.isArray(ids) ? ids : [];
  }
}

export const labelNames = (query, from, until, signal) => getJSON('/pyroscope/labels', { query, from, until }, signal);
export const labelValues = (label, query, from, until, signal) =>
  getJSON('/pyroscope/label-values', { label, query, from, until }, signal);

export const render = (p, signal) =>
  getJSON('/pyroscope/render', { query: p.query, from: p.from, until: p.until, 'max-nodes': p.maxNodes, focus: p.focus, ignore: p.ignore }, signal);

export const renderDiff = (p, signal) =>
  getJSON('/pyroscope/render-diff', {
    leftQuery: p.lquery, leftFrom: p.lfrom, leftUntil: p.luntil,
    rightQuery: p.rquery, rightFrom: p.rfrom, rightUntil: p.runtil, 'max-nodes': p.maxNodes,
  }, signal);

export const series = (p, signal) =>
  getJSON('/api/v1/series', { query: p.query, from: p.from, until: p.until, step: p.step, group_by: p.groupBy, limit: p.limit }, signal);

export const top = (p, signal) =>
  getJSON('/api/v1/top', { query: p.query, from: p.from, until: p.until, limit: p.limit, focus: p.focus, ignore: p.ignore }, signal);

export const fnHistory = (p, signal) =>
  getJSON('/api/v1/function', { query: p.query, from: p.from, until: p.until, function: p.fn, step: p.step }, signal);

export const exportURL = (p, format) =>
  url('/api/v1/export', { query: p.query, from: p.from, until: p.until, format, focus: p.focus, ignore: p.ignore });
