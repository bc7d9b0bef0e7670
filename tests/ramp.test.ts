// A run pays the slow start once: stage 4 opens at the concurrency stage 3 reached on the same model.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isModelLookup, startImitation, type Imitation } from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import {
  type Endpoints,
  generateArgs,
  judgeArgs,
  removeTempDirs,
  stageEnv,
  startDelayProxy,
  tempDir,
  readRows,
  writeJudged,
  writeQaPairs,
} from './support/run_stage.js';
import { manifest } from './support/run_stages.js';

const LATENCY = 400;
let imitation: Imitation | undefined;
afterAll(async () => {
  await imitation?.close();
  removeTempDirs();
});

/**
 * How many generate requests reached the server before the first one could have been answered: the limiter admits
 * more only on an answer, so this is the opening burst however slowly a loaded machine sends it.
 */
function openingBurst(im: Imitation, from: number): number {
  const calls = im.requests.slice(from).filter((r) => r.path.includes(':generateContent'));
  return calls.filter((r) => r.at < calls[0]!.at + LATENCY).length;
}

describe('slow start across stages', () => {
  it('stage 3 sends its first paid request alone; stage 4 on the same model starts at what stage 3 reached', async () => {
    imitation = await startImitation({ seed: 4, latencyMs: LATENCY });
    const dir = tempDir('ramp');
    writeQaPairs(join(dir, 'pairs.jsonl'), 10);
    const env = stageEnv(imitation);
    const generate = await runStageInProcess(
      '3_generate_conversations.ts',
      generateArgs(join(dir, 'pairs.jsonl'), join(dir, 'raw.jsonl'), 40, '--concurrency', '16', '--quiet'),
      { env, cwd: dir },
    );
    expect(generate.code, generate.stderr).toBe(0);
    // The free look-up goes beside one paid request alone: an exhausted quota costs one request, not one per slot,
    // and the look-up costs no round trip of its own (both arrive before either is answered).
    const lookups = imitation.requests.filter((r) => isModelLookup(r));
    const firstCall = imitation.requests.find((r) => r.path.includes(':generateContent'))!;
    expect(lookups).toHaveLength(1);
    expect(Math.abs(firstCall.at - lookups[0]!.at)).toBeLessThan(LATENCY);
    expect(openingBurst(imitation, 0)).toBe(1);
    const reached = manifest(dir, 'raw.jsonl').limiter.reached_concurrency;
    expect(reached).toBe(16);

    const before = imitation.requests.length;
    const judge = await runStageInProcess(
      '4_judge_and_save.ts',
      judgeArgs(join(dir, 'raw.jsonl'), dir, '--concurrency', '50'),
      { env, cwd: dir },
    );
    expect(judge.code, judge.stderr).toBe(0);
    // Stage 3 called the same model minutes ago: that stands for the look-up, which would cost a round trip.
    expect(imitation.requests.slice(before).filter((r) => isModelLookup(r))).toHaveLength(0);
    // Stage 3 met no 429 at 16 (its own ceiling), so its ramp would have doubled next: stage 4 takes that step.
    expect(manifest(dir, 'raw.jsonl').limiter.rate_limit_events).toBe(0);
    expect(judge.stdout).toMatch(
      /judge: starting at concurrency 32, twice the 16 reached by .*raw\.meta\.json on gemini gemini-flash-latest without a 429/,
    );
    expect(openingBurst(imitation, before)).toBe(32);
    // Stage 4 ramped on from 32 towards its own ceiling (40 items: all of them in flight by the second round).
    expect(manifest(dir, 'judged.jsonl').limiter.reached_concurrency).toBeGreaterThan(32);

    // Stage 3 run again from scratch opens where its own last run got to.
    const again = imitation.requests.length;
    const rerun = await runStageInProcess(
      '3_generate_conversations.ts',
      generateArgs(join(dir, 'pairs.jsonl'), join(dir, 'raw.jsonl'), 40, '--concurrency', '16', '--fresh'),
      { env, cwd: dir },
    );
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toMatch(/starting at concurrency 16, reached by .*raw\.meta\.json/);
    expect(openingBurst(imitation, again)).toBe(16);
  });
});

