// tests/ui/browser.mjs — starts Debian's Chromium through playwright-core for the UI tests and
// the benchmark: headless, no sandbox (tests run as root), no GPU, no network side traffic, a
// fresh profile directory. why() says why it cannot run (missing browser or package), or null.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function why() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (scripts/deps.sh installs chromium)`;
  if (!existsSync(join(root, 'node_modules', 'playwright-core'))) return 'node_modules/playwright-core is missing (run scripts/deps.sh)';
  return null;
}

export async function launch() {
  const { chromium } = await import(join(root, 'node_modules', 'playwright-core', 'index.mjs'));
  const dir = mkdtempSync(join(tmpdir(), 'ember-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  // the API of a Browser that the tests use, on the persistent context
  return {
    newPage: async (opts) => {
      const p = await ctx.newPage();
      if (opts && opts.viewport) await p.setViewportSize(opts.viewport);
      return p;
    },
    close: async () => {
      await ctx.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
