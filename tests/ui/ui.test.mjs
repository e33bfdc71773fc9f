// tests/ui/ui.test.mjs — the web UI end to end in headless Chromium (Debian's, driven by
// playwright-core) against a real `ember server` filled by tests/ui/fill.mjs: load, pick a
// service, time series and flame graph, zoom by click (breadcrumb, URL, back/forward), search,
// tooltip, keyboard, icicle/flame, label filter, group-by, top table (sort, filter, click →
// flame), sandwich, function history, hide/focus via the context menu, compare (diff flame graph
// and table), a shared URL, export links, dark theme, empty and error states. Saves a
// screenshot per view in SHOT_DIR and checks that none is blank. Prints PASS/FAIL lines.
// Usage: node tests/ui/ui.test.mjs BASE_URL SHOT_DIR [--empty: only the empty-server check]
import { mkdirSync, writeFileSync } from 'node:fs';
import { distinctColors } from './png.mjs';
import { launch } from './browser.mjs';

const [base, shotDir] = process.argv.slice(2);
if (!base || !shotDir) {
  console.log('FAIL ui/usage: ui.test.mjs BASE_URL SHOT_DIR');
  process.exit(2);
}
mkdirSync(shotDir, { recursive: true });

let failed = 0;
const pass = (n) => console.log(`PASS ui/${n}`);
const fail = (n, why) => {
  failed++;
  console.log(`FAIL ui/${n}: ${String(why).split('\n')[0].slice(0, 300)}`);
};
async function check(name, fn) {
  try {
    const r = await fn();
    if (r === 'skip') return;
    pass(name);
  } catch (e) {
    fail(name, e && e.message ? e.message : e);
  }
}
function assert(c, msg) {
  if (!c) throw new Error(msg);
}

const CPU = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
const q = (matchers) => encodeURIComponent(`${CPU}{${matchers}}`);
const RANGE = 'from=now-1h&until=now';

const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const jsErrors = [];
page.on('pageerror', (e) => jsErrors.push(e.message));
page.on('console', (m) => {
  if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) jsErrors.push(m.text());
});

// Waits until the current flame graph has a tree with nodes and nothing is loading.
async function flameReady(timeout = 30000) {
  await page.waitForFunction(() => {
    const f = window.__ember && window.__ember.flame;
    return f && f.t && f.t.n > 1 && f.root.isConnected && !document.querySelector('.msg-loading');
  }, null, { timeout });
}
async function chartReady(timeout = 30000) {
  await page.waitForFunction(() => document.querySelector('.chart-card .u-over') !== null, null, { timeout });
}
// Distinct colours of the main flame canvas (drawn, not blank).
async function flameColors() {
  return page.evaluate(() => {
    const c = window.__ember.flame.canvas;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const s = new Set();
    for (let i = 0; i < d.length; i += 16) s.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return s.size;
  });
}
async function shot(name, minColors = 12) {
  const buf = await page.screenshot({ fullPage: true });
  writeFileSync(`${shotDir}/${name}.png`, buf);
  const n = distinctColors(buf);
  assert(n >= minColors, `screenshot ${name}.png looks blank (${n} distinct colours)`);
  return n;
}
// Page coordinates of the widest node named `name` in the current flame graph.
async function nodePos(name) {
  return page.evaluate((name) => {
    const f = window.__ember.flame, t = f.t;
    const ni = t.names.indexOf(name);
    let best = -1;
    for (let i = 0; i < t.n; i++) if (t.name[i] === ni && (best < 0 || t.total[i] > t.total[best])) best = i;
    if (best < 0) return null;
    const [x, w] = f.L.rect(best);
    const r = f.canvas.getBoundingClientRect();
    const y = f.rowY(t.depth[best], f.rows);
    return { id: best, x: r.left + Math.max(0, x) + Math.min(w, f.L.width) / 2, y: r.top + y + 8 };
  }, name);
}
const url = () => new URL(page.url());
// Starts a check from a known page state, so that one failure does not cascade.
async function start(params) {
  await page.goto(`${base}/explore?query=${q('service_name="checkout"')}&${RANGE}${params ? '&' + params : ''}`);
  await flameReady();
  await chartReady();
}

