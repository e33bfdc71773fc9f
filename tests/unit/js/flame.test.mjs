// tests/unit/js/flame.test.mjs — unit tests of the UI's flame graph code (web/assets/js/flame/):
// flamebearer decoding (single and double, delta offsets, bad input), parent links, layout
// ranges under zoom, hit-testing, the MIN_PX cut, keyboard neighbours, search share with
// nested matches, the function table with recursion counted once, callers/callees trees, zoom
// paths, package colouring and the query/time helpers. Run: node --test (via
// tests/integration/ui_unit_js.sh, which prints PASS/FAIL per test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFlamebearer, functionTable, diffTable, callersTree, calleesTree, pathOf, findPath, treeFromTrie, trieNode } from '../../../web/assets/js/flame/tree.js';
import { Layout, searchTree, MIN_PX } from '../../../web/assets/js/flame/layout.js';
import { packageOf, isKernel, diffChange } from '../../../web/assets/js/flame/colors.js';
import { parseQuery, buildQuery } from '../../../web/assets/js/query.js';
import { resolve, stepFor } from '../../../web/assets/js/time.js';
import { fmtValue } from '../../../web/assets/js/format.js';

// folded stacks → flamebearer as Ember's encoder lays it out (self first, then children in
// insertion order), so the tests do not depend on the server.
function fbOf(folded) {
  const root = { name: 'total', total: 0, self: 0, kids: new Map() };
  for (const [stack, v] of folded) {
    let n = root;
    n.total += v;
    for (const f of stack.split(';')) {
      if (!n.kids.has(f)) n.kids.set(f, { name: f, total: 0, self: 0, kids: new Map() });
      n = n.kids.get(f);
      n.total += v;
    }
    n.self += v;
  }
  const names = ['total'], idx = new Map([['total', 0]]), levels = [];
  const ends = [];
  (function visit(n, d, x) {
    if (!levels[d]) (levels[d] = []), (ends[d] = 0);
    if (!idx.has(n.name)) idx.set(n.name, names.push(n.name) - 1);
    levels[d].push(x - ends[d], n.total, n.self, idx.get(n.name));
    ends[d] = x + n.total;
    let cx = x + n.self;
    for (const k of n.kids.values()) {
      visit(k, d + 1, cx);
      cx += k.total;
    }
  })(root, 0, 0);
  return { names, levels, numTicks: root.total, maxSelf: 0 };
}

const SAMPLE = [
  ['main;a;b', 10],
  ['main;a;c', 5],
  ['main;d', 20],
  ['main;a', 3],
  ['gc', 2],
];

test('decode: nodes, offsets, parents, levels', () => {
  const t = decodeFlamebearer(fbOf(SAMPLE));
  assert.equal(t.n, 7); // total, main, gc, a, d, b, c
  assert.equal(t.nLevels, 4);
  assert.equal(t.numTicks, 40);
  const byName = (s) => [...Array(t.n).keys()].filter((i) => t.names[t.name[i]] === s);
  const [a] = byName('a'), [b] = byName('b'), [c] = byName('c'), [main] = byName('main');
  assert.equal(t.total[a], 18);
  assert.equal(t.self[a], 3);
  assert.equal(t.start[b], t.start[a] + 3, 'children come after the self width');
  assert.equal(t.start[c], t.start[b] + 10);
  assert.equal(t.parent[b], a);
  assert.equal(t.parent[a], main);
  assert.equal(t.parent[main], 0);
  assert.equal(t.depth[c], 3);
  assert.equal(t.nChild[main], 2);
});

test('decode: double format sums both sides and keeps them', () => {
  // root: left 10, right 30; child f: left 10 (self 10), right 20 (self 20); child g right 10
  const fb = {
    names: ['total', 'f', 'g'],
    levels: [
      [0, 10, 0, 0, 30, 0, 0],
      [0, 10, 10, 0, 20, 20, 1, 0, 0, 0, 0, 10, 10, 2],
    ],
    numTicks: 40,
    maxSelf: 20,
  };
  const t = decodeFlamebearer(fb, 'double');
  assert.equal(t.total[0], 40);
  assert.equal(t.diff.leftTicks, 10);
  assert.equal(t.diff.rightTicks, 30);
  assert.equal(t.start[2], 30, 'g starts after f on both sides');
  const rows = diffTable(t);
  const f = rows.find((r) => r.name === 'f');
  assert.deepEqual([f.lTotal, f.rTotal], [10, 20]);
  assert.ok(Math.abs(diffChange(10, 10, 20, 30) - (2 / 3 - 1) / 1) < 1e-9);
});

