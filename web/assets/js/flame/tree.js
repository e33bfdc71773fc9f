// flame/tree.js — the flame graph's data model: a call tree stored as flat typed arrays, one
// run of nodes per level (depth), each level ordered left to right. Node ids are global:
// level d holds ids levelStart[d] .. levelStart[d+1]-1, so a parent's id is always smaller than
// its children's. Built from a Pyroscope flamebearer ("single" 4-tuples or "double" 7-tuples,
// delta-encoded x offsets) or from a trie (sandwich views). Also the computations that read the
// whole tree: the per-function table (self/total, recursion counted once), the callers/callees
// trees of one function, the diff table. Pure code (no DOM): unit-tested with node --test.

export const MAX_NODES = 4000000;

function fail(msg) {
  throw new Error('flame graph data: ' + msg);
}

// Fills parent/firstChild/nChild/depth for arrays laid out by level.
function link(t) {
  const { levelStart, start, total, parent, firstChild, nChild, depth } = t;
  parent.fill(-1);
  firstChild.fill(-1);
  for (let d = 0; d < t.nLevels; d++) {
    for (let i = levelStart[d]; i < levelStart[d + 1]; i++) depth[i] = d;
  }
  for (let d = 1; d < t.nLevels; d++) {
    const p0 = levelStart[d - 1], p1 = levelStart[d];
    if (p0 === p1) fail(`level ${d} has nodes but level ${d - 1} has none`);
    let j = p0;
    for (let i = levelStart[d]; i < levelStart[d + 1]; i++) {
      const x = start[i];
      // the parent is the node of the level above whose [start, start+total) holds x
      while (j + 1 < p1 && start[j] + total[j] <= x && start[j + 1] <= x) j++;
      parent[i] = j;
      if (firstChild[j] < 0) firstChild[j] = i;
      nChild[j]++;
    }
  }
}

function alloc(n, nLevels, diff) {
  const t = {
    n,
    nLevels,
    levelStart: new Int32Array(nLevels + 1),
    start: new Float64Array(n),
    total: new Float64Array(n),
    self: new Float64Array(n),
    name: new Int32Array(n),
    parent: new Int32Array(n),
    firstChild: new Int32Array(n),
    nChild: new Int32Array(n),
    depth: new Int32Array(n),
    names: [],
    numTicks: 0,
    maxSelf: 0,
    diff: null,
  };
  if (diff) {
    t.diff = {
      lTotal: new Float64Array(n),
      lSelf: new Float64Array(n),
      rTotal: new Float64Array(n),
      rSelf: new Float64Array(n),
      leftTicks: 0,
      rightTicks: 0,
    };
  }
  return t;
}

