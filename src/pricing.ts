// Prices per million tokens, in one place; a user's PRICES_FILE (JSON of the same shape) overrides entries.
import { z } from 'zod';
import { env } from './env.js';
import { readJsonFile } from './jsonl.js';

export interface Price {
  input: number;
  output: number;
}

// USD per 1M tokens, standard (interactive) tier, as published by the providers in 2026.
export const DEFAULT_PRICES: Record<string, Price> = {
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4 },
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-embedding-001': { input: 0.15, output: 0 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
};

/** Both providers bill batch jobs at half the interactive price. */
export const BATCH_DISCOUNT = 0.5;

const PriceFile = z.record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0) }));

let cache: Record<string, Price> | undefined;

export function prices(): Record<string, Price> {
  if (cache) return cache;
  const file = env('PRICES_FILE');
  let overrides: Record<string, Price> = {};
  if (file) {
    overrides = readJsonFile(file, PriceFile, { what: 'PRICES_FILE', ifInvalid: '{"model": {"input": USD, "output": USD}} per 1M tokens' });
  }
  cache = { ...DEFAULT_PRICES, ...overrides };
  return cache;
}

/** Cost in USD; an unknown model costs 0 and is reported as unpriced by the meter. */
export function costOf(model: string, inputTokens: number, outputTokens: number, batch = false): number | undefined {
  const price = prices()[model] ?? prices()[model.replace(/^models\//, '')];
  if (!price) return undefined;
  const factor = batch ? BATCH_DISCOUNT : 1;
  return ((inputTokens * price.input + outputTokens * price.output) / 1e6) * factor;
}
