// @vitest-environment node
/**
 * Real Chromium (Debian's /usr/bin/chromium, driven by playwright-core): the panel from src/ in the harness page,
 * then the built dist/module.js loaded through an AMD `define` shim. Sort, filter, search, keyboard, row click,
 * CSV export, no console errors, 5,000-row render time, screenshots in both themes under test-results/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { DIST, ensureDist, ensureHarness, HARNESS_OUT, PLUGIN_ROOT } from './buildHarness';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = join(PLUGIN_ROOT, 'test-results');
const COUNT = 5000;
const VIEWPORT = { width: 1352, height: 644 };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let file: string;
    if (url.pathname === '/harness.html' || url.pathname === '/amd.html' || url.pathname === '/') {
      file = join(HARNESS_OUT, 'index.html');
    } else if (url.pathname.startsWith('/plugin/')) {
      file = join(DIST, normalize(url.pathname.slice('/plugin/'.length)).replace(/^(\.\.[/\\])+/, ''));
    } else {
      file = join(HARNESS_OUT, normalize(url.pathname).replace(/^(\.\.[/\\])+/, ''));
    }
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Mounted {
  count: number;
  framesMs: number;
  overridesMs: number;
  renderMs: number;
}

describe('Number Reputation panel in Chromium', () => {
  let server: Server;
  let base = '';
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const problems: string[] = [];

  beforeAll(async () => {
    ensureDist();
    await ensureHarness();
    mkdirSync(RESULTS, { recursive: true });
    server = await serve();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    profile = mkdtempSync(join(tmpdir(), 'numrep-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: VIEWPORT,
      acceptDownloads: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') {
        problems.push(`console.${m.type()}: ${m.text()}`);
      }
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) {
        problems.push(`http ${r.status()}: ${r.url()}`);
      }
    });
  });

  afterAll(async () => {
    await context?.close();
    await new Promise((r) => server?.close(r));
    if (profile) {
      rmSync(profile, { recursive: true, force: true });
    }
  });

  async function open(path: string) {
    await page.goto(`${base}${path}`);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
  }

  async function mountSource(mode: 'dark' | 'light', extra: Record<string, unknown> = {}): Promise<Mounted> {
    await open('/harness.html');
    const m = await page.evaluate((o) => (window as any).numrep.mountSource(o), { count: COUNT, mode, ...extra });
    await page.evaluate(() => document.fonts.ready);
    return m;
  }

  const grid = () => page.getByRole('grid');
  const rowCount = async () => Number(await grid().getAttribute('aria-rowcount')) - 1;
  const firstRow = () => page.locator('[role="rowgroup"] [role="row"][aria-rowindex="2"]');

  it(`renders ${COUNT.toLocaleString('en-US')} numbers from src/ (dark) and reports the render time`, async () => {
    const m = await mountSource('dark');
    console.log(
      `[numrep-panel] ${COUNT.toLocaleString('en-US')} rows (src, dark): panel render ${m.renderMs.toFixed(0)} ms ` +
        `(transform + sort + first paint); fixture frames ${m.framesMs.toFixed(0)} ms, applyFieldOverrides ${m.overridesMs.toFixed(0)} ms`
    );
    expect(await rowCount()).toBe(COUNT);
    const rendered = await page.locator('[role="rowgroup"] [role="row"]').count();
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(60); // virtualised
    expect(m.renderMs).toBeLessThan(5000);
    await page.screenshot({ path: join(RESULTS, 'panel-dark.png') });
  });

  it('sorts by column header', async () => {
    const scoreOf = async () => Number((await firstRow().getAttribute('aria-label'))!.match(/score (\d+)/)![1]);
    const lowest = await scoreOf();
    await page.getByRole('button', { name: 'Sort by Score' }).click();
    await expect.poll(async () => page.locator('[role="columnheader"][aria-sort="descending"]').count()).toBe(1);
    const highest = await scoreOf();
    expect(highest).toBeGreaterThan(lowest);
    await page.getByRole('button', { name: 'Sort by Number' }).click();
    expect(await firstRow().getAttribute('data-number')).toBe('+12025550101');
    await page.screenshot({ path: join(RESULTS, 'panel-dark-by-number.png') });
    await page.getByRole('button', { name: 'Sort by Status' }).click();
    expect(await firstRow().getAttribute('aria-label')).toContain('Spam');
  });

  it('filters by status chip and searches by number', async () => {
    const chip = page.getByRole('button', { name: /^Mixed: \d+ numbers$/ });
    const n = Number((await chip.getAttribute('aria-label'))!.match(/(\d+) numbers/)![1]);
    expect(n).toBeGreaterThan(100);
    await chip.click();
    await expect.poll(rowCount).toBe(n);
    const labels = await page.locator('[role="rowgroup"] [role="row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label')));
    expect(labels.every((l) => l!.includes('Mixed'))).toBe(true);
    await page.getByRole('button', { name: /^All/ }).click();
    await expect.poll(rowCount).toBe(COUNT);

    await page.getByRole('textbox', { name: 'Search numbers' }).fill('555 0150');
    await expect.poll(rowCount).toBeGreaterThan(0);
    const numbers = await page.locator('[role="rowgroup"] [role="row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-number')));
    expect(numbers.every((x) => x!.replace(/\D/g, '').includes('5550150'))).toBe(true);
    await page.getByRole('textbox', { name: 'Search numbers' }).fill('');
    await expect.poll(rowCount).toBe(COUNT);
  });

  it('scrolls through all rows (virtualised) to the last one', async () => {
    await grid().evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(async () => page.locator(`[role="row"][aria-rowindex="${COUNT + 1}"]`).count()).toBe(1);
    // Focusing the grid after a mouse scroll puts the keyboard cursor on a row in view.
    await grid().focus();
    const active = await grid().getAttribute('aria-activedescendant');
    expect(Number(await page.locator(`[id="${active}"]`).getAttribute('aria-rowindex'))).toBeGreaterThan(COUNT - 20);
    await grid().evaluate((el) => {
      el.scrollTop = 0;
      el.blur();
    });
  });

  it('shows the recommendation reason on hover', async () => {
    await page.getByRole('button', { name: 'Sort by Recommendation' }).click();
    const rec = firstRow().locator('[data-action]');
    const reason = await rec.locator('span').last().textContent();
    await rec.hover();
    const tip = page.getByRole('tooltip');
    await tip.waitFor();
    expect(await tip.textContent()).toBe(reason);
    await page.screenshot({ path: join(RESULTS, 'panel-dark-reason-tooltip.png') });
    await page.mouse.move(5, 5);
  });

  it('exports the rows shown as CSV, safe against formula injection', async () => {
    await page.getByRole('button', { name: /^Spam: \d+ numbers$/ }).click();
    const shown = await rowCount();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Export \d+ rows shown as CSV$/ }).click()]);
    expect(download.suggestedFilename()).toMatch(/^numrep-numbers-.*\.csv$/);
    const text = readFileSync((await download.path())!, 'utf8');
    const lines = text.trimEnd().split('\r\n');
    expect(lines).toHaveLength(shown + 1);
    expect(lines[0].startsWith('number,pool,status,score,')).toBe(true);
    expect(lines.slice(1).every((l) => /^'\+1\d{10},[a-z]+,spam,/.test(l))).toBe(true);
    await page.getByRole('button', { name: /^All/ }).click();
  });

  it('opens the number-detail dashboard on row click, and with the keyboard', async () => {
    await page.getByRole('button', { name: 'Sort by Number' }).click();
    const number = (await firstRow().getAttribute('data-number'))!;
    await firstRow().click();
    const loc = await page.evaluate(() => (window as any).numrep.location());
    expect(`${loc.pathname}${loc.search}`).toBe(`/d/numrep-number-detail/number-detail?var-number=${encodeURIComponent(number)}`);

    await grid().focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    const active = await grid().getAttribute('aria-activedescendant');
    const target = page.locator(`[id="${active}"]`);
    expect(await target.getAttribute('aria-rowindex')).toBe('4');
    const third = (await target.getAttribute('data-number'))!;
    await page.keyboard.press('Enter');
    const loc2 = await page.evaluate(() => (window as any).numrep.location());
    expect(loc2.search).toBe(`?var-number=${encodeURIComponent(third)}`);
    await page.keyboard.press('PageDown');
    expect(Number(await page.locator(`[id="${await grid().getAttribute('aria-activedescendant')}"]`).getAttribute('aria-rowindex'))).toBeGreaterThan(4);
  });

  it('has accessible names on every control', async () => {
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, input, [role="grid"], [role="row"]')]
        .filter((el) => !(el.getAttribute('aria-label') || el.textContent?.trim()))
        .map((el) => el.outerHTML.slice(0, 80))
    );
    expect(unnamed).toEqual([]);
  });

  it('renders in the light theme', async () => {
    const m = await mountSource('light');
    console.log(`[numrep-panel] ${COUNT.toLocaleString('en-US')} rows (src, light): panel render ${m.renderMs.toFixed(0)} ms`);
    expect(await rowCount()).toBe(COUNT);
    // Sorted by number, the screenshot shows the mix of statuses a real pool has (the default sort is worst first).
    await page.getByRole('button', { name: 'Sort by Number' }).click();
    await page.screenshot({ path: join(RESULTS, 'panel-light.png') });
  });

  it('fits a narrow panel: the toolbar wraps, the grid scrolls sideways and the last row stays reachable', async () => {
    await page.evaluate((o) => (window as any).numrep.mountSource(o), { count: 400, mode: 'dark', width: 700, height: 420 });
    const panel = page.getByTestId('numrep-panel');
    const box = (await panel.boundingBox())!;
    expect(box.width).toBe(700);
    expect(await grid().evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    await grid().evaluate((el) => (el.scrollTop = el.scrollHeight));
    const last = page.locator('[role="row"][aria-rowindex="401"]');
    await last.waitFor();
    const lastBox = (await last.boundingBox())!;
    expect(lastBox.y + lastBox.height).toBeLessThanOrEqual(box.y + box.height + 1);
    // The number column stays in view when the grid scrolls sideways.
    await grid().evaluate((el) => {
      el.scrollTop = 0;
      el.scrollLeft = 400;
    });
    const numberCell = firstRow().locator('[role="gridcell"][aria-colindex="1"]');
    expect((await numberCell.boundingBox())!.x).toBeLessThan(box.x + 2);
    await page.screenshot({ path: join(RESULTS, 'panel-dark-narrow.png'), clip: { x: 0, y: 0, width: 760, height: 500 } });
    await grid().evaluate((el) => (el.scrollLeft = 0));
  });

  it('shows the loading, error, empty and no-numrep states', async () => {
    for (const [state, text] of [
      ['loading', 'Loading numbers'],
      ['error', 'context deadline exceeded'],
      ['empty', 'No data'],
      ['no-numrep', 'No numrep metrics found'],
    ] as const) {
      await page.evaluate((o) => (window as any).numrep.mountSource(o), { count: 10, mode: 'dark', state, height: 220 });
      await expect.poll(async () => page.locator(`[data-state="${state}"]`).textContent()).toContain(text);
      await page.screenshot({ path: join(RESULTS, `state-${state}.png`), clip: { x: 0, y: 0, width: VIEWPORT.width, height: 290 } });
    }
  });

  it('loads the built dist/module.js through an AMD define with the externals mapped', async () => {
    for (const mode of ['dark', 'light'] as const) {
      await open('/amd.html');
      const r = await page.evaluate((o) => (window as any).numrep.mountDist(o), { count: COUNT, mode });
      console.log(`[numrep-panel] ${COUNT.toLocaleString('en-US')} rows (dist/module.js via AMD, ${mode}): panel render ${r.renderMs.toFixed(0)} ms`);
      expect(r.isPanelPlugin).toBe(true);
      expect(r.deps).toEqual(expect.arrayContaining(['react', '@grafana/data', '@grafana/ui']));
      expect(r.migrated.link.template).toBe('/d/numrep-number-detail/number-detail?var-number=${number}');
      expect(r.migrated.columns).toHaveLength(11); // every column by default, area and registration included
      expect(await rowCount()).toBe(COUNT);
      await page.evaluate(() => document.fonts.ready);
      await page.screenshot({ path: join(RESULTS, `amd-${mode}.png`) });
    }
    await page.getByRole('button', { name: 'Sort by Calls 24h' }).click();
    await expect.poll(async () => page.locator('[role="columnheader"][aria-sort="descending"]').count()).toBe(1);
    await page.getByRole('button', { name: /^Healthy: \d+ numbers$/ }).click();
    const number = (await firstRow().getAttribute('data-number'))!;
    await firstRow().click();
    const loc = await page.evaluate(() => (window as any).numrep.location());
    expect(loc.search).toBe(`?var-number=${encodeURIComponent(number)}`);
  });

  it('logged no console errors or warnings, failed requests or page errors', () => {
    expect(problems).toEqual([]);
  });
});