// fb: the "flamebearer" object {names, levels, numTicks, maxSelf[, leftTicks, rightTicks]};
// format: "single" (default) or "double". Throws on malformed input.
export function decodeFlamebearer(fb, format) {
  if (!fb || !Array.isArray(fb.names) || !Array.isArray(fb.levels)) fail('no names/levels');
  const diff = format === 'double';
  const w = diff ? 7 : 4;
  let n = 0;
  for (const lv of fb.levels) {
    if (!Array.isArray(lv) || lv.length % w) fail(`a level's length is not a multiple of ${w}`);
    n += lv.length / w;
  }
  if (n > MAX_NODES) fail(`${n} nodes is more than ${MAX_NODES}`);
  const nLevels = fb.levels.length;
  if (nLevels && fb.levels[0].length !== w) fail('level 0 must hold exactly the root');
  const t = alloc(n, nLevels, diff);
  t.names = fb.names.map((s) => String(s));
  const nNames = t.names.length;
  const S = t.start, T = t.total, F = t.self, M = t.name, LS = t.levelStart;
  let id = 0, maxSelf = 0;
  for (let d = 0; d < nLevels; d++) {
    const lv = fb.levels[d];
    const len = lv.length;
    LS[d] = id;
    let lEnd = 0, rEnd = 0;
    if (!diff) {
      for (let k = 0; k < len; k += 4, id++) {
        const x = lEnd + lv[k], tot = lv[k + 1], self = lv[k + 2], nm = lv[k + 3];
        // also rejects non-numbers: comparisons with NaN/undefined are false
        if (!(nm >= 0 && nm < nNames && (nm | 0) === nm)) fail(`name index ${nm} out of range at level ${d}`);
        if (!(tot >= 0 && self >= 0 && x >= 0 && x < Infinity)) fail(`bad values at level ${d}`);
        lEnd = x + tot;
        S[id] = x;
        T[id] = tot;
        F[id] = self;
        M[id] = nm;
        if (self > maxSelf) maxSelf = self;
      }
      continue;
    }
    const D = t.diff;
    for (let k = 0; k < len; k += 7, id++) {
      const lx = lEnd + lv[k], rx = rEnd + lv[k + 3];
      const lt = lv[k + 1], ls = lv[k + 2], rt = lv[k + 4], rs = lv[k + 5], nm = lv[k + 6];
      if (!(lt >= 0 && ls >= 0 && rt >= 0 && rs >= 0 && lx >= 0 && rx >= 0 && lx + rx < Infinity)) fail(`bad values at level ${d}`);
      if (!(nm >= 0 && nm < nNames && (nm | 0) === nm)) fail(`name index ${nm} out of range at level ${d}`);
      lEnd = lx + lt;
      rEnd = rx + rt;
      D.lTotal[id] = lt;
      D.lSelf[id] = ls;
      D.rTotal[id] = rt;
      D.rSelf[id] = rs;
      S[id] = lx + rx;
      T[id] = lt + rt;
      F[id] = ls + rs;
      M[id] = nm;
      if (ls + rs > maxSelf) maxSelf = ls + rs;
    }
  }
  t.maxSelf = maxSelf;
  t.levelStart[nLevels] = id;
  t.numTicks = n ? t.total[0] : 0;
  if (diff) {
    t.diff.leftTicks = n ? t.diff.lTotal[0] : 0;
    t.diff.rightTicks = n ? t.diff.rTotal[0] : 0;
  }
  link(t);
  return t;
}

// A trie node: {name (string), total, self, children: Map<string, node>}.
export function trieNode(name) {
  return { name, total: 0, self: 0, children: new Map() };
}

// A trie → a tree; children are laid out after their parent's self, ordered by name.
export function treeFromTrie(root) {
  const levels = [];
  let frontier = [{ node: root, x: 0 }];
  let n = 0;
  while (frontier.length) {
    levels.push(frontier);
    n += frontier.length;
    const next = [];
    for (const { node, x } of frontier) {
      let cx = x + node.self;
      const kids = [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const c of kids) {
        next.push({ node: c, x: cx });
        cx += c.total;
      }
    }
    frontier = next;
  }
  const t = alloc(n, levels.length, false);
  const nameIdx = new Map();
  let id = 0;
  for (let d = 0; d < levels.length; d++) {
    t.levelStart[d] = id;
    for (const { node, x } of levels[d]) {
      let ni = nameIdx.get(node.name);
      if (ni === undefined) {
        ni = t.names.length;
        t.names.push(node.name);
        nameIdx.set(node.name, ni);
      }
      t.start[id] = x;
      t.total[id] = node.total;
      t.self[id] = node.self;
      t.name[id] = ni;
      if (node.self > t.maxSelf) t.maxSelf = node.self;
      id++;
    }
  }
  t.levelStart[levels.length] = id;
  t.numTicks = n ? t.total[0] : 0;
  link(t);
  return t;
}

// Visits every node depth-first (pre-order); enter(id, outermost) where outermost says that no
// ancestor has the same name (so totals of recursive functions count once).
export function walk(t, enter) {
  if (!t.n) return;
  const onPath = new Int32Array(t.names.length);
  // a node id is pushed as id (enter) then, before its children, as ~id (leave)
  const todo = [0];
  while (todo.length) {
    const v = todo.pop();
    if (v < 0) {
      onPath[t.name[~v]]--;
      continue;
    }
    const nm = t.name[v];
    enter(v, onPath[nm] === 0);
    onPath[nm]++;
    todo.push(~v);
    const fc = t.firstChild[v];
    for (let c = fc + t.nChild[v] - 1; fc >= 0 && c >= fc; c--) todo.push(c);
  }
}