// ---- an empty server (run before the fill, with --empty) --------------------------------------
if (process.argv.includes('--empty')) {
  await check('empty_server', async () => {
    await page.goto(base + '/');
    await page.waitForSelector('.panel .msg-empty', { timeout: 15000 });
    const t = await page.$eval('.panel .msg-empty', (e) => e.textContent);
    assert(/No profiles on this server yet/.test(t) && /ember agent/.test(t), 'empty server: ' + t);
    await shot('empty_server', 6);
  });
  await browser.close();
  console.log(`ui: ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// ---- Explore -----------------------------------------------------------------------------------
await check('load', async () => {
  await page.goto(base + '/');
  await flameReady();
  const u = url();
  assert(u.pathname === '/explore', 'the page did not go to /explore: ' + u.pathname);
  assert((u.searchParams.get('query') || '').startsWith(CPU), 'no default query in the URL: ' + u.search);
  const type = await page.$eval('#type', (s) => s.value);
  assert(type === CPU, 'type picker shows ' + type);
});

await check('pick_service', async () => {
  await page.selectOption('#service', 'checkout');
  await page.waitForFunction(() => location.search.includes('service_name'));
  await flameReady();
  assert(url().searchParams.get('query').includes('service_name="checkout"'), 'query: ' + url().searchParams.get('query'));
  const names = await page.evaluate(() => window.__ember.flame.t.names);
  assert(names.includes('encoding/json.Marshal'), 'checkout functions missing from the flame graph');
  assert(!names.includes('example.com/search.tokenize'), 'another service leaked into the selection');
});

await check('time_series', async () => {
  await chartReady();
  const n = await page.evaluate(() => document.querySelectorAll('.chart-card canvas').length);
  assert(n >= 1, 'no chart canvas');
});

await check('flame_drawn', async () => {
  const n = await flameColors();
  assert(n >= 6, `flame canvas has ${n} colours`);
  await shot('explore');
});

await check('tooltip', async () => {
  const p = await nodePos('math.Pow');
  assert(p, 'math.Pow not in the graph');
  await page.mouse.move(p.x, p.y);
  await page.waitForSelector('.fg-tip:not([hidden])', { timeout: 10000 });
  const text = await page.$eval('.fg-tip', (e) => e.textContent);
  assert(text.includes('math.Pow') && text.includes('Total') && text.includes('Self') && text.includes('%'), 'tooltip: ' + text);
});

let zoomId = -1;
await check('zoom_click', async () => {
  const p = await nodePos('example.com/shop/checkout.(*Server).Handle');
  await page.mouse.click(p.x, p.y);
  await page.waitForFunction(() => location.search.includes('zoom='));
  zoomId = p.id;
  const z = await page.evaluate(() => window.__ember.flame.L.zoom);
  assert(z === p.id, `zoomed to ${z}, want ${p.id}`);
  const crumbs = await page.$eval('.fg-crumbs', (e) => e.textContent);
  assert(crumbs.includes('checkout.(*Server).Handle'), 'breadcrumb: ' + crumbs);
  await shot('flame_zoom');
});

await check('back_forward', async () => {
  await page.goBack();
  await page.waitForFunction(() => !location.search.includes('zoom='));
  await page.waitForFunction(() => window.__ember.flame && window.__ember.flame.L.zoom === 0);
  await page.goForward();
  await page.waitForFunction((id) => window.__ember.flame && window.__ember.flame.L.zoom === id, zoomId, { timeout: 10000 });
});

await check('breadcrumb_zoom_out', async () => {
  await page.click('.fg-crumb >> text=all');
  await page.waitForFunction(() => window.__ember.flame.L.zoom === 0);
});

await check('keyboard', async () => {
  await page.focus('.fg-main');
  await page.keyboard.press('ArrowDown'); // icicle: one level deeper (the widest child)
  await page.keyboard.press('ArrowDown');
  const sel = await page.evaluate(() => window.__ember.flame.sel);
  assert(sel > 0, 'arrow keys selected nothing');
  await page.keyboard.press('Enter');
  await page.waitForFunction((s) => window.__ember.flame.L.zoom === s, sel);
  await page.keyboard.press('Escape');
  await page.waitForFunction((s) => window.__ember.flame.L.zoom !== s, sel);
});

await check('search', async () => {
  await page.click('#search');
  await page.keyboard.type('json', { delay: 150 }); // slower than the debounce: several updates
  await page.waitForFunction(() => /matching functions?: [\d.]+% of total/.test(document.querySelector('.fg-status').textContent));
  await page.waitForFunction(() => new URL(location.href).searchParams.get('search') === 'json');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  assert(focused === 'search', 'typing lost the search box focus (now on ' + focused + ')');
  const st = await page.$eval('.fg-status', (e) => e.textContent);
  const pct = parseFloat(st.match(/([\d.]+)% of total/)[1]);
  assert(pct > 5 && pct < 60, 'search share ' + st);
  assert(url().searchParams.get('search') === 'json', 'search not in the URL');
  await shot('search');
  await page.fill('#search', '');
  await page.waitForFunction(() => document.querySelector('.fg-status').textContent === '');
});

await check('icicle_flame_toggle', async () => {
  await page.click('#mode');
  await page.waitForFunction(() => location.search.includes('mode=flame'));
  await page.waitForFunction(() => window.__ember.flame.mode === 'flame');
  await shot('flame_mode');
  await page.click('#mode');
  await page.waitForFunction(() => window.__ember.flame.mode === 'icicle');
});

await check('label_filter', async () => {
  await page.fill('.lf-name', 'version');
  await page.fill('.lf-value', '1.3');
  await page.click('.lf-add');
  await page.waitForFunction(() => new URL(location.href).searchParams.get('query').includes('version="1.3"'));
  await flameReady();
  const chip = await page.$eval('.filter-chip', (e) => e.textContent);
  assert(chip.includes('version = 1.3'), 'chip: ' + chip);
  await page.click('.filter-chip .x');
  await page.waitForFunction(() => !new URL(location.href).searchParams.get('query').includes('version'));
  await flameReady();
});

await check('label_autocomplete', async () => {
  await page.focus('.lf-name');
  await page.waitForFunction(() => document.querySelectorAll('.lf-form datalist')[0].options.length > 0, null, { timeout: 10000 });
  const opts = await page.$$eval('.lf-form datalist:first-of-type option', (o) => o.map((x) => x.value));
  assert(opts.includes('version') && opts.includes('env'), 'label names: ' + opts.join(','));
  await page.fill('.lf-name', 'env');
  await page.dispatchEvent('.lf-name', 'change');
  await page.waitForFunction(() => document.querySelectorAll('.lf-form datalist')[1].options.length > 0, null, { timeout: 10000 });
  const vals = await page.$$eval('.lf-form datalist:last-of-type option', (o) => o.map((x) => x.value));
  assert(vals.includes('prod') && vals.includes('staging'), 'label values: ' + vals.join(','));
});

await check('group_by', async () => {
  await start('');
  await page.selectOption('#groupby', 'version');
  await page.waitForFunction(() => location.search.includes('groupBy=version'));
  await page.waitForFunction(() => document.querySelectorAll('.chart-card .u-legend .u-series').length >= 3, null, { timeout: 10000 });
  const labels = await page.$$eval('.chart-card .u-legend .u-series', (s) => s.map((x) => x.textContent));
  assert(labels.some((l) => l.includes('version=1.2')) && labels.some((l) => l.includes('version=1.3')), 'legend: ' + labels.join('|'));
  await shot('series_grouped');
});

// dragChart(x0, x1): drags the mouse across the first chart from x0 to x1 (fractions of its
// width), at half its height, to select a time range.
async function dragChart(x0, x1) {
  const box = await page.$eval('.chart-card .u-over', (e) => {
    const r = e.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  });
  await page.mouse.move(box.x + box.w * x0, box.y + box.h / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.w * x1, box.y + box.h / 2, { steps: 5 });
  await page.mouse.up();
}

await check('drag_select_range', async () => {
  await dragChart(0.6, 0.8);
  await page.waitForFunction(() => /^\d+$/.test(new URL(location.href).searchParams.get('from') || ''));
  const u = url();
  const a = Number(u.searchParams.get('from')), b = Number(u.searchParams.get('until'));
  assert(b - a > 60e3 && b - a < 30 * 60e3, `selected range ${(b - a) / 1000} s`);
  await flameReady();
  await page.goBack();
  await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === 'now-1h');
  await flameReady();
});

let picked = 'example.com/shop/checkout.price';
await check('top_table', async () => {
  await start('');
  await page.click('.tab[data-view=table]');
  await page.waitForSelector('.toptable tbody tr');
  const first = await page.$$eval('.toptable tbody tr', (r) => r.slice(0, 3).map((x) => x.children[0].textContent));
  assert(first[0] === 'reflect.Value.Field', 'first row by self: ' + first.join(','));
  await page.click('.toptable th >> text=Total');
  const byTotal = await page.$eval('.toptable tbody tr td', (e) => e.textContent);
  assert(byTotal === 'runtime.goexit', 'first row by total: ' + byTotal);
  await page.fill('.toptable .filter', 'checkout\\.');
  const rows = await page.$$eval('.toptable tbody tr', (r) => r.map((x) => x.children[0].textContent));
  assert(rows.length >= 3 && rows.every((n) => n.includes('checkout.')), 'filtered rows: ' + rows.join(','));
  await shot('table');
});

await check('table_row_selects_in_flame', async () => {
  picked = 'example.com/shop/checkout.price';
  await page.click(`.toptable tbody tr >> text="${picked}"`);
  await page.waitForFunction(() => location.search.includes('view=both'));
  await flameReady();
  await page.waitForFunction((n) => {
    const f = window.__ember.flame;
    return f.sel > 0 && f.t.names[f.t.name[f.sel]] === n;
  }, picked, { timeout: 10000 });
  await shot('table_flame');
});

await check('sandwich', async () => {
  if (!url().searchParams.get('fn')) await start('view=both&fn=' + encodeURIComponent(picked));
  await page.click('.tab[data-view=sandwich]');
  await page.waitForFunction(() => document.querySelectorAll('.sandwich canvas.fg-main').length === 2);
  const t = await page.evaluate(() => {
    const p = window.__ember.page;
    return { callers: p.callers.t.names, callees: p.callees.t.names, croot: p.callers.t.names[0] };
  });
  assert(t.croot === picked, 'sandwich root ' + t.croot);
  assert(t.callers.includes('example.com/shop/checkout.(*Server).Handle'), 'callers: ' + t.callers.join(','));
  assert(t.callees.includes('example.com/shop/checkout.discount'), 'callees: ' + t.callees.join(','));
  await shot('sandwich');
});

await check('function_history', async () => {
  await page.click('.tab[data-view=history]');
  await page.waitForSelector('.history .chart .u-over, .history .msg-error', { timeout: 10000 });
  const err = await page.$('.history .msg-error');
  if (err) throw new Error('history: ' + (await err.textContent()));
  await shot('history');
});

await check('hide_function_menu', async () => {
  await start('view=flame');
  const before = await page.evaluate(() => window.__ember.flame.t.numTicks);
  const p = await nodePos('math.Pow');
  await page.mouse.click(p.x, p.y, { button: 'right' });
  await page.waitForSelector('.fg-menu:not([hidden])');
  await shot('context_menu');
  await page.click('.fg-menu-item >> text=Hide this function');
  await page.waitForFunction(() => location.search.includes('ignore='));
  await page.waitForFunction((b) => {
    const f = window.__ember.flame;
    return (f && f.t && f.t.numTicks < b && !document.querySelector('.msg-loading')) || document.querySelector('.panel .msg-error');
  }, before, { timeout: 10000 });
  const err = await page.$('.panel .msg-error');
  if (err) throw new Error('hide: ' + (await err.textContent()));
  const names = await page.evaluate(() => window.__ember.flame.t.names);
  assert(!names.includes('math.Pow'), 'math.Pow still shown');
  assert(await page.$('.chips .chip'), 'no chip for the hidden function');
  await page.click('.chips .chip .x');
  await page.waitForFunction(() => !location.search.includes('ignore='));
  await flameReady();
});

await check('focus_function', async () => {
  await start('view=flame');
  const p = await nodePos('example.com/shop/db.(*Pool).Query');
  assert(p, 'db.(*Pool).Query is not in the graph');
  await page.mouse.click(p.x, p.y, { button: 'right' });
  await page.waitForSelector('.fg-menu:not([hidden])', { timeout: 10000 });
  await page.click('.fg-menu-item >> text=Focus on this function');
  await page.waitForFunction(() => location.search.includes('focus='));
  await page.waitForFunction(() => {
    const f = window.__ember.flame;
    return (f && f.t && !f.t.names.includes('math.Pow') && !document.querySelector('.msg-loading')) || document.querySelector('.panel .msg-error');
  }, null, { timeout: 10000 });
  const err = await page.$('.panel .msg-error');
  if (err) throw new Error('focus: ' + (await err.textContent()));
  const names = await page.evaluate(() => window.__ember.flame.t.names);
  assert(names.includes('tcp_sendmsg_[k]'), 'the focused function\'s callees are missing');
  await page.click('.chips .chip .x');
  await page.waitForFunction(() => !location.search.includes('focus='));
  await flameReady();
});

await check('kernel_frames_distinct', async () => {
  const c = await page.evaluate(() => {
    const f = window.__ember.flame, t = f.t;
    const col = (n) => f.colorOf(t.names.indexOf(n) >= 0 ? [...Array(t.n).keys()].find((i) => t.names[t.name[i]] === n) : 0);
    return [col('tcp_sendmsg_[k]'), col('do_syscall_64_[k]'), col('math.Pow')];
  });
  assert(/hsl\(2[012]\d,/.test(c[0]) && /hsl\(2[012]\d,/.test(c[1]), 'kernel colours ' + c.join(' '));
  assert(!/hsl\(2[012]\d,/.test(c[2]), 'user frame in the kernel colour: ' + c[2]);
});

await check('export_links', async () => {
  await page.click('#export summary');
  const hrefs = await page.$$eval('#export a[download]', (a) => a.map((x) => x.getAttribute('href')));
  assert(hrefs.length >= 4, 'export links: ' + hrefs.length);
  const res = [];
  for (const h of hrefs.filter((x) => x.startsWith('/api/v1/export'))) {
    const r = await page.request.get(base + h);
    res.push(`${new URL(base + h).searchParams.get('format')}=${r.status()}`);
    if (r.status() === 200) assert((await r.body()).length > 20, 'empty export ' + h);
  }
  assert(res.every((x) => x.endsWith('=200')), 'export answers: ' + res.join(' '));
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.click('#export a >> text=PNG of the flame graph')]);
  assert(dl.suggestedFilename().endsWith('.png'), 'png download ' + dl.suggestedFilename());
  await page.click('#export summary');
});

await check('shared_url', async () => {
  const shared = `${base}/explore?query=${q('service_name="checkout"')}&${RANGE}&view=table&search=json&mode=flame&tsort=total&tfilter=runtime`;
  const p2 = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  p2.on('pageerror', (e) => jsErrors.push(e.message));
  await p2.goto(shared);
  await p2.waitForSelector('.toptable tbody tr');
  const active = await p2.$eval('.tab.active', (e) => e.dataset.view);
  const search = await p2.$eval('#search', (e) => e.value);
  const mode = await p2.$eval('#mode', (e) => e.textContent);
  assert(active === 'table' && search === 'json' && mode.includes('Flame'), `state ${active} ${search} ${mode}`);
  const rows = await p2.$$eval('.toptable tbody tr', (r) => r.map((x) => x.children[0].textContent));
  assert(rows[0] === 'runtime.goexit' && rows.every((n) => n.includes('runtime')), 'table sort/filter from the URL: ' + rows.slice(0, 3).join(','));
  await p2.close();
});

await check('dark_theme', async () => {
  await start('');
  await page.click('#theme');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  await flameReady();
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert(bg !== 'rgb(246, 247, 249)', 'background did not change: ' + bg);
  await shot('dark');
  await page.click('#theme');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
});

await check('empty_state', async () => {
  await page.goto(`${base}/explore?query=${q('service_name="no-such-service"')}&${RANGE}`);
  await page.waitForSelector('.panel .msg-empty', { timeout: 10000 });
  const t = await page.$eval('.panel .msg-empty', (e) => e.textContent);
  assert(/No samples/.test(t) && /Widen the time range/.test(t), 'empty state: ' + t);
  await shot('empty', 6);
});

await check('error_state', async () => {
  await page.goto(`${base}/explore?query=${encodeURIComponent('nosuchtype{a=')}&${RANGE}`);
  await page.waitForSelector('.panel .msg-error', { timeout: 10000 });
  const t = await page.$eval('.panel .msg-error', (e) => e.textContent);
  assert(t.length > 20, 'error state: ' + t);
  await shot('error', 6);
});

// ---- Compare ------------------------------------------------------------------------------------
await check('compare', async () => {
  const cu = `${base}/compare?lquery=${q('service_name="checkout",version="1.2"')}&rquery=${q('service_name="checkout",version="1.3"')}&lfrom=now-1h&luntil=now&rfrom=now-1h&runtil=now&${RANGE}`;
  await page.goto(cu);
  await page.waitForFunction(() => {
    const f = window.__ember.flame;
    return f && f.t && f.t.diff && f.root.isConnected;
  }, null, { timeout: 15000 });
  const d = await page.evaluate(() => window.__ember.flame.t.diff);
  assert(d.leftTicks > 0 && d.rightTicks > 0, `ticks ${d.leftTicks} ${d.rightTicks}`);
  const rows = await page.$$eval('.toptable tbody tr', (r) => r.slice(0, 4).map((x) => [x.children[0].textContent, x.children[3].textContent]));
  const json = rows.find((r) => r[0].startsWith('encoding/json') || r[0] === 'reflect.Value.Field');
  assert(json && json[1].startsWith('+'), 'diff table top rows: ' + JSON.stringify(rows));
  const n = await flameColors();
  assert(n >= 4, 'diff canvas colours ' + n);
  await shot('compare');
});

await check('compare_drag_sets_range', async () => {
  await page.check('input[name=target][value=l]');
  await chartReady();
  await dragChart(0.05, 0.45);
  await page.waitForFunction(() => /^\d+$/.test(new URL(location.href).searchParams.get('lfrom') || ''));
  assert(url().searchParams.get('rfrom') === 'now-1h', 'the drag changed the wrong side');
});

await check('compare_presets', async () => {
  await page.click('#previous');
  await page.waitForFunction(() => {
    const u = new URL(location.href).searchParams;
    return /^\d+$/.test(u.get('luntil') || '') && u.get('luntil') === u.get('rfrom') && Number(u.get('lfrom')) < Number(u.get('rfrom'));
  });
  await page.waitForFunction(() => {
    const f = window.__ember.flame;
    return (f && f.t && f.t.diff && f.root.isConnected) || document.querySelector('.panel .msg-empty');
  }, null, { timeout: 15000 });
  await page.click('#halves');
  await page.waitForFunction(() => {
    const u = new URL(location.href).searchParams;
    return u.get('luntil') === u.get('rfrom') && u.get('lfrom') === u.get('from');
  });
});

await check('no_js_errors', async () => {
  assert(jsErrors.length === 0, jsErrors.slice(0, 3).join(' | '));
});

await browser.close();
console.log(`ui: ${failed} failed`);
process.exit(failed ? 1 : 0);
