// Prices per million tokens, in one place; a user's PRICES_FILE (JSON of the same shape) overrides entries.
import { z } from './zod.js';
import { env } from './env.js';
import { readJsonFile } from './io/jsonl.js';
import { GEMINI_ALIASES } from './llm/model_rules.js';

export interface Price {
  input: number;
  output: number;
  /** Input tokens served from the prompt cache; unset → the full input price (nothing assumed). */
  cached?: number;
}

// USD per 1M tokens, standard (interactive) tier, looked up 2026-12-02 with the search tool:
// - Gemini: Google's pricing page https://ai.google.dev/gemini-api/docs/pricing as transcribed on 2026-10-07
//   (api-evangelist/deepmind plans/deepmind-plans-pricing.yml) and PROVIDERS.md §8. Cached input on Gemini 3.x is
//   10% of input (the caching page and the 3.1 Flash-Lite line: $0.025 against $0.25); 2.5 models 25%.
// - OpenAI: developers.openai.com model pages (gpt-6-luna $0.10 / cached $0.01 / $0.50; gpt-5-mini), PROVIDERS.md §8
//   (gpt-4o-mini $0.15 / cached $0.075 / $0.60; text-embedding-3-small $0.02).
// Aliases (gemini-flash-latest, …) are not priced: a call is billed by the concrete version that answered.
/** One row a model, columns as in the header; a table of data rather than 19 object literals of one shape. */
const PRICE_ROWS = `
// model                  input  output  cached (blank: no cached rate)
gemini-3.8-flash         0.75   3.75    0.075
gemini-3.5-flash         1.5    9       0.15
gemini-3.5-flash-lite    0.3    2.5     0.03
gemini-3.1-flash-lite    0.25   1.5     0.025
gemini-3.1-pro-preview   2      12      0.2
gemini-2.5-flash         0.3    2.5     0.075
gemini-2.5-flash-lite    0.1    0.4     0.025
gemini-2.5-pro           1.25   10      0.31
gemini-embedding-001     0.15   0
gemini-embedding-2       0.2    0
gpt-6-luna               0.1    0.5     0.01
gpt-6-sol                2      10      0.2
gpt-5-mini               0.25   2       0.025
gpt-5-nano               0.05   0.4     0.005
gpt-4o-mini              0.15   0.6     0.075
gpt-4.1-mini             0.4    1.6     0.1
gpt-4o                   2.5    10      1.25
text-embedding-3-small   0.02   0
text-embedding-3-large   0.13   0
`;

export const DEFAULT_PRICES: Record<string, Price> = Object.fromEntries(
  PRICE_ROWS.split('\n')
    .filter((line) => line.trim() && !line.startsWith('//'))
    .map((line) => {
      const [model, input, output, cached] = line.trim().split(/\s+/);
      const price: Price = { input: Number(input), output: Number(output) };
      if (cached !== undefined) price.cached = Number(cached);
      return [model!, price];
    }),
);

/** Published price changes: 3.8 Flash's launch price holds through 2026-12-31 (same pricing page). */
export const PRICE_CHANGES: Record<string, Array<{ from: string; price: Price }>> = {
  'gemini-3.8-flash': [{ from: '2027-01-01', price: { input: 1.5, output: 7.5, cached: 0.15 } }],
};

/** Both providers bill batch jobs at half the interactive price. */
export const BATCH_DISCOUNT = 0.5;

const PriceFile = z.record(
  z.string(),
  z.object({ input: z.number().min(0), output: z.number().min(0), cached: z.number().min(0).optional() }),
);

/** The built-in table as it stands on `day` (YYYY-MM-DD, UTC). */
export function defaultPrices(day = new Date().toISOString().slice(0, 10)): Record<string, Price> {
  const table = { ...DEFAULT_PRICES };
  for (const [model, changes] of Object.entries(PRICE_CHANGES))
    for (const change of changes) if (day >= change.from) table[model] = change.price;
  return table;
}

let cache: Record<string, Price> | undefined;

export function prices(): Record<string, Price> {
  if (cache) return cache;
  const file = env('PRICES_FILE');
  let overrides: Record<string, Price> = {};
  if (file) {
    overrides = readJsonFile(file, PriceFile, {
      what: 'PRICES_FILE',
      ifInvalid: '{"model": {"input": USD, "output": USD}} per 1M tokens',
    });
  }
  cache = { ...defaultPrices(), ...overrides };
  return cache;
}

/**
 * The price of a concrete model version: its own entry, else the line it is a snapshot of — `models/` dropped, then
 * a trailing `-001`, date (`-2026-09-22`, `-09-2025`) or `-preview…` suffix removed — so `gpt-4o-mini-2024-07-18`
 * and `gemini-3.8-flash-001` are priced like their lines.
 */
export function priceOf(model: string): Price | undefined {
  const table = prices();
  let name = model.replace(/^models\//, '');
  // A call is billed by the version that answered; before any call (a dry run) an alias is estimated at the price of
  // the version it pointed at when this table was checked, unless PRICES_FILE prices the alias itself.
  if (!table[name] && GEMINI_ALIASES[name]) name = GEMINI_ALIASES[name]!;
  for (let i = 0; i < 4; i++) {
    if (table[name]) return table[name];
    const shorter = name.replace(/-(\d{3}|\d{4}-\d{2}-\d{2}|\d{2}-\d{4}|preview(-[\d-]+)?|latest)$/, '');
    if (shorter === name) return undefined;
    name = shorter;
  }
  return table[name];
}

/** Cost in USD; cached input at the cached rate; undefined for a model not in the table (the meter says unpriced). */
export function costOf(
  model: string,
  inputTokens: number,
  outputTokens: number,
  batch = false,
  cachedTokens = 0,
): number | undefined {
  const price = priceOf(model);
  if (!price) return undefined;
  const factor = batch ? BATCH_DISCOUNT : 1;
  const cached = Math.min(Math.max(0, cachedTokens), inputTokens);
  return (
    (((inputTokens - cached) * price.input + cached * (price.cached ?? price.input) + outputTokens * price.output) /
      1e6) *
    factor
  );
}
