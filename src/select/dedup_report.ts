// Stage 6's report of removed duplicates (`conversations_deduplicated.report.jsonl`), read for what it says about
// the kept rows: which embedded row each kept row is, and how many near-copies were removed in its favour.
import { existsSync } from 'node:fs';
import { z } from '../zod.js';
import { iterateJsonl } from '../io/jsonl.js';

/** One removed conversation; both indices are rows of the embedded file (stage 5's output). */
export const RemovedDuplicate = z.object({
  index: z.number().int().min(0),
  duplicate_of: z.number().int().min(0),
  similarity: z.number(),
});
export type RemovedDuplicate = z.infer<typeof RemovedDuplicate>;

export async function readDedupReport(file: string): Promise<RemovedDuplicate[] | undefined> {
  if (!existsSync(file)) return undefined;
  const rows: RemovedDuplicate[] = [];
  for await (const { row } of iterateJsonl(file, RemovedDuplicate, { allowEmpty: true })) rows.push(row);
  return rows;
}

/**
 * The embedded-file row of each of the first `kept` deduplicated rows: stage 6 writes the rows it keeps in input
 * order, so the r-th kept row is the r-th embedded row that was not removed.
 */
export function keptEmbeddedRows(removed: RemovedDuplicate[], kept: number): number[] {
  const gone = new Set(removed.map((r) => r.index));
  const out: number[] = [];
  for (let e = 0; out.length < kept; e++) if (!gone.has(e)) out.push(e);
  return out;
}

/**
 * Per deduplicated row, how crowded its neighbourhood was: the near-copies removed in its favour, plus the highest of
 * their similarities as a fraction (two removed at 0.97 rank above two at 0.95). 0 when none were.
 */
export function crowding(removed: RemovedDuplicate[], kept: number): number[] {
  const embedded = keptEmbeddedRows(removed, kept);
  const byKept = new Map<number, { n: number; max: number }>();
  for (const r of removed) {
    const c = byKept.get(r.duplicate_of) ?? { n: 0, max: 0 };
    byKept.set(r.duplicate_of, { n: c.n + 1, max: Math.max(c.max, r.similarity) });
  }
  return embedded.map((e) => {
    const c = byKept.get(e);
    return c ? c.n + Math.min(0.999, c.max) : 0;
  });
}
