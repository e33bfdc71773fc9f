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

// A colour for a name under a colouring mode: "package" (default) or "function".
export function nodeColor(name, mode, dark) {
  const l0 = dark ? 48 : 64;
  if (name === 'total' || name === 'other') return `hsl(0,0%,${dark ? 42 : 72}%)`;
  if (isKernel(name)) {
    const h = hash(name);
    return `hsl(${205 + (h % 20)},55%,${l0 - 4 + ((h >>> 8) % 10)}%)`;
  }
  const key = mode === 'function' ? name : packageOf(name);
  const h = hash(key);
  // warm and green hues for user code, leaving the blues to the kernel
  const hues = [0, 12, 24, 36, 48, 60, 90, 120, 150, 280, 310, 330];
  const hue = hues[h % hues.length] + ((h >>> 4) % 9);
  const sat = 55 + ((h >>> 8) % 20);
  const lig = l0 + ((hash(name) >>> 12) % 8) - 3;
  return `hsl(${hue},${sat}%,${lig}%)`;
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
