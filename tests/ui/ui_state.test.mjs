// tests/ui/ui_state.test.mjs — every flame graph's zoom is kept in the URL: on the sandwich view
// (callers: czoom, callees: ezoom) and on the compare page's diff flame graph (zoom). For each, it
// zooms in the page, checks the URL holds the path, then opens that URL afresh (a shared link)
// and checks the graph comes back zoomed on the same node; back returns to the unzoomed graph.
// Usage: node tests/ui/ui_state.test.mjs BASE_URL (a server filled by tests/ui/fill.mjs)
import { launch } from './browser.mjs';

const [base] = process.argv.slice(2);
if (!base) {
  console.log('FAIL ui_state/usage: ui_state.test.mjs BASE_URL');
  process.exit(2);
}
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`PASS ui_state/${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ui_state/${name}: ${String((e && e.message) || e).split('\n')[0].slice(0, 300)}`);
  }
}
function assert(c, msg) {
  if (!c) throw new Error(msg);
}

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const q = (m) => encodeURIComponent(`${CPU}{${m}}`);
const FN = 'example.com/shop/checkout.(*Server).Handle';
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const errs = [];
page.on('pageerror', (e) => errs.push(e.message));

// Zooms graph `which` (a property path of window.__ember.page, or 'flame') to its first node of
// depth 1 with children when there is one; returns the zoom path the graph reports.
async function zoomIn(which) {
  return page.evaluate((which) => {
    const f = which === 'flame' ? window.__ember.flame : window.__ember.page[which];
    const t = f.t;
    let id = -1;
    for (let i = 1; i < t.n; i++) if (t.depth[i] >= 1 && (id < 0 || t.nChild[i] > 0)) {
      id = i;
      if (t.nChild[i] > 0) break;
    }
    if (id > 0) f.zoomTo(id);
    return f.zoomPath();
  }, which);
}
const pathOf = (which) => page.evaluate((w) => (w === 'flame' ? window.__ember.flame : window.__ember.page[w]).zoomPath(), which);
const SEP = '\u203a';

await check('sandwich_zoom_in_url', async () => {
  await page.goto(`${base}/explore?query=${q('service_name="checkout"')}&from=now-1h&until=now&view=sandwich&fn=${encodeURIComponent(FN)}`);
  await page.waitForFunction(() => {
    const p = window.__ember.page;
    return p && p.callers && p.callers.t && p.callees && p.callees.t && p.callees.t.n > 1;
  }, null, { timeout: 20000 });
  for (const [which, key] of [['callers', 'czoom'], ['callees', 'ezoom']]) {
    const path = await zoomIn(which);
    assert(path.length >= 1, `${which}: nothing to zoom into (path ${JSON.stringify(path)})`);
    await page.waitForFunction(([k, v]) => new URL(location.href).searchParams.get(k) === v, [key, path.join(SEP)], { timeout: 5000 });
  }
  const want = { callers: await pathOf('callers'), callees: await pathOf('callees') };
  // each zoom is a history entry: back undoes the callees' zoom only, forward redoes it
  await page.evaluate(() => history.back());
  await page.waitForFunction(() => !new URL(location.href).searchParams.get('ezoom'), null, { timeout: 5000 });
  await page.waitForFunction(() => window.__ember.page.callees && window.__ember.page.callees.zoomPath().length === 0, null, { timeout: 10000 });
  assert((await pathOf('callers')).join(SEP) === want.callers.join(SEP), 'back also changed the callers zoom');
  await page.evaluate(() => history.forward());
  await page.waitForFunction((v) => window.__ember.page.callees && window.__ember.page.callees.zoomPath().join('\u203a') === v, want.callees.join(SEP), { timeout: 10000 });
  const shared = page.url();
  await page.goto('about:blank');
  await page.goto(shared);
  await page.waitForFunction(() => {
    const p = window.__ember.page;
    return p && p.callers && p.callers.t && p.callees && p.callees.t;
  }, null, { timeout: 20000 });
  for (const w of ['callers', 'callees']) {
    const got = await pathOf(w);
    assert(got.join(SEP) === want[w].join(SEP), `${w} after opening the shared URL: ${JSON.stringify(got)} != ${JSON.stringify(want[w])}`);
  }
});

await check('compare_zoom_in_url', async () => {
  const cu = `${base}/compare?lquery=${q('service_name="checkout",version="1.2"')}&rquery=${q('service_name="checkout",version="1.3"')}&lfrom=now-1h&luntil=now&rfrom=now-1h&runtil=now&from=now-1h&until=now&view=flame`;
  const ready = () => page.waitForFunction(() => {
    const f = window.__ember.flame;
    return f && f.t && f.t.diff && f.t.n > 1 && f.root.isConnected;
  }, null, { timeout: 20000 });
  await page.goto(cu);
  await ready();
  const path = await zoomIn('flame');
  assert(path.length >= 1, `nothing to zoom into (path ${JSON.stringify(path)})`);
  await page.waitForFunction((v) => new URL(location.href).searchParams.get('zoom') === v, path.join(SEP), { timeout: 5000 });
  const shared = page.url();
  await page.goto('about:blank');
  await page.goto(shared);
  await ready();
  const got = await pathOf('flame');
  assert(got.join(SEP) === path.join(SEP), `after opening the shared URL: ${JSON.stringify(got)} != ${JSON.stringify(path)}`);
});

await check('no_page_errors', async () => assert(errs.length === 0, errs.slice(0, 2).join(' | ')));
await browser.close();
process.exit(failed ? 1 : 0);
