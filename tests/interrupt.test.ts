// Ctrl-C and SIGTERM: stop taking work, let calls in flight finish, keep them, say how to resume, exit 130.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { paidRequests, startImitation, type Imitation } from './support/imitation_server.js';
import {
  generateArgs,
  imitationBehindProxyPerFile,
  lineCount,
  runStage,
  savedEntries,
  spawnStage,
  stageEnv,
  tempDir,
  waitFor,
  writeQaPairs,
  type DelayProxy,
} from './support/run_stage.js';

const N = 30;
let imitation: Imitation;
let proxy: DelayProxy;
let reference: string;
const source = tempDir('interrupt-input');

imitationBehindProxyPerFile({ seed: 4 }, 150, (started, delayed) => ((imitation = started), (proxy = delayed)));
beforeAll(async () => {
  writeQaPairs(join(source, 'pairs.jsonl'), 5);
  const dir = tempDir('interrupt-reference');
  const result = await runStage('3_generate_conversations.ts', args(dir), { env: stageEnv(imitation), cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  reference = readFileSync(join(dir, 'raw.jsonl'), 'utf8');
});

function args(dir: string): string[] {
  return generateArgs(join(source, 'pairs.jsonl'), join(dir, 'raw.jsonl'), N, '--concurrency', '3', '--quiet');
}

const generateAnswers = (from: number) =>
  paidRequests(imitation)
    .slice(from)
    .filter((r) => r.path.includes(':generateContent') && r.status === 200).length;

describe.each(['SIGINT', 'SIGTERM'] as const)('%s in the middle of stage 3', (signal) => {
  const dir = tempDir(`interrupt-${signal}`);
  const checkpoint = join(dir, 'raw.jsonl.checkpoint.jsonl');
  const artifact = join(dir, 'raw.jsonl');
  let saved = 0;

  it('exits 130 with how to resume, keeps every answered call, and leaves the previous artifact alone', async () => {
    writeFileSync(artifact, 'the previous artifact\n');
    const before = paidRequests(imitation).length;
    const sentBefore = proxy.received;
    const stage = spawnStage('3_generate_conversations.ts', args(dir), { env: stageEnv(proxy), cwd: dir });
    await waitFor(() => lineCount(checkpoint) >= 6, 20_000, '6 finished items');
    // Counted where the stage sends (the proxy), not where requests arrive 150 ms later: on a loaded machine a
    // request sent well before the signal could reach the server after a count taken there.
    const atSignal = proxy.received - sentBefore;
    stage.child.kill(signal);
    const result = await stage.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/run the same command again to resume/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(artifact, 'utf8')).toBe('the previous artifact\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    saved = savedEntries(checkpoint);
    // Calls in flight were let finish and kept: every answer the server gave is in the checkpoint …
    expect(saved).toBe(generateAnswers(before));
    // … and no new work started after the signal: what was sent by then (in flight included), plus at most one
    // round of the 3 slots for answers handled in the moment between the count and the signal's delivery.
    expect(paidRequests(imitation).length - before).toBeLessThanOrEqual(atSignal + 3);
    expect(saved).toBeLessThan(N);
  });

  it('the re-run completes without repeating a finished item, with the artifact of an uninterrupted run', async () => {
    const before = paidRequests(imitation).length;
    const result = await runStage('3_generate_conversations.ts', args(dir), { env: stageEnv(imitation), cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(paidRequests(imitation).length - before).toBe(N - saved);
    expect(readFileSync(artifact, 'utf8')).toBe(reference);
  });
});

describe('stop-and-keep waits a bounded time', () => {
  it('a call that never answers is cut off after STOP_GRACE_MS, and the stage still exits 130', async () => {
    const im = await startImitation({ seed: 4, faults: { rateHang: 1 } });
    try {
      const dir = tempDir('interrupt-hang');
      const stage = spawnStage('3_generate_conversations.ts', args(dir), {
        env: stageEnv(im, { LLM_TIMEOUT_MS: '60000', STOP_GRACE_MS: '500' }),
        cwd: dir,
      });
      await waitFor(() => paidRequests(im).length >= 1, 20_000, 'the first request');
      const sent = Date.now();
      stage.child.kill('SIGINT');
      const result = await stage.done;
      expect(result.code, result.stderr).toBe(130);
      expect(Date.now() - sent).toBeLessThan(5000);
      expect(existsSync(join(dir, 'raw.jsonl'))).toBe(false);
    } finally {
      await im.close();
    }
  });
});
