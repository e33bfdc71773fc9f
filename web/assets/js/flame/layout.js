// flame/layout.js — geometry of a flame graph over a tree (flame/tree.js) for a zoom node and a
// width in pixels: which nodes of each level are visible and where, hit-testing a point by
// binary search in its level, keyboard neighbours, and search matching (names that match and
// the share of the total they account for, nested matches counted once). Pure code (no DOM).

export const MIN_PX = 0.5; // narrower nodes are not drawn (nor hit)

// The first id in [lo, hi) whose start is >= x (hi if none).
export function lowerBound(start, lo, hi, x) {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (start[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The first id in [lo, hi) whose start is > x (hi if none).
export function upperBound(start, lo, hi, x) {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (start[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Layout {
  constructor(tree, zoom = 0, width = 1000) {
    this.t = tree;
    this.width = width;
    this.setZoom(zoom);
  }

  setZoom(id) {
    const t = this.t;
    if (!(id >= 0 && id < t.n)) id = 0;
    this.zoom = id;
    this.x0 = t.n ? t.start[id] : 0;
    this.span = t.n ? t.total[id] || 1 : 1;
    this.zoomDepth = t.n ? t.depth[id] : 0;
    // ancestors[d] = the zoom node's ancestor at depth d (itself at zoomDepth)
    this.ancestors = new Int32Array(this.zoomDepth + 1);
    for (let v = id, d = this.zoomDepth; d >= 0; d--, v = t.parent[v]) this.ancestors[d] = v;
  }

  setWidth(w) {
    this.width = Math.max(1, w);
  }

  scale() {
    return this.width / this.span;
  }

  // [lo, hi) ids of level d inside the zoom node's interval (the ancestor for d <= zoomDepth).
  range(d) {
    const t = this.t;
    if (d < 0 || d >= t.nLevels) return [0, 0];
    if (d <= this.zoomDepth) {
      const a = this.ancestors[d];
      return [a, a + 1];
    }
    const l0 = t.levelStart[d], l1 = t.levelStart[d + 1];
    const lo = lowerBound(t.start, l0, l1, this.x0);
    const hi = lowerBound(t.start, lo, l1, this.x0 + this.span);
    return [lo, hi];
  }

  // x and width in pixels of node id (ancestors of the zoom node span the whole width).
  rect(id) {
    const t = this.t;
    if (t.depth[id] <= this.zoomDepth) return [0, this.width];
    const k = this.scale();
    return [(t.start[id] - this.x0) * k, t.total[id] * k];
  }

  // Calls fn(id, x, w) for every node of level d wide enough to draw; returns how many.
  forEachVisible(d, fn) {
    const t = this.t;
    const [lo, hi] = this.range(d);
    if (d <= this.zoomDepth) {
      if (lo < hi) fn(lo, 0, this.width);
      return hi - lo;
    }
    const k = this.scale(), x0 = this.x0, start = t.start, total = t.total;
    let drawn = 0;
    for (let i = lo; i < hi; i++) {
      const w = total[i] * k;
      if (w < MIN_PX) continue;
      fn(i, (start[i] - x0) * k, w);
      drawn++;
    }
    return drawn;
  }

  // The deepest level with something visible (for the canvas height).
  maxVisibleDepth() {
    const t = this.t;
    const k = this.scale();
    let d = this.zoomDepth;
    while (d + 1 < t.nLevels) {
      const [lo, hi] = this.range(d + 1);
      let any = false;
      for (let i = lo; i < hi; i++) {
        if (t.total[i] * k >= MIN_PX) {
          any = true;
          break;
        }
      }
      if (!any) break;
      d++;
    }
    return d;
  }

  // The node at pixel x on level d, or -1.
  hit(d, x) {
    const t = this.t;
    if (d < 0 || d >= t.nLevels || x < 0 || x >= this.width) return -1;
    if (d <= this.zoomDepth) return this.ancestors[d];
    const tick = this.x0 + x / this.scale();
    const [lo, hi] = this.range(d);
    const i = upperBound(t.start, lo, hi, tick) - 1; // the last node starting at or before tick
    if (i < lo) return -1;
    if (tick >= t.start[i] + t.total[i]) return -1;
    if (t.total[i] * this.scale() < MIN_PX) return -1;
    return i;
  }

  // The widest visible child of id, or -1 (keyboard: one level deeper).
  firstChildOf(id) {
    const t = this.t;
    const fc = t.firstChild[id];
    if (fc < 0) return -1;
    let best = -1;
    for (let c = fc; c < fc + t.nChild[id]; c++) {
      if (best < 0 || t.total[c] > t.total[best]) best = c;
    }
    return best >= 0 && this.rect(best)[1] >= MIN_PX ? best : -1;
  }

  // The next visible node of the same level in direction dir (+1/-1), or -1.
  sibling(id, dir) {
    const t = this.t;
    const d = t.depth[id];
    if (d <= this.zoomDepth) return -1;
    const [lo, hi] = this.range(d);
    for (let i = id + dir; i >= lo && i < hi; i += dir) {
      if (this.rect(i)[1] >= MIN_PX) return i;
    }
    return -1;
  }
}

// Compiles a search text: a case-insensitive regex when it is one, else a substring match.
export function matcher(text) {
  if (!text) return null;
  try {
    const re = new RegExp(text, 'i');
    return (s) => re.test(s);
  } catch {
    const lc = text.toLowerCase();
    return (s) => s.toLowerCase().includes(lc);
  }
}

// Which names match (Uint8Array by name index), how many functions, and the share of the root
// total in matching nodes (a match inside a match counts once).
export function searchTree(t, text) {
  const m = matcher(text);
  const hits = new Uint8Array(t.names.length);
  if (!m || !t.n) return { hits, nNames: 0, value: 0, share: 0 };
  let nNames = 0;
  const root = t.name[0];
  for (let i = 0; i < t.names.length; i++) {
    if (!(i === root && t.names[i] === 'total') && m(t.names[i])) {
      hits[i] = 1;
      nNames++;
    }
  }
  const covered = new Uint8Array(t.n);
  covered[0] = hits[root];
  let value = hits[root] ? t.total[0] : 0;
  for (let i = 1; i < t.n; i++) {
    // ids grow level by level, so a parent is always seen before its children
    const p = t.parent[i];
    const hit = hits[t.name[i]] === 1;
    if (hit && !covered[p]) value += t.total[i];
    covered[i] = hit || covered[p] ? 1 : 0;
  }
  return { hits, nNames, value, share: t.numTicks ? value / t.numTicks : 0 };
}
