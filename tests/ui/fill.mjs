// tests/ui/fill.mjs — fills an Ember server with profiles for the UI tests: three services
// (checkout in versions 1.2 and 1.3 and two envs, search, ingest-worker), folded CPU profiles
// every 10 s in two time windows (50–40 and 15–5 minutes ago), with Go-like names, recursion
// and kernel frames ("_[k]"); version 1.3 of checkout spends more in encoding/json.Marshal.
// Usage: node tests/ui/fill.mjs http://127.0.0.1:PORT   (prints the number of profiles sent)

const base = process.argv[2];
if (!base) {
  console.error('usage: fill.mjs BASE_URL');
  process.exit(2);
}

const K = ['entry_SYSCALL_64_after_hwframe_[k]', 'do_syscall_64_[k]'];
function stacks(service, version, phase) {
  const web = ['runtime.goexit', 'net/http.(*conn).serve', 'net/http.serverHandler.ServeHTTP'];
  const s = [];
  if (service === 'checkout') {
    const h = [...web, 'example.com/shop/checkout.(*Server).Handle'];
    const json = version === '1.3' ? 60 : 15;
    s.push([[...h, 'encoding/json.Marshal', 'encoding/json.(*encodeState).marshal', 'reflect.Value.Field'], json]);
    s.push([[...h, 'example.com/shop/checkout.price', 'example.com/shop/checkout.discount', 'math.Pow'], 30]);
    s.push([[...h, 'example.com/shop/db.(*Pool).Query', 'syscall.Syscall', ...K, '__x64_sys_sendto_[k]', 'tcp_sendmsg_[k]'], 25]);
    s.push([[...h, 'example.com/shop/checkout.walk', 'example.com/shop/checkout.walk', 'example.com/shop/checkout.walk', 'runtime.mallocgc'], 12]);
    s.push([['runtime.goexit', 'runtime.gcBgMarkWorker', 'runtime.gcDrain', 'runtime.scanobject'], 18 + phase * 4]);
  } else if (service === 'search') {
    const h = [...web, 'example.com/search.(*Index).Lookup'];
    s.push([[...h, 'example.com/search.tokenize', 'strings.Fields'], 40]);
    s.push([[...h, 'example.com/search.score', 'math.Log'], 35 + phase * 20]);
    s.push([[...h, 'sort.Sort', 'sort.quickSort', 'example.com/search.byScore.Less'], 20]);
    s.push([['runtime.goexit', 'runtime.gcBgMarkWorker', 'runtime.gcDrain'], 10]);
  } else {
    s.push([['main', 'worker_loop', 'decode_batch', 'inflate'], 50]);
    s.push([['main', 'worker_loop', 'write_batch', 'write', ...K, 'ksys_write_[k]', 'vfs_write_[k]'], 30]);
    s.push([['main', 'worker_loop', 'std::vector<int>::push_back', 'operator new', 'malloc'], 15]);
  }
  return s.map(([frames, n]) => `${frames.join(';')} ${n}`).join('\n') + '\n';
}

const series = [
  ['checkout', { env: 'prod', version: '1.2' }],
  ['checkout', { env: 'prod', version: '1.3' }],
  ['checkout', { env: 'staging', version: '1.3' }],
  ['search', { env: 'prod', version: '2.0' }],
  ['ingest-worker', { env: 'prod', version: '0.9' }],
];

const now = Math.floor(Date.now() / 1000);
const windows = [
  [now - 50 * 60, now - 40 * 60, 0],
  [now - 15 * 60, now - 5 * 60, 1],
];
let sent = 0;
const jobs = [];
for (const [svc, labels] of series) {
  // checkout 1.2 ran in the old window only, 1.3 in the new one
  for (const [a, b, phase] of windows) {
    if (svc === 'checkout' && labels.env === 'prod' && labels.version === '1.2' && phase === 1) continue;
    if (svc === 'checkout' && labels.env === 'prod' && labels.version === '1.3' && phase === 0) continue;
    for (let t = a; t < b; t += 10) {
      const tags = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
      const name = encodeURIComponent(`${svc}.cpu{${tags}}`);
      const url = `${base}/ingest?name=${name}&from=${t}&until=${t + 10}&sampleRate=100&spyName=gospy`;
      jobs.push([url, stacks(svc, labels.version, phase)]);
    }
  }
}
// a few requests in flight at a time
let next = 0;
async function worker() {
  while (next < jobs.length) {
    const [url, body] = jobs[next++];
    const r = await fetch(url, { method: 'POST', body });
    if (!r.ok) throw new Error(`ingest ${url}: HTTP ${r.status} ${await r.text()}`);
    sent++;
  }
}
await Promise.all([worker(), worker(), worker(), worker()]);
console.log(sent);