test('decode: rejects malformed input', () => {
  assert.throws(() => decodeFlamebearer({ names: ['total'], levels: [[0, 1, 1]] }), /multiple of 4/);
  assert.throws(() => decodeFlamebearer({ names: ['total'], levels: [[0, 1, 1, 7]] }), /out of range/);
  assert.throws(() => decodeFlamebearer({ names: ['total'], levels: [[0, -1, 0, 0]] }), /bad values/);
  assert.throws(() => decodeFlamebearer(null), /no names/);
  const empty = decodeFlamebearer({ names: ['total'], levels: [] });
  assert.equal(empty.n, 0);
});

test('layout: ranges and rects under zoom', () => {
  const t = decodeFlamebearer(fbOf(SAMPLE));
  const L = new Layout(t, 0, 400);
  assert.deepEqual(L.rect(0), [0, 400]);
  const a = findPath(t, ['main', 'a']);
  L.setZoom(a);
  assert.equal(L.zoomDepth, 2);
  assert.deepEqual(L.rect(a), [0, 400]);
  assert.deepEqual(L.rect(t.parent[a]), [0, 400], 'ancestors span the width');
  const [lo, hi] = L.range(3);
  const names = [];
  for (let i = lo; i < hi; i++) names.push(t.names[t.name[i]]);
  assert.deepEqual(names, ['b', 'c'], 'level 3 holds only the zoomed node\'s children');
  const b = findPath(t, ['main', 'a', 'b']);
  const [x, w] = L.rect(b);
  assert.ok(Math.abs(x - (3 / 18) * 400) < 1e-9 && Math.abs(w - (10 / 18) * 400) < 1e-9);
  assert.equal(L.maxVisibleDepth(), 3);
});

test('layout: hit-testing by binary search', () => {
  const t = decodeFlamebearer(fbOf(SAMPLE));
  const L = new Layout(t, 0, 400); // 10 px per tick
  const nameAt = (d, x) => {
    const id = L.hit(d, x);
    return id < 0 ? null : t.names[t.name[id]];
  };
  assert.equal(nameAt(0, 5), 'total');
  assert.equal(nameAt(1, 5), 'main');
  assert.equal(nameAt(1, 385), 'gc');
  assert.equal(nameAt(2, 10), 'a');
  assert.equal(nameAt(2, 185), 'd');
  assert.equal(nameAt(3, 5), null, 'a\'s self width has no child');
  assert.equal(nameAt(3, 35), 'b');
  assert.equal(nameAt(3, 135), 'c');
  assert.equal(nameAt(9, 5), null);
  assert.equal(nameAt(1, -1), null);
  assert.equal(nameAt(1, 400), null);
});

test('layout: nodes narrower than MIN_PX are neither drawn nor hit', () => {
  const folded = [['big', 1e6], ['tiny', 1]];
  const t = decodeFlamebearer(fbOf(folded));
  const L = new Layout(t, 0, 1000);
  const seen = [];
  L.forEachVisible(1, (id, x, w) => seen.push([t.names[t.name[id]], w]));
  assert.equal(seen.length, 1);
  assert.equal(seen[0][0], 'big');
  assert.ok(MIN_PX > 0);
  assert.equal(L.hit(1, 999.9995), -1);
});

test('layout: keyboard neighbours', () => {
  const t = decodeFlamebearer(fbOf(SAMPLE));
  const L = new Layout(t, 0, 400);
  const main = findPath(t, ['main']);
  const d = L.firstChildOf(main);
  assert.equal(t.names[t.name[d]], 'd', 'the widest child');
  const a = L.sibling(d, -1);
  assert.equal(t.names[t.name[a]], 'a');
  assert.equal(L.sibling(a, -1), -1);
  const gc = L.sibling(main, 1);
  assert.equal(t.names[t.name[gc]], 'gc');
});

test('search: matches and share, nested matches counted once', () => {
  const t = decodeFlamebearer(fbOf([['a;x;a;y', 10], ['a;z', 10], ['b', 20]]));
  const s = searchTree(t, '^a$');
  assert.equal(s.nNames, 1);
  assert.equal(s.value, 20);
  assert.equal(s.share, 0.5);
  const r = searchTree(t, 'y|z');
  assert.equal(r.nNames, 2);
  assert.equal(r.value, 20);
  const bad = searchTree(t, '(');
  assert.equal(bad.nNames, 0, 'an invalid regex is a substring search');
  assert.equal(searchTree(t, '').nNames, 0);
});

