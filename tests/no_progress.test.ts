// A stage whose every request fails for a bounded time stops with one line saying what the service answered, and
// keeps what was saved: 100% 429 and 100% hangs used to be retried item after item for many minutes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { maxAttempts, NoProgressWatch } from '../src/llm/retry.js';
import { paidRequests } from './support/imitation_server.js';
import {
  imitationPerTest,
  lineCount,
  runStage,
  spawnStage,
  stageEnv,
  tempDir,
  writeQaPairs,
} from './support/run_stage.js';

const start = imitationPerTest();

/** Stage 2 on `pairs` pairs with a 2 s no-progress bound. */
function validateArgs(dir: string, pairs: number): string[] {
  writeQaPairs(join(dir, 'qa.jsonl'), pairs);
  return ['--input', join(dir, 'qa.jsonl'), '--output', join(dir, 'validated.jsonl')];
}

/** The stage's own last word: one line, no stack trace. */
function stopLine(stderr: string): string {
  expect(stderr).not.toMatch(/^\s+at /m);
  return stderr.trim().split('\n').at(-1)!;
}

describe('no progress for the bound (LLM_NO_PROGRESS_MS)', () => {
  it('every request answered 429: stops after the bound with a line about the quota or --rpm, exit 1', async () => {
    const imitation = await start({ seed: 1, faults: { rate429: 1 } });
    const dir = tempDir('no-progress');
    const result = await runStage('2_validate_qa.ts', validateArgs(dir, 20), {
      env: stageEnv(imitation, { LLM_NO_PROGRESS_MS: '2000', LLM_BACKOFF_MS: '1' }),
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(stopLine(result.stderr)).toMatch(
      /^error: every request answered 429 for 2 s: the quota is exhausted or the --rpm is too high/,
    );
    // Bounded: the 20 items are not each retried to the end of their attempts (24 429s apiece before the fix).
    expect(result.ms).toBeLessThan(20_000);
    expect(existsSync(join(dir, 'validated.jsonl'))).toBe(false);
  });

  it('no request answered at all (every one hangs): stops after the bound with a line about the service not answering', async () => {
    const imitation = await start({ seed: 2, faults: { rateHang: 1 } });
    const dir = tempDir('no-progress');
    const env = stageEnv(imitation, { LLM_NO_PROGRESS_MS: '2000', LLM_TIMEOUT_MS: '300' });
    const result = await runStage('2_validate_qa.ts', validateArgs(dir, 20), { env, cwd: dir });
    expect(result.code).toBe(1);
    expect(stopLine(result.stderr)).toMatch(
      /^error: no request was answered for 2 s \(each timed out after 300 ms\): the service is not answering/,
    );
    expect(result.ms).toBeLessThan(20_000);
  });

  it('keeps what was answered before the quota ran out: the rerun reuses it and pays only for the rest', async () => {
    const imitation = await start({ seed: 3, latencyMs: 50 });
    const dir = tempDir('no-progress');
    const args = [...validateArgs(dir, 12), '--concurrency', '1'];
    const env = stageEnv(imitation, { LLM_NO_PROGRESS_MS: '1500', LLM_BACKOFF_MS: '1' });
    const running = spawnStage('2_validate_qa.ts', args, { env, cwd: dir });
    // After 3 answers the account's quota is gone.
    while (paidRequests(imitation).length < 3) await new Promise((r) => setTimeout(r, 10));
    imitation.setFaults({ rate429: 1 });
    const first = await running.done;
    expect(first.code).toBe(1);
    expect(stopLine(first.stderr)).toMatch(/every request answered 429 for 2 s/);
    const checkpoint = join(dir, 'validated.jsonl.checkpoint.jsonl');
    const saved = lineCount(checkpoint);
    expect(saved).toBeGreaterThanOrEqual(3);

    imitation.setFaults({});
    const before = paidRequests(imitation).length;
    const second = await runStage('2_validate_qa.ts', args, { env, cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`reused ${saved}\\b`));
    expect(paidRequests(imitation).length - before).toBe(12 - saved);
    expect(readFileSync(join(dir, 'validated.jsonl'), 'utf8').trim().split('\n')).toHaveLength(12);
  });
});

describe('NoProgressWatch', () => {
  const rateLimited = { kind: 'transient', errorClass: 'rate_limited', message: '429' } as const;

  it('counts from the first failure after the last answer; an answer starts the clock again', () => {
    let now = 0;
    const watch = new NoProgressWatch(1000, () => now);
    expect(watch.remainingMs()).toBe(Number.POSITIVE_INFINITY);
    watch.failed(rateLimited, 0);
    now = 900;
    expect(watch.verdict()).toBeUndefined();
    watch.answered();
    now = 1500;
    watch.failed(rateLimited, 0);
    now = 2400;
    expect(watch.remainingMs()).toBe(100);
    expect(watch.verdict()).toBeUndefined();
    now = 2500;
    expect(watch.verdict()?.message).toMatch(/^every request answered 429 for 1 s/);
  });

  it('a bad LLM_NO_PROGRESS_MS is refused when the tasks are built, before any call, naming the variable', () => {
    vi.stubEnv('LLM_NO_PROGRESS_MS', 'soon');
    try {
      expect(() => maxAttempts()).toThrow('Expected LLM_NO_PROGRESS_MS to be an integer ≥ 1, got soon');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('names the mix when the failures differ', () => {
    let now = 0;
    const watch = new NoProgressWatch(1000, () => now);
    watch.failed(rateLimited, 0);
    watch.failed({ kind: 'transient', errorClass: 'server_error', message: '503' }, 0);
    now = 1000;
    expect(watch.verdict()?.message).toMatch(/^no request succeeded for 1 s \(rate_limited ×1, server_error ×1\)/);
  });
});
