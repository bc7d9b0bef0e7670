// A vector is finite numbers of the asked-for length with a usable norm: a bad one is a bad answer in stage 5, a
// bad saved one is asked again, and stage 6 names the file and line of a bad row.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorProblem } from '../src/embedding_check.js';
import { paidRequests, startImitation, type FaultPlan, type Imitation } from './support/imitation_server.js';
import { readRows, removeTempDirs, runStage, stageEnv, tempDir, writeJudged } from './support/run_stage.js';

describe('vectorProblem', () => {
  it.each([
    ['a unit vector', [0.6, 0.8], undefined],
    ['NaN', [NaN, 1], /NaN at \[0\] is not a finite float32/],
    ['Infinity', [1, Infinity], /Infinity at \[1\]/],
    ['1e308 (Infinity as float32)', [1e308, 1], /1e\+308 at \[0\] is not a finite float32/],
    ['a string', [0.5, '0.5'], /expected a number at \[1\], got "0.5"/],
    ['null', [null, 1], /expected a number at \[0\], got null/],
    ['all zeros', [0, 0], /every value is 0/],
    ['1e-320 (0 as float32)', [1e-320, 1e-320], /every value is 0/],
    ['a norm of 1e-30', [1e-30, 0], /norm 1.00e-30 is too small/],
  ])('%s → %s', (_, vector, expected) => {
    const problem = vectorProblem(vector as unknown[]);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('names a wrong length', () => {
    expect(vectorProblem([1, 0, 0], 4)).toBe('expected 4 dimensions, got 3');
  });
});

describe('stage 5 and 6 given bad vectors', () => {
  let imitation: Imitation;
  const source = tempDir('vectors-input');
  const input = join(source, 'judged.jsonl');
  beforeAll(async () => {
    imitation = await startImitation({ seed: 5 });
    writeJudged(input, 6);
  });
  afterAll(async () => {
    await imitation?.close();
    removeTempDirs();
  });

  async function embed(dir: string, faults: FaultPlan, extra: Record<string, string> = {}, flags: string[] = []) {
    imitation.setFaults(faults);
    const before = paidRequests(imitation).length;
    const result = await runStage(
      '5_embed_conversations.ts',
      [
        '--input',
        input,
        '--output',
        join(dir, 'embedded.jsonl'),
        '--batch-size',
        '2',
        '--dimensions',
        '8',
        '--quiet',
        ...flags,
      ],
      { env: stageEnv(imitation, extra), cwd: dir },
    );
    return { ...result, paid: paidRequests(imitation).length - before };
  }
  const finite = (file: string) =>
    readRows(file).every(
      (r) => r.embedding.length === 8 && r.embedding.every((x: unknown) => typeof x === 'number' && Number.isFinite(x)),
    );

  it.each<[string, FaultPlan['badEmbedding']]>([
    ['NaN', { value: NaN, answers: 1 }],
    ['Infinity', { value: Infinity, answers: 1 }],
    ['a string', { value: '0.25', answers: 1 }],
    ['an all-zero vector', { value: 0, every: true, answers: 1 }],
    ['a denormal vector', { value: 1e-320, every: true, answers: 1 }],
  ])('an answer holding %s is asked again; every row written is finite', async (_, badEmbedding) => {
    const dir = tempDir('vectors-retry');
    const result = await embed(dir, { badEmbedding });
    expect(result.code, result.stderr).toBe(0);
    expect(result.paid).toBe(4);
    const manifest = JSON.parse(readFileSync(join(dir, 'embedded.meta.json'), 'utf8'));
    expect(manifest.counts).toMatchObject({ written: 6, failed: 0, retries: 1 });
    expect(finite(join(dir, 'embedded.jsonl'))).toBe(true);
  });

  it('a vector that stays null is recorded as a failure and its rows are never written', async () => {
    const dir = tempDir('vectors-null');
    // One request at a time: the first batch gets both spoiled answers, the others good ones.
    const result = await embed(dir, { badEmbedding: { value: null, answers: 2 } }, { LLM_MAX_ATTEMPTS: '2' }, [
      '--concurrency',
      '1',
      '--max-failure-rate',
      '0.5',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const rows = readRows(join(dir, 'embedded.jsonl'));
    expect(rows.map((r) => r.conversation.messages[1].content.slice(0, 15))).toEqual([
      'Conversation 3:',
      'Conversation 4:',
      'Conversation 5:',
      'Conversation 6:',
    ]);
    expect(finite(join(dir, 'embedded.jsonl'))).toBe(true);
    const errors = readRows(join(dir, 'embedded.errors.jsonl'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ item_id: 'batch-0', error_class: 'invalid', attempts: 2 });
    expect(errors[0].message).toContain('expected a number at [0], got null');
  });

  it('a NaN saved in the checkpoint is asked again, not written as 0 or null', async () => {
    const dir = tempDir('vectors-checkpoint');
    expect((await embed(dir, {})).code).toBe(0);
    const reference = readFileSync(join(dir, 'embedded.jsonl'), 'utf8');
    const checkpoint = join(dir, 'embedded.jsonl.checkpoint.jsonl');
    const lines = readFileSync(checkpoint, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const flat = new Float32Array(Uint8Array.from(Buffer.from(lines[1].result.data, 'base64')).buffer);
    flat[3] = NaN;
    lines[1].result.data = Buffer.from(flat.buffer).toString('base64');
    writeFileSync(checkpoint, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);

    const rerun = await embed(dir, {});
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.paid).toBe(1);
    expect(rerun.stderr).toContain('NaN at [3] is not a finite float32');
    expect(readFileSync(join(dir, 'embedded.jsonl'), 'utf8')).toBe(reference);
  });

  it.each([
    ['an all-zero row', () => 0, /embedded\.jsonl:4: unusable embedding: every value is 0/],
    ['a row of 1e-320', () => 1e-320, /embedded\.jsonl:4: unusable embedding: every value is 0/],
    [
      'a row holding 1e308',
      (k: number) => (k === 2 ? 1e308 : 0.1),
      /embedded\.jsonl:4: unusable embedding: Infinity at \[2\] is not a finite float32/,
    ],
  ])('stage 6 refuses %s with FILE:LINE in one line', async (_, value, message) => {
    const dir = tempDir('vectors-dedup');
    const rows = readFileSync(join(source, 'judged.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l, i) => ({
        ...JSON.parse(l),
        embedding: Array.from({ length: 8 }, (_, k) => (i === 3 ? value(k) : ((i + k) % 5) / 5 + 0.1)),
      }));
    const file = join(dir, 'embedded.jsonl');
    writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const result = await runStage('6_deduplicate.ts', ['--input', file, '--output', join(dir, 'dedup.jsonl')], {
      env: stageEnv(undefined),
      cwd: dir,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