describe('the model look-up beside the first call', () => {
  it('a look-up the server never answers holds nothing up: the stage runs and exits on its calls alone', async () => {
    const im = await startImitation({ seed: 6 });
    const proxy = await startDelayProxy(im.geminiBaseUrl, 60_000, { lookupsOnly: true });
    const dir = tempDir('lookup-hangs');
    writeQaPairs(join(dir, 'pairs.jsonl'), 10);
    const started = Date.now();
    const result = await runStageInProcess(
      '3_generate_conversations.ts',
      generateArgs(join(dir, 'pairs.jsonl'), join(dir, 'raw.jsonl'), 20, '--concurrency', '8', '--quiet'),
      { env: stageEnv(proxy), cwd: dir },
    );
    const took = Date.now() - started;
    await proxy.close();
    await im.close();
    expect(result.code, result.stderr).toBe(0);
    // Waiting for the look-up would have taken the whole request timeout (LLM_TIMEOUT_MS, 10 s) first.
    expect(took).toBeLessThan(8_000);
    expect(im.requests.filter((r) => isModelLookup(r))).toHaveLength(0);
    expect(im.requests.filter((r) => r.path.includes(':generateContent')).length).toBeGreaterThanOrEqual(20);
  });

  const cases = [
    {
      model: 'gemini-2.5-flash',
      message: /gemini-2\.5-flash is not offered by the Gemini API \(retired\?\) — current: .*gemini-flash-latest/,
    },
    {
      model: 'gemini-embedding-001',
      message: /gemini-embedding-001 is offered by the Gemini API but not for generateContent/,
    },
  ];
  it('stage 5 too: its embedding look-up goes beside the first request, and a retired model is still one line', async () => {
    const im = await startImitation({ seed: 7 });
    const proxy = await startDelayProxy(im.geminiBaseUrl, 60_000, { lookupsOnly: true });
    const dir = tempDir('lookup-embed');
    writeJudged(join(dir, 'judged.jsonl'), 12);
    const embed = (endpoints: Endpoints, ...extra: string[]) =>
      runStageInProcess(
        '5_embed_conversations.ts',
        ['--input', join(dir, 'judged.jsonl'), '--output', join(dir, 'embedded.jsonl'), '--batch-size', '2', ...extra],
        { env: stageEnv(endpoints), cwd: dir },
      );
    const started = Date.now();
    const held = await embed(proxy, '--quiet');
    expect(held.code, held.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(readRows(join(dir, 'embedded.jsonl'))).toHaveLength(12);
    await proxy.close();
    const retired = await embed(im, '--model', 'text-embedding-9-tiny', '--fresh');
    await im.close();
    expect(retired.code).toBe(1);
    const errors = retired.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors, retired.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/text-embedding-9-tiny is not offered by the OpenAI API/);
    expect(
      im.requests.filter((r) => r.path.endsWith('/embeddings') && r.body?.model === 'text-embedding-9-tiny').length,
    ).toBeLessThanOrEqual(1);
  });

  for (const c of cases) {
    it(`${c.model}: one line in the look-up's words, exit 1, at most one generate request, no artifact`, async () => {
      const im = await startImitation({ seed: 5 });
      // The look-up answers last, so the first call's own 404 is in first: the stage still speaks the look-up's words.
      const proxy = await startDelayProxy(im.geminiBaseUrl, 300, { lookupsOnly: true });
      const dir = tempDir('lookup');
      writeQaPairs(join(dir, 'pairs.jsonl'), 10);
      const result = await runStageInProcess(
        '3_generate_conversations.ts',
        generateArgs(join(dir, 'pairs.jsonl'), join(dir, 'raw.jsonl'), 40, '--concurrency', '16', '--model', c.model),
        { env: stageEnv(proxy), cwd: dir },
      );
      await proxy.close();
      await im.close();
      expect(result.code).toBe(1);
      const errors = result.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errors, result.stderr).toHaveLength(1);
      expect(errors[0]).toMatch(c.message);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(im.requests.filter((r) => r.path.includes(':generateContent')).length).toBeLessThanOrEqual(1);
      expect(existsSync(join(dir, 'raw.jsonl'))).toBe(false);
    });
  }
});
