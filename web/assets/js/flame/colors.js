// flame/colors.js — colours of flame graph nodes: by package (derived from the function name:
// Go import path, C++/Rust namespace, Java package, Python file), kernel frames ("name_[k]",
// "[k] name", "[kernel.kallsyms]") in their own blue family, synthetic nodes ("total",
// "other") grey; for diffs, red for growth and green for shrinkage by normalized relative change.
// Pure code (no DOM).

export function isKernel(name) {
  return name.endsWith('_[k]') || name.startsWith('[k] ') || name.includes('[kernel.kallsyms]');
}

// The "package" of a function name; the name itself when it has none.
export function packageOf(name) {
  if (isKernel(name)) return 'kernel';
  if (name === 'total' || name === 'other') return name;
  const sp = name.indexOf(' ');
  if (sp > 0 && /\.(py|rb|php|js|ts)$/.test(name.slice(0, sp))) return name.slice(0, sp); // "file.py func"
  // drop argument lists and template parameters
  let s = name;
  const paren = s.indexOf('(');
  if (paren > 0 && !s.startsWith('(')) s = s.slice(0, paren).replace(/\.$/, '');
  const lt = s.indexOf('<');
  if (lt > 0) s = s.slice(0, lt);
  const cc = s.indexOf('::');
  if (cc > 0) return s.slice(0, cc); // C++ / Rust
  const slash = s.lastIndexOf('/');
  const head = slash >= 0 ? s.slice(0, slash + 1) : '';
  const tail = slash >= 0 ? s.slice(slash + 1) : s;
  const parts = tail.split('.');
  if (parts.length <= 1) return head ? head + tail : name; // plain C function
  if (head || parts.length === 2) return head + parts[0]; // Go: path/pkg.Func, pkg.Func
  return parts.slice(0, -2).join('.'); // Java: com.foo.Class.method
}

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

// A colour for a name under a colouring mode: "package" (default) or "function". Colours come
// from a finite palette (hues x lightness steps) so that the renderer can batch rects by colour.
const HUES = [0, 10, 20, 30, 40, 50, 60, 75, 90, 110, 130, 150, 270, 285, 300, 315, 330, 345];
export function nodeColor(name, mode, dark) {
  const l0 = dark ? 46 : 66;
  if (name === 'total' || name === 'other') return `hsl(0,0%,${dark ? 42 : 72}%)`;
  const hn = hash(name);
  if (isKernel(name)) return `hsl(${205 + 7 * (hn % 3)},55%,${l0 - 6 + 4 * ((hn >>> 8) % 3)}%)`;
  const h = mode === 'function' ? hn : hash(packageOf(name));
  // warm, green and purple hues for user code, leaving the blues to the kernel
  const hue = HUES[h % HUES.length];
  const sat = 60 + 10 * ((h >>> 8) % 2);
  return `hsl(${hue},${sat}%,${l0 - 4 + 4 * ((hn >>> 12) % 3)}%)`;
}

// Normalized relative change of a diff node: (new share - base share) / max(shares), in [-1, 1].
export function diffChange(lTotal, leftTicks, rTotal, rightTicks) {
  const l = leftTicks ? lTotal / leftTicks : 0;
  const r = rightTicks ? rTotal / rightTicks : 0;
  const m = Math.max(l, r);
  return m ? (r - l) / m : 0;
}

export function diffColor(change, dark) {
  const a = Math.min(1, Math.abs(change));
  const grey = dark ? 70 : 200;
  const lerp = (x, y) => Math.round(x + (y - x) * a);
  if (change > 0) return `rgb(${lerp(grey, 230)},${lerp(grey, 60)},${lerp(grey, 50)})`;
  return `rgb(${lerp(grey, 50)},${lerp(grey, 175)},${lerp(grey, 70)})`;
}