// Per-function rows {name, self, total} (root excluded), unsorted.
export function functionTable(t) {
  const self = new Float64Array(t.names.length), total = new Float64Array(t.names.length);
  const seen = new Uint8Array(t.names.length);
  walk(t, (id, outer) => {
    if (id === 0) return;
    const nm = t.name[id];
    seen[nm] = 1;
    self[nm] += t.self[id];
    if (outer) total[nm] += t.total[id];
  });
  const rows = [];
  for (let i = 0; i < t.names.length; i++) {
    if (seen[i]) rows.push({ name: t.names[i], self: self[i], total: total[i] });
  }
  return rows;
}

// Per-function rows of a diff tree: {name, lSelf, lTotal, rSelf, rTotal}.
export function diffTable(t) {
  const D = t.diff;
  const k = t.names.length;
  const ls = new Float64Array(k), lt = new Float64Array(k), rs = new Float64Array(k), rt = new Float64Array(k);
  const seen = new Uint8Array(k);
  walk(t, (id, outer) => {
    if (id === 0) return;
    const nm = t.name[id];
    seen[nm] = 1;
    ls[nm] += D.lSelf[id];
    rs[nm] += D.rSelf[id];
    if (outer) {
      lt[nm] += D.lTotal[id];
      rt[nm] += D.rTotal[id];
    }
  });
  const rows = [];
  for (let i = 0; i < k; i++) {
    if (seen[i]) rows.push({ name: t.names[i], lSelf: ls[i], lTotal: lt[i], rSelf: rs[i], rTotal: rt[i] });
  }
  return rows;
}

// The ids of the outermost nodes named fname (no ancestor with that name).
function outermost(t, fname) {
  const ids = [];
  const ni = t.names.indexOf(fname);
  if (ni < 0) return ids;
  walk(t, (id, outer) => {
    if (id > 0 && outer && t.name[id] === ni) ids.push(id);
  });
  return ids;
}

// Callees of fname: every outermost occurrence's subtree merged under one root named fname.
export function calleesTree(t, fname) {
  const root = trieNode(fname);
  for (const id of outermost(t, fname)) {
    const todo = [[id, root]];
    while (todo.length) {
      const [v, tn] = todo.pop();
      tn.total += t.total[v];
      tn.self += t.self[v];
      const fc = t.firstChild[v];
      for (let c = fc; fc >= 0 && c < fc + t.nChild[v]; c++) {
        const nm = t.names[t.name[c]];
        let k = tn.children.get(nm);
        if (!k) tn.children.set(nm, (k = trieNode(nm)));
        todo.push([c, k]);
      }
    }
  }
  return treeFromTrie(root);
}

// Callers of fname, inverted: root fname, its children the direct callers, and so on up to the
// stacks' roots; every outermost occurrence adds its total along its reversed call path.
export function callersTree(t, fname) {
  const root = trieNode(fname);
  for (const id of outermost(t, fname)) {
    const v = t.total[id];
    let tn = root;
    tn.total += v;
    for (let p = t.parent[id]; p > 0; p = t.parent[p]) {
      const nm = t.names[t.name[p]];
      let k = tn.children.get(nm);
      if (!k) tn.children.set(nm, (k = trieNode(nm)));
      k.total += v;
      tn = k;
    }
    tn.self += v;
  }
  return treeFromTrie(root);
}

// The path of names from the root (excluded) to id: a name for a node that survives a reload.
export function pathOf(t, id) {
  const p = [];
  for (let v = id; v > 0; v = t.parent[v]) p.push(t.names[t.name[v]]);
  return p.reverse();
}

// The node at a path of names (the widest match at each step), or -1.
export function findPath(t, path) {
  if (!t.n) return -1;
  let v = 0;
  for (const nm of path) {
    const fc = t.firstChild[v];
    let hit = -1;
    for (let c = fc; fc >= 0 && c < fc + t.nChild[v]; c++) {
      if (t.names[t.name[c]] === nm && (hit < 0 || t.total[c] > t.total[hit])) hit = c;
    }
    if (hit < 0) return -1;
    v = hit;
  }
  return v;
}
