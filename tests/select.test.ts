// Stage 7's selection: more facts than the first-K prefix, near a plain greedy maximum coverage, deterministic.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FLAGS as SELECT_FLAGS, selectTop } from '../7_select_top.js';
import { selectedPath } from '../src/io/sidecars.js';
import { FLAGS as DEDUP_FLAGS, deduplicate } from '../6_deduplicate.js';
import { parseFlags } from '../src/cli.js';
import { artifactPaths } from '../src/pipeline.js';
import { conversationFactIds } from '../src/facts.js';
import { collectCoverage, coverageText } from '../src/report/coverage.js';
import type { MixDimension } from '../src/select/mix.js';
import { factsCovered, firstK, selectConversations, type Candidate } from '../src/select/select.js';
import { UniqueConversation } from '../src/schemas.js';
import { startImitation, type Imitation } from './support/imitation_server.js';
import { setImitationEnv, stage } from './support/run_stages.js';

/** Plain greedy maximum coverage (no lazy evaluation, no tie-breaks beyond input order): the reference. */
function greedy(sets: string[][], k: number): number {
  const covered = new Set<string>();
  const used = new Set<number>();
  for (let step = 0; step < k; step++) {
    let best = -1;
    let gain = 0;
    sets.forEach((s, i) => {
      if (used.has(i)) return;
      const g = new Set(s.filter((f) => !covered.has(f))).size;
      if (g > gain) [best, gain] = [i, g];
    });
    if (best < 0) break;
    used.add(best);
    for (const f of sets[best]!) covered.add(f);
  }
  return covered.size;
}

describe('selectConversations', () => {
  const candidates: Candidate[] = Array.from({ length: 200 }, (_, i) => ({
    // Early rows repeat a few facts; the others are spread out, so a prefix covers little.
    facts: i < 100 ? [`f${i % 5}`, `f${(i + 1) % 5}`] : [`f${i % 60}`, `f${(i * 7) % 60}`, `f${(i * 13) % 60}`],
    mix: [`p${i % 3}`, i % 10 === 0 ? 'rare' : 'common'],
    crowd: 0,
  }));
  const dims: MixDimension[] = [
    { key: 'persona', target: { p0: 1 / 3, p1: 1 / 3, p2: 1 / 3 } },
    { key: 'kind', target: { rare: 0.5, common: 0.5 } },
  ];

  it('covers more facts than the prefix and at least 90% of plain greedy, deterministically', () => {
    const chosen = selectConversations(candidates, 15, dims);
    expect(chosen).toHaveLength(15);
    expect(selectConversations(candidates, 15, dims)).toEqual(chosen);
    expect(factsCovered(candidates, chosen)).toBeGreaterThan(factsCovered(candidates, firstK(candidates, 15)));
    expect(factsCovered(candidates, chosen)).toBeGreaterThanOrEqual(
      0.9 *
        greedy(
          candidates.map((c) => c.facts),
          15,
        ),
    );
  });

  it('balances the mix once the facts are covered, and prefers the less crowded of equal rows', () => {
    const same: Candidate[] = Array.from({ length: 40 }, (_, i) => ({
      facts: ['only'],
      mix: [`p${i % 3}`, i % 4 === 0 ? 'rare' : 'common'],
      crowd: i % 2,
    }));
    const chosen = selectConversations(same, 12, dims);
    const rare = chosen.filter((i) => same[i]!.mix[1] === 'rare').length;
    expect(rare).toBe(6);
    for (const p of ['p0', 'p1', 'p2']) expect(chosen.filter((i) => same[i]!.mix[0] === p)).toHaveLength(4);
    expect(chosen.slice(1).every((i) => same[i]!.crowd === 0)).toBe(true);
  });
});

