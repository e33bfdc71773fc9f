// tests/ui/run_host.test.mjs — what a new user of `make run` sees: the printed URL opened in
// headless Chromium right after the server starts (an empty server at first: the page checks
// again every 10 s by itself, nobody reloads), until the flame graph shows this host's
// processes, among them the workload's leaf function. The deadline is a minute from the start
// of `make run`. Saves run_host.png. Prints PASS/FAIL lines and the time it took.
// Usage: node tests/ui/run_host.test.mjs URL START_MS SHOT_DIR LEAF
import { mkdirSync, writeFileSync } from 'node:fs';
import { distinctColors } from './png.mjs';
import { launch } from './browser.mjs';

const [url, startMs, shotDir, leaf] = process.argv.slice(2);
mkdirSync(shotDir, { recursive: true });
const deadline = Number(startMs) + 60000;
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
let rc = 0;
try {
  await page.goto(url);
  await page.waitForFunction((leaf) => {
    const f = window.__ember && window.__ember.flame;
    return f && f.t && f.t.n > 1 && f.t.names.includes(leaf) && !document.querySelector('.msg-loading');
  }, leaf, { timeout: Math.max(1000, deadline - Date.now()), polling: 250 });
  const took = (Date.now() - Number(startMs)) / 1000;
  const info = await page.evaluate(() => {
    const t = window.__ember.flame.t;
    return { nodes: t.n, names: t.names.length, kernel: t.names.filter((n) => n.endsWith('_[k]')).length };
  });
  const buf = await page.screenshot({ fullPage: true });
  writeFileSync(`${shotDir}/run_host.png`, buf);
  const colors = distinctColors(buf);
  console.log(`    flame graph of this host after ${took.toFixed(1)} s: ${info.nodes} nodes, ${info.names} names (${info.kernel} kernel), screenshot ${colors} colours`);
  if (colors < 12) throw new Error(`run_host.png looks blank (${colors} colours)`);
  console.log('PASS run_host/flame_within_a_minute');
} catch (e) {
  rc = 1;
  const msg = await page.evaluate(() => (document.querySelector('.panel') || document.body).innerText).catch(() => '');
  console.log(`FAIL run_host/flame_within_a_minute: ${String(e.message || e).split('\n')[0]}; page says: ${msg.slice(0, 200).replace(/\s+/g, ' ')}`);
}
await browser.close();
process.exit(rc);
