// Stage 6 as a script: the kept rows, the report of what was removed and why, and the MinHash method.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deduplicate, FLAGS } from '../6_deduplicate.js';
import { writeEmbeddedJsonl } from '../bench/fixtures.js';
import { parseFlags } from '../src/cli.js';
import { dedupExact } from '../src/dedup/reference.js';
import { JudgedConversation } from '../src/schemas.js';

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe('6_deduplicate.ts on 400 conversations with planted near-copies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-stage-'));
  const input = join(dir, 'embedded.jsonl');
  const output = join(dir, 'dedup.jsonl');
  let embedded: Array<{ conversation: unknown; judgment: { overall_pass: boolean }; embedding: number[] }>;
  let code: number;

  beforeAll(async () => {
    const { plants } = writeEmbeddedJsonl(input, { count: 400, dim: 64, seed: 3, dupFraction: 0.2 });
    expect(plants.length).toBeGreaterThan(20);
    embedded = lines(input);
    code = await deduplicate(parseFlags(['--input', input, '--output', output, '--quiet'], FLAGS, '')!);
  });

  function reference() {
    const dim = embedded[0]!.embedding.length;
    const vectors = new Float32Array(embedded.length * dim);
    embedded.forEach((row, i) => {
      vectors.set(row.embedding, i * dim);
    });
    return dedupExact(
      {
        vectors,
        dim,
        count: embedded.length,
        passing: Uint8Array.from(embedded.map((r) => (r.judgment.overall_pass ? 1 : 0))),
      },
      0.95,
    );
  }

  it('keeps exactly what the brute-force greedy keeps, in input order, without embeddings', () => {
    expect(code).toBe(0);
    const kept = lines(output);
    const expected = reference();
    expect(kept).toHaveLength(expected.kept.length);
    kept.forEach((row, k) => {
      expect(Object.keys(row).sort()).toEqual(['conversation', 'judgment']);
      expect(JudgedConversation.parse(row)).toEqual(JudgedConversation.parse(embedded[expected.kept[k]!]));
    });
  });

  it('writes each kept row as JSON.stringify writes {conversation, judgment}: the same bytes, non-ASCII as it was', () => {
    const raw = readFileSync(output, 'utf8').split('\n').filter(Boolean);
    const expected = reference();
    expect(raw.some((line) => /[^\x00-\x7f]/.test(line))).toBe(true);
    raw.forEach((line, k) => {
      const { conversation, judgment } = embedded[expected.kept[k]!]!;
      expect(line).toBe(JSON.stringify({ conversation, judgment }));
    });
  });

  it('reports each removed conversation with the kept one it duplicates and their similarity', () => {
    const report = lines(output.replace('.jsonl', '.report.jsonl'));
    const expected = reference();
    expect(report.map((r) => r.index)).toEqual(expected.removed.map((r) => r.index));
    const kept = new Set(expected.kept);
    for (const [k, row] of report.entries()) {
      expect(kept.has(row.duplicate_of)).toBe(true);
      expect(row.duplicate_of).toBe(expected.removed[k]!.duplicateOf);
      expect(row.similarity).toBeGreaterThanOrEqual(0.95 - 1e-6);
      expect(row.similarity).toBeCloseTo(expected.removed[k]!.similarity, 5);
    }
    const meta = JSON.parse(readFileSync(output.replace('.jsonl', '.meta.json'), 'utf8'));
    expect(meta.counts).toMatchObject({
      read: 400,
      written: expected.kept.length,
      filtered: { duplicate: report.length },
    });
    expect(meta.histogram.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(report.length);
  });

  it('never lets a failing conversation remove a passing one', () => {
    const report = lines(output.replace('.jsonl', '.report.jsonl'));
    for (const row of report) {
      if (embedded[row.index]!.judgment.overall_pass)
        expect(embedded[row.duplicate_of]!.judgment.overall_pass).toBe(true);
    }
  });

  it('--method minhash needs no embeddings and removes exact text copies', async () => {
    const minOut = join(dir, 'minhash.jsonl');
    const judged = join(dir, 'judged.jsonl');
    const rows = embedded.slice(0, 50).map(({ conversation, judgment }) => ({ conversation, judgment }));
    const copies = [...rows, rows[3], rows[7]];
    writeFileSync(judged, `${copies.map((r) => JSON.stringify(r)).join('\n')}\n`);
    expect(
      await deduplicate(
        parseFlags(['--input', judged, '--output', minOut, '--method', 'minhash', '--quiet'], FLAGS, '')!,
      ),
    ).toBe(0);
    const report = lines(minOut.replace('.jsonl', '.report.jsonl'));
    expect(report.map((r) => r.index)).toEqual(expect.arrayContaining([50, 51]));
    expect(report.find((r) => r.index === 50)!.duplicate_of).toBe(3);
  });
});