describe('7_select_top.ts --top-k 15 on a 40-chunk run through the imitation', () => {
  let imitation: Imitation;
  const dir = mkdtempSync(join(tmpdir(), 'select-'));
  const rows = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  let passing: string[][];
  let printed = '';
  /** Stage 7 in process on the deduplicated rows: the top 15 to `output` in `dir`, then `extra`. */
  const selectFifteen = (output: string, ...extra: string[]) =>
    selectTop(
      parseFlags(
        [
          '--input',
          join(dir, 'conversations_deduplicated.jsonl'),
          '--output',
          join(dir, output),
          '--top-k',
          '15',
          ...extra,
        ],
        SELECT_FLAGS,
        '',
      )!,
    );

  beforeAll(async () => {
    imitation = await startImitation({ seed: 3 });
    setImitationEnv(imitation);
    expect(await stage.extract(dir, ['--limit', '40'])).toBe(0);
    expect(await stage.validate(dir)).toBe(0);
    expect(await stage.generate(dir, ['--num-conversations', '300'])).toBe(0);
    expect(await stage.judge(dir)).toBe(0);
    expect(await stage.embed(dir)).toBe(0);
    expect(
      await deduplicate(
        parseFlags(
          [
            '--input',
            join(dir, 'conversations_embedded.jsonl'),
            '--output',
            join(dir, 'conversations_deduplicated.jsonl'),
            '--quiet',
          ],
          DEDUP_FLAGS,
          '',
        )!,
      ),
    ).toBe(0);
    passing = rows(join(dir, 'conversations_deduplicated.jsonl'))
      .map((r) => UniqueConversation.parse(r))
      .filter((r) => r.judgment.overall_pass)
      .map((r) => conversationFactIds(r.conversation.source_qa_pairs));
    const spy = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((c: string | Uint8Array) => ((printed += String(c)), true));
    try {
      expect(await selectFifteen('final.jsonl')).toBe(0);
    } finally {
      spy.mockRestore();
    }
  }, 120_000);
  afterAll(() => imitation.close());

  it('covers at least the facts of the first 15 passing rows and 90% of greedy maximum coverage', () => {
    const selected = rows(selectedPath(join(dir, 'final.jsonl')));
    expect(selected).toHaveLength(15);
    expect(rows(join(dir, 'final.jsonl'))).toHaveLength(15);
    const covered = new Set(selected.flatMap((s) => s.fact_ids)).size;
    const prefix = new Set(passing.slice(0, 15).flat()).size;
    expect(covered).toBeGreaterThanOrEqual(prefix);
    expect(covered).toBeGreaterThanOrEqual(0.9 * greedy(passing, 15));
    const manifest = JSON.parse(readFileSync(join(dir, 'final.meta.json'), 'utf8'));
    expect(manifest.selection.selected.facts_covered).toBe(covered);
    expect(manifest.selection.first_k.facts_covered).toBe(prefix);
    expect(printed).toContain(`cover ${covered} of`);
    expect(printed).toContain(`the first 15 would cover ${prefix}`);
  });

  it('--select first keeps the first 15 passing rows, as before', async () => {
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await selectFifteen('first.jsonl', '--select', 'first')).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const dedup = rows(join(dir, 'conversations_deduplicated.jsonl'))
      .filter((r) => r.judgment.overall_pass)
      .slice(0, 15);
    expect(rows(join(dir, 'first.jsonl'))).toEqual(dedup.map((r) => ({ messages: r.conversation.messages })));
  });

  it('make stats follows all 40 facts to the final set and names each lost one with its stage', async () => {
    const c = (await collectCoverage(artifactPaths('', dir), selectedPath(join(dir, 'final.jsonl'))))!;
    const counts = c.funnel.map((f) => f.count!);
    expect(counts[0]).toBe(40);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1]!);
    const covered = new Set(rows(selectedPath(join(dir, 'final.jsonl'))).flatMap((s) => s.fact_ids)).size;
    expect(counts.at(-1)).toBe(covered);
    expect(c.lost).toHaveLength(40 - covered);
    for (const l of c.lost)
      expect([
        'no pair',
        'pairs all failed validation',
        'no passing conversation (none generated, or all failed the judge)',
        'removed as duplicates',
        'not selected',
      ]).toContain(l.stage);
    expect(coverageText(c).join('\n')).toContain(`facts not in the final set (${40 - covered})`);
  });
});
