// The price table: defaults, the batch discount, and a user's PRICES_FILE overriding or rejected in one line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'prices-'));

async function freshPricing(file?: string) {
  vi.resetModules();
  if (file) process.env.PRICES_FILE = file;
  else delete process.env.PRICES_FILE;
  return import('../src/pricing.js');
}

afterEach(() => {
  delete process.env.PRICES_FILE;
});

describe('pricing', () => {
  it('prices input and output per million tokens, and halves batch jobs', async () => {
    const { costOf } = await freshPricing();
    expect(costOf('gemini-2.5-flash', 1_000_000, 1_000_000)).toBeCloseTo(0.3 + 2.5, 10);
    expect(costOf('gemini-2.5-flash', 1_000_000, 1_000_000, true)).toBeCloseTo((0.3 + 2.5) / 2, 10);
    expect(costOf('no-such-model', 10, 10)).toBeUndefined();
  });

  it('lets PRICES_FILE override and add models', async () => {
    const file = join(dir, 'ok.json');
    writeFileSync(
      file,
      JSON.stringify({ 'gemini-2.5-flash': { input: 1, output: 2 }, 'my-local-model': { input: 0, output: 0 } }),
    );
    const { costOf } = await freshPricing(file);
    expect(costOf('gemini-2.5-flash', 1_000_000, 1_000_000)).toBe(3);
    expect(costOf('my-local-model', 5, 5)).toBe(0);
    expect(costOf('gpt-4o-mini', 1_000_000, 0)).toBeCloseTo(0.15, 10);
  });

  it('rejects a malformed PRICES_FILE with one line naming the file and field', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ 'gemini-2.5-flash': { input: 'cheap', output: 2 } }));
    const { prices } = await freshPricing(file);
    expect(() => prices()).toThrow(
      `${file}: expected number, received string → at gemini-2.5-flash.input (expected {"model": {"input": USD, "output": USD}} per 1M tokens)`,
    );
  });

  it('says when PRICES_FILE does not exist', async () => {
    const { prices } = await freshPricing(join(dir, 'missing.json'));
    expect(() => prices()).toThrow(`${join(dir, 'missing.json')}: PRICES_FILE not found`);
  });
});
