// A saved answer is reused only if it passes the check a fresh one gets; one that fails is asked again and counted.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../src/io/checkpoint.js';
import { paidRequests, startImitation, type Imitation } from './support/imitation_server.js';
import { removeTempDirs, runStage, stageEnv, tempDir } from './support/run_stage.js';
import { readRows, writeFacts, writeQaPairs } from './support/stage_files.js';

type Line = { key?: string; id?: string; result?: any; rejected?: string };
const linesOf = (file: string): Line[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
const writeLines = (file: string, lines: Line[]) =>
  writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
const isNumber = (stored: unknown) =>
  typeof stored === 'number' ? undefined : `expected a number, got ${JSON.stringify(stored)}`;

describe('Checkpoint.recheck', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'recheck-')), 'a.jsonl.checkpoint.jsonl');

  it('drops a failing result, and the drop holds for the next run until compaction keeps the new answer', async () => {
    const first = new Checkpoint(file);
    first.save('good', 'a', 1);
    first.save('bad', 'b', 'one');
    first.save('null', 'c', null);

    const second = new Checkpoint(file);
    const outcome = second.recheck(['good', 'bad', 'null', 'absent'].map((key) => ({ key, problem: isNumber })));
    expect(outcome).toEqual({ dropped: 2, first: 'expected a number, got "one"' });
    expect(second.rejected).toBe(2);
    expect([second.has('good'), second.has('bad'), second.has('null')]).toEqual([true, false, false]);

    // Cut off before the item is asked again: the next run must not find the bad result either.
    const third = new Checkpoint(file);
    expect([third.has('bad'), third.has('null')]).toEqual([false, false]);
    third.save('bad', 'b', 2);
    expect(third.take('good')).toBe(1);

    // A fourth run finds the new answer, not the first bad one; compaction leaves one line a key, no markers.
    const fourth = new Checkpoint(file);
    expect(fourth.take('bad')).toBe(2);
    await fourth.compact();
    expect(linesOf(file)).toEqual([
      { key: 'good', id: 'a', result: 1 },
      { key: 'bad', id: 'b', result: 2 },
    ]);
  });
});

describe('stages given a checkpoint with unusable entries', () => {
  let imitation: Imitation;
  beforeAll(async () => {
    imitation = await startImitation({ seed: 11 });
  });
  afterAll(async () => {
    await imitation?.close();
    removeTempDirs();
  });

  /** Runs the stage, spoils its checkpoint with `spoil`, runs it again: the rerun, its paid calls, both artifacts. */
  async function spoiledRerun(
    script: string,
    args: string[],
    artifact: string,
    spoil: (lines: Line[]) => void,
    options: { dryRun?: boolean } = {},
  ) {
    const first = await runStage(script, args, { env: stageEnv(imitation), cwd: dirname(artifact) });
    expect(first.code, first.stderr).toBe(0);
    const reference = readFileSync(artifact, 'utf8');
    const lines = linesOf(`${artifact}.checkpoint.jsonl`);
    spoil(lines);
    writeLines(`${artifact}.checkpoint.jsonl`, lines);
    const dry = options.dryRun
      ? await runStage(script, [...args, '--dry-run'], { env: stageEnv(imitation), cwd: dirname(artifact) })
      : undefined;
    const before = paidRequests(imitation).length;
    const rerun = await runStage(script, args, { env: stageEnv(imitation), cwd: dirname(artifact) });
    expect(rerun.code, rerun.stderr).toBe(0);
    const counts = JSON.parse(readFileSync(artifact.replace(/\.jsonl$/, '.meta.json'), 'utf8')).counts;
    return {
      rerun,
      dry,
      paid: paidRequests(imitation).length - before,
      reference,
      written: readFileSync(artifact, 'utf8'),
      counts,
    };
  }

  it('stage 2 asks again for a result with wrong types and a null result, writes every row and counts them', async () => {
    const dir = tempDir('recheck-validate');
    writeQaPairs(join(dir, 'pairs.jsonl'), 6);
    const artifact = join(dir, 'validated.jsonl');
    const { rerun, dry, paid, reference, written, counts } = await spoiledRerun(
      '2_validate_qa.ts',
      ['--input', join(dir, 'pairs.jsonl'), '--output', artifact, '--quiet'],
      artifact,
      (lines) => {
        expect(lines).toHaveLength(6);
        lines[1]!.result = { ...lines[1]!.result, uses_source_fact: 'yes' };
        lines[4]!.result = null;
      },
      { dryRun: true },
    );
    // The dry run, made in between, counted the two as calls and changed nothing.
    expect(dry!.stdout).toMatch(/: 2 calls to .* \(4 more already finished, reused\)/);
    expect(paid).toBe(2);
    expect(rerun.stderr).toMatch(
      /2 saved results in .*validated\.jsonl\.checkpoint\.jsonl failed the check .* asked again/,
    );
    // The imitation answers the same request the same way: the artifact is the one the first run wrote.
    expect(written).toBe(reference);
    expect(readRows(artifact).every((r) => typeof r.validation.uses_source_fact === 'boolean')).toBe(true);
    expect(counts).toMatchObject({ read: 6, written: 6, failed: 0, reused: 4, reasked: 2 });
    expect(rerun.stdout).toContain('asked again 2');
  });

  it('stage 1 asks again for a chunk whose saved qa_pairs is not an array', async () => {
    const dir = tempDir('recheck-extract');
    writeFacts(join(dir, 'facts.md'), 3);
    const artifact = join(dir, 'qa.jsonl');
    const { rerun, paid, reference, written, counts } = await spoiledRerun(
      '1_extract_qa.ts',
      ['--facts', join(dir, 'facts.md'), '--output', artifact, '--quiet'],
      artifact,
      (lines) => {
        lines[0]!.result = { qa_pairs: 'three pairs' };
      },
    );
    expect(rerun.stderr).not.toContain('not iterable');
    expect(paid).toBe(1);
    expect(written).toBe(reference);
    expect(counts.reasked).toBe(1);
    // Compaction kept the new answer and dropped the bad one with its marker.
    const after = linesOf(`${artifact}.checkpoint.jsonl`);
    expect(after.some((l) => l.rejected !== undefined || typeof l.result?.qa_pairs === 'string')).toBe(false);
  });
});
