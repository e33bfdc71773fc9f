// state.js — every view's state lives in the URL (path = page, query string = parameters) so
// that a link can be shared and back/forward works: read it, and write it with pushState (a new
// history entry, for navigation) or replaceState (for typing, defaults).

export function readState() {
  const u = new URL(location.href);
  const page = u.pathname.replace(/\/+$/, '') === '/compare' ? 'compare' : 'explore';
  return { page, p: Object.fromEntries(u.searchParams) };
}

export function stateURL(page, p) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v != null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return (page === 'compare' ? '/compare' : '/explore') + (s ? '?' + s : '');
}

export function writeState(page, p, push) {
  const next = stateURL(page, p);
  if (next === location.pathname + location.search) return false;
  if (push) history.pushState(null, '', next);
  else history.replaceState(null, '', next);
  return true;
}