test('function table: self sums, recursion counted once in total', () => {
  const t = decodeFlamebearer(fbOf([['main;f;f;f', 6], ['main;f;g', 4], ['main;g', 5]]));
  const rows = Object.fromEntries(functionTable(t).map((r) => [r.name, r]));
  assert.equal(rows.f.total, 10);
  assert.equal(rows.f.self, 6);
  assert.equal(rows.g.total, 9);
  assert.equal(rows.g.self, 9);
  assert.equal(rows.main.total, 15);
  assert.ok(!rows.total, 'the root is not a function');
});

test('sandwich: callers inverted and callees merged', () => {
  const t = decodeFlamebearer(fbOf([['main;a;f;x', 3], ['main;b;f;y', 4], ['main;b;f', 1], ['main;f', 2]]));
  const callees = calleesTree(t, 'f');
  assert.equal(callees.numTicks, 10);
  assert.equal(callees.self[0], 3);
  const cr = Object.fromEntries(functionTable(callees).map((r) => [r.name, r.total]));
  assert.deepEqual([cr.x, cr.y], [3, 4]);
  const callers = callersTree(t, 'f');
  assert.equal(callers.numTicks, 10);
  const kids = [];
  for (let c = callers.firstChild[0]; c < callers.firstChild[0] + callers.nChild[0]; c++) kids.push([callers.names[callers.name[c]], callers.total[c]]);
  assert.deepEqual(kids, [['a', 3], ['b', 5], ['main', 2]]);
  const b = findPath(callers, ['b']);
  assert.equal(callers.names[callers.name[callers.firstChild[b]]], 'main');
});

test('zoom paths survive a reload', () => {
  const t = decodeFlamebearer(fbOf(SAMPLE));
  const c = findPath(t, ['main', 'a', 'c']);
  assert.deepEqual(pathOf(t, c), ['main', 'a', 'c']);
  const t2 = decodeFlamebearer(fbOf([['other', 1], ...SAMPLE]));
  assert.equal(t2.names[t2.name[findPath(t2, ['main', 'a', 'c'])]], 'c');
  assert.equal(findPath(t2, ['main', 'nope']), -1);
});

test('trie to tree: layout and name table', () => {
  const r = trieNode('r');
  r.total = 5;
  r.self = 1;
  const k = trieNode('k');
  k.total = 4;
  k.self = 4;
  r.children.set('k', k);
  const t = treeFromTrie(r);
  assert.equal(t.n, 2);
  assert.equal(t.start[1], 1);
  assert.equal(t.parent[1], 0);
});

test('colours: packages and kernel frames', () => {
  assert.equal(packageOf('github.com/foo/bar.(*T).Method'), 'github.com/foo/bar');
  assert.equal(packageOf('runtime.mallocgc'), 'runtime');
  assert.equal(packageOf('std::vector<int>::push_back'), 'std');
  assert.equal(packageOf('com.example.app.Server.handle'), 'com.example.app');
  assert.equal(packageOf('app.py handle_request'), 'app.py');
  assert.equal(packageOf('malloc'), 'malloc');
  assert.ok(isKernel('do_syscall_64_[k]'));
  assert.equal(packageOf('tcp_sendmsg_[k]'), 'kernel');
  assert.ok(!isKernel('main'));
});

test('query text: parse and build round trip', () => {
  const q = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name="app",env=~"prod.*",v!="a\\"b"}';
  const p = parseQuery(q);
  assert.equal(p.type, 'process_cpu:cpu:nanoseconds:cpu:nanoseconds');
  assert.deepEqual(p.matchers[1], { name: 'env', op: '=~', value: 'prod.*' });
  assert.equal(p.matchers[2].value, 'a"b');
  assert.equal(buildQuery(p.type, p.matchers), q);
  assert.throws(() => parseQuery('t{a="x}'), /unterminated/);
  assert.throws(() => parseQuery('t{a~"x"}'), /want one of/);
  assert.deepEqual(parseQuery('t').matchers, []);
});

test('time: relative and absolute times, steps', () => {
  const now = 1700000000000;
  assert.equal(resolve('now', now), now);
  assert.equal(resolve('now-1h', now), now - 3600e3);
  assert.equal(resolve('1700000000', now), 1700000000000);
  assert.equal(resolve('1700000000123', now), 1700000000123);
  assert.ok(Number.isNaN(resolve('yesterday', now)));
  assert.equal(stepFor(0, 3600e3), 20);
  assert.equal(stepFor(0, 60e3), 10);
  assert.equal(fmtValue(1.5e9, 'nanoseconds'), '1.50 s');
  assert.equal(fmtValue(2048, 'bytes'), '2.00 KiB');
});
