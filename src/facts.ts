// Stable ids of facts (one chunk = one fact line), so a fact can be followed from stage 1 to the final training set.
import { createHash } from 'node:crypto';
import { z } from './zod.js';

/**
 * Whitespace and case do not change a fact: "* Swap  ships" and "* swap ships" get one id, so an edit that only
 * re-wraps or re-cases a line keeps its coverage history. Markdown bullets and heading marks are dropped too.
 */
export function normaliseFactText(text: string): string {
  return text
    .trim()
    .replace(/^[*#\-\s]+/, '')
    .replace(/\s+/g, ' ')
    .toLowerCase();
}

/** What a fact's id is made of. `file` (multi-file input) is optional so a single-file run keeps its ids. */
export interface FactLocation {
  text: string;
  line?: number;
  file?: string;
}

/**
 * `L12-3fa9c2d1`: the 1-based line and the first 8 hex digits of the SHA-256 of the normalised text. The line tells
 * two identical lines apart and makes the id readable; the hash catches a line whose text changed. Without a line
 * (a row from a run before fact ids existed) the id is the hash alone, so such rows still group by fact.
 */
export function factId(location: FactLocation): string {
  const hash = createHash('sha256').update(normaliseFactText(location.text)).digest('hex').slice(0, 8);
  const where = location.line === undefined ? hash : `L${location.line}-${hash}`;
  return location.file ? `${location.file}:${where}` : where;
}

/** One fact as stage 1 lists it next to its pairs (`qa_pairs.facts.jsonl`): every chunk, with or without a pair. */
export const FactRecord = z.object({
  fact_id: z.string().min(1),
  line: z.number().int().min(1).optional(),
  source_text: z.string(),
  context_before: z.string().default(''),
  context_after: z.string().default(''),
});
export type FactRecord = z.infer<typeof FactRecord>;

/** The fact a Q&A pair came from: its own id, else one derived from its source text (rows made before ids). */
export function pairFactId(
  pair: { fact_id?: string; source_text: string },
  byText?: ReadonlyMap<string, string>,
): string {
  return pair.fact_id ?? byText?.get(pair.source_text) ?? factId({ text: pair.source_text });
}

/** The distinct facts of a conversation's source pairs, in first-seen order. */
export function conversationFactIds(
  pairs: ReadonlyArray<{ fact_id?: string; source_text: string }>,
  byText?: ReadonlyMap<string, string>,
): string[] {
  return [...new Set(pairs.map((p) => pairFactId(p, byText)))];
}
