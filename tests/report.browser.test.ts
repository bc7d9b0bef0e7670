// Opens the report in headless Debian chromium (playwright-core, system executable): the charts render, the filters
// filter, an opened conversation shows its source facts and per-turn verdicts (a removed duplicate beside the kept
// one), and the page makes no request but its own file. REPORT_SCREENSHOT=docs/report.png also saves a screenshot.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeReports } from '../scripts/report.js';
import { artifactPaths } from '../src/pipeline.js';
import type { JudgedConversation } from '../src/schemas.js';
import {
  FACT_WITHOUT_PAIR,
  UNSUPPORTED_CLAIM,
  writeFixtureRun,
  type FixtureCounts,
} from './support/report_fixtures.js';

// An explicit CHROMIUM_PATH is the only one tried, so CI cannot silently fall back to another browser.
const CANDIDATES = process.env.CHROMIUM_PATH
  ? [process.env.CHROMIUM_PATH]
  : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const executable = CANDIDATES.find((p) => existsSync(p));
const title = executable
  ? `report in headless chromium (${executable})`
  : `report in headless chromium — SKIPPED: no chromium executable at ${CANDIDATES.join(' or ')} (apt-get install chromium, or set CHROMIUM_PATH)`;

if (!executable) console.warn(title);

describe.skipIf(!executable)(title, () => {
  const work = mkdtempSync(join(tmpdir(), 'report-browser-'));
  let context: BrowserContext;
  let page: Page;
  let fixture: FixtureCounts;
  let judged: JudgedConversation[];
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    const dir = join(work, 'output');
    // Written from inside the temporary folder so the page names `output/`, as a real run's report does.
    const cwd = process.cwd();
    process.chdir(work);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      fixture = await writeFixtureRun({
        dir: 'output',
        stages: 7,
        chunks: 40,
        conversations: 240,
        topK: 100,
        firstUserText: ' <img src=x onerror="document.title=\'pwned\'">',
      });
      judged = readFileSync(artifactPaths('', 'output').conversationsJudged, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as JudgedConversation);
      await writeReports({ 'output-dir': 'output', limit: 2000, domain: undefined });
    } finally {
      write.mockRestore();
      process.chdir(cwd);
    }
    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: executable!,
      headless: true,
      viewport: { width: 1360, height: 1700 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${dir}/report.html`);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('renders every chart as an SVG of non-zero size with visible bars', async () => {
    const charts = page.locator('svg.chart');
    // funnel, 2 pass-rate panels, 7 dimensions, fact coverage, similarity histogram
    expect(await charts.count()).toBe(12);
    for (const chart of await charts.all()) {
      const box = await chart.boundingBox();
      expect(box?.width).toBeGreaterThan(100);
      expect(box?.height).toBeGreaterThan(50);
    }
    const funnelBars = page.locator('svg.chart').first().locator('rect.actual');
    expect(await funnelBars.count()).toBe(7);
    for (const bar of await funnelBars.all()) expect((await bar.boundingBox())?.width).toBeGreaterThan(5);
    const bins = page.locator('rect.bin');
    expect(await bins.count()).toBeGreaterThan(1);
    expect((await bins.first().boundingBox())?.height).toBeGreaterThan(0);
  });

  it('narrows the visible conversations as the filters change', async () => {
    const rows = page.locator('#conversations li.conv');
    const visible = page.locator('#conversations li.conv:visible');
    expect(await rows.count()).toBe(240);
    expect(await visible.count()).toBe(240);

    await page.fill('#filter-text', 'tariffs');
    const withWord = await visible.count();
    expect(withWord).toBeGreaterThan(0);
    expect(withWord).toBeLessThan(240);
    expect(await page.textContent('#filter-count')).toBe(String(withWord));
    for (const row of await visible.all()) expect((await row.textContent())!.toLowerCase()).toContain('tariffs');

    await page.fill('#filter-text', 'tariffs limit');
    expect(await visible.count()).toBeLessThanOrEqual(withWord);

    await page.fill('#filter-text', '');
    await page.selectOption('#filter-pass', 'fail');
    expect(await visible.count()).toBe(240 - fixture.judgeCriteria.overall_pass);
    await page.selectOption('#filter-pass', '');

    await page.selectOption('#filter-persona', 'finance');
    expect(await visible.count()).toBe(fixture.personas.finance);
    await page.selectOption('#filter-style', 'casual');
    const both = await visible.count();
    expect(both).toBeGreaterThan(0);
    expect(both).toBeLessThan(fixture.personas.finance!);
    expect(
      await page.locator('#conversations li.conv:visible[data-persona="finance"][data-style="casual"]').count(),
    ).toBe(both);

    await page.selectOption('#filter-persona', '');
    await page.selectOption('#filter-style', '');
    expect(await visible.count()).toBe(240);

    // By failing criterion, then narrowed by emotion and turns.
    await page.selectOption('#filter-fails', 'factually_accurate');
    const inaccurate = judged.filter((j) => !j.judgment.factually_accurate);
    expect(await visible.count()).toBe(240 - fixture.judgeCriteria.factually_accurate);
    const emotion = inaccurate[0]!.conversation.metadata.user_emotion;
    await page.selectOption('#filter-emotion', emotion);
    const ofEmotion = inaccurate.filter((j) => j.conversation.metadata.user_emotion === emotion);
    expect(await visible.count()).toBe(ofEmotion.length);
    const turns = ofEmotion[0]!.conversation.metadata.num_turns;
    await page.selectOption('#filter-turns', String(turns));
    expect(await visible.count()).toBe(ofEmotion.filter((j) => j.conversation.metadata.num_turns === turns).length);
    for (const sel of ['#filter-fails', '#filter-emotion', '#filter-turns']) await page.selectOption(sel, '');

    // By outcome: the final set is stage 7's top 100.
    await page.selectOption('#filter-status', 'final');
    expect(await visible.count()).toBe(100);
    await page.selectOption('#filter-status', 'not selected');
    expect(await visible.count()).toBe(fixture.uniquePassing - 100);
    await page.selectOption('#filter-status', '');
    expect(await visible.count()).toBe(240);
  });

  it('opens a conversation to show its source facts and the turn the judge found unsupported', async () => {
    const index = judged.findIndex((j) => !j.judgment.factually_accurate);
    const row = page.locator('#conversations li.conv').nth(index);
    await row.locator('summary').click();
    const facts = row.locator('blockquote.fact-line');
    await expect.poll(async () => (await facts.first().boundingBox())?.height ?? 0).toBeGreaterThan(0);
    const expected = [...new Set(judged[index]!.conversation.source_qa_pairs.map((p) => p.source_text))];
    expect(await facts.allTextContents()).toEqual(expected);
    const bad = row.locator('.judge li.verdict.no');
    expect(await bad.count()).toBe(1);
    expect(await bad.textContent()).toContain(UNSUPPORTED_CLAIM);
    expect(await row.locator('.judge li.verdict.ok').count()).toBe(judged[index]!.conversation.metadata.num_turns - 1);
    const unsupported = row.locator('li.msg.assistant.unsupported');
    expect((await unsupported.boundingBox())?.height).toBeGreaterThan(0);
    await row.locator('summary').click();
  });

  it('shows a removed duplicate side by side with the conversation kept in its place', async () => {
    const row = page.locator('#conversations li.conv[data-status="duplicate"]').first();
    await row.locator('summary').click();
    const sides = row.locator('.dup .side');
    await expect.poll(async () => (await sides.first().boundingBox())?.height ?? 0).toBeGreaterThan(0);
    const [left, right] = [(await sides.nth(0).boundingBox())!, (await sides.nth(1).boundingBox())!];
    expect(right.x).toBeGreaterThan(left.x + left.width - 1);
    expect(Math.abs(right.y - left.y)).toBeLessThan(2);
    expect(await row.locator('.status').textContent()).toMatch(/similarity 0\.9\d\d to #\d+/);
    expect(await sides.nth(1).locator('li.msg').count()).toBeGreaterThan(1);
    await row.locator('summary').click();
  });

  it('names the facts that did not make it in its Coverage section', async () => {
    const coverage = page.locator('#coverage + .panel');
    expect(await coverage.locator('table.lost').textContent()).toContain(FACT_WITHOUT_PAIR);
    expect((await coverage.locator('table.lost').boundingBox())?.height).toBeGreaterThan(10);
  });

  it('opens a conversation to show its messages and the judge feedback', async () => {
    const first = page.locator('#conversations li.conv').first();
    await first.locator('summary').click();
    await expect
      .poll(async () => (await first.locator('li.msg').first().boundingBox())?.height ?? 0)
      .toBeGreaterThan(0);
    expect(await first.locator('.judge').textContent()).toContain('Judge:');
    expect(await first.locator('li.msg.user').first().textContent()).toContain('<img src=x onerror=');
    await first.locator('summary').click();
  });

  it('fetches nothing but its own file and runs no injected code', async () => {
    expect(requests.every((url) => url.startsWith('file://'))).toBe(true);
    expect(requests).toHaveLength(1);
    expect(errors).toEqual([]);
    expect(await page.title()).toBe('Full run report · output');
  });

  it.runIf(!!process.env.REPORT_SCREENSHOT)('saves a screenshot for the README', async () => {
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: process.env.REPORT_SCREENSHOT!, fullPage: false });
    expect(existsSync(process.env.REPORT_SCREENSHOT!)).toBe(true);
  });
});
