// One Ctrl-C reaches the stage several times (the terminal signals the whole group; npx and tsx relay it again):
// it is still one press — calls in flight finish and are kept — and only a press a second later stops at once.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paidRequests, startImitation, type Imitation } from './support/imitation_server.js';
import { startDelayProxy, waitFor } from './support/delay_proxy.js';
import {
  collectOutput,
  generateArgs,
  judgeArgs,
  removeTempDirs,
  spawnStage,
  stageEnv,
  tempDir,
  type StageResult,
} from './support/run_stage.js';
import { lineCount, savedEntries, writeQaPairs, writeRaw } from './support/stage_files.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const N = 30;
let imitation: Imitation;
const source = tempDir('relays-input');

beforeAll(async () => {
  imitation = await startImitation({ seed: 5 });
  writeQaPairs(join(source, 'pairs.jsonl'), 5);
  writeRaw(join(source, 'raw.jsonl'), join(source, 'judged.jsonl'), N);
});
afterAll(async () => {
  await imitation?.close();
  removeTempDirs();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('relayed signals are one press', () => {
  it('SIGINT three times within 200 ms: calls in flight finish and every call sent is kept, exit 130', async () => {
    // Slow enough that calls are in flight at the proxy when the relays arrive.
    const proxy = await startDelayProxy(imitation.url, 500);
    try {
      const dir = tempDir('relays-direct');
      const checkpoint = join(dir, 'raw.jsonl.checkpoint.jsonl');
      const args = generateArgs(
        join(source, 'pairs.jsonl'),
        join(dir, 'raw.jsonl'),
        N,
        '--concurrency',
        '4',
        '--quiet',
      );
      const stage = spawnStage('3_generate_conversations.ts', args, { env: stageEnv(proxy), cwd: dir });
      await waitFor(() => lineCount(checkpoint) >= 3, 30_000, '3 finished items');
      for (const at of [0, 80, 160]) {
        await sleep(at === 0 ? 0 : 80);
        stage.child.kill('SIGINT');
      }
      const result = await stage.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toMatch(/run the same command again to resume/);
      expect(result.stderr.match(/Stopping:/g)).toHaveLength(1);
      // Every request the stage sent was answered and saved: none was cut off as if a second press had come.
      expect(savedEntries(checkpoint)).toBeGreaterThanOrEqual(proxy.received);
      expect(savedEntries(checkpoint)).toBeLessThan(N);
      expect(existsSync(join(dir, 'raw.jsonl.lock')), 'the lock is released on an interrupt').toBe(false);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('a second press more than a second after the first stops at once', async () => {
    const im = await startImitation({ seed: 5, faults: { rateHang: 1 } });
    try {
      const dir = tempDir('relays-second-press');
      const args = generateArgs(join(source, 'pairs.jsonl'), join(dir, 'raw.jsonl'), 5, '--quiet');
      const stage = spawnStage('3_generate_conversations.ts', args, {
        env: stageEnv(im, { LLM_TIMEOUT_MS: '60000', STOP_GRACE_MS: '60000' }),
        cwd: dir,
      });
      await waitFor(() => paidRequests(im).length >= 1, 20_000, 'the first request');
      stage.child.kill('SIGINT');
      await sleep(1300);
      const second = Date.now();
      stage.child.kill('SIGINT');
      const result = await stage.done;
      expect(result.code, result.stderr).toBe(130);
      // Far below the 60 s grace and timeout: the second press did not wait for the call that never answers.
      expect(Date.now() - second).toBeLessThan(10_000);
    } finally {
      await im.close();
    }
  }, 60_000);
});

/** `npx tsx 4_judge_and_save.ts …` as a shell would start it: its own process group, signalled as a group. */
function spawnThroughNpx(
  args: string[],
  env: Record<string, string>,
): { pid: number; stderr: () => string; done: Promise<StageResult> } {
  const started = Date.now();
  const child = spawn('npx', ['--no-install', 'tsx', join(ROOT, '4_judge_and_save.ts'), ...args], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child, started);
  return { pid: child.pid!, stderr: () => output.stderr, done: output.done };
}

describe.each([
  ['one SIGINT', [0]],
  ['two SIGINTs 200 ms apart', [0, 200]],
] as const)('%s to the process group of npx tsx 4_judge_and_save.ts', (_name, gaps) => {
  it('keeps every answer the server sent (checkpoint lines ≥ requests received) and exits 130', async () => {
    const proxy = await startDelayProxy(imitation.url, 500);
    try {
      const dir = tempDir('relays-npx');
      const checkpoint = join(dir, 'judged.jsonl.checkpoint.jsonl');
      const args = judgeArgs(join(source, 'raw.jsonl'), dir, '--concurrency', '4', '--quiet');
      const run = spawnThroughNpx(args, stageEnv(proxy));
      await waitFor(() => lineCount(checkpoint) >= 3, 60_000, '3 finished items');
      for (const gap of gaps) {
        await sleep(gap);
        process.kill(-run.pid, 'SIGINT');
      }
      const result = await run.done;
      // npx re-raises the signal its child ended with, so the shell sees 130 either way.
      expect(
        result.code === 130 || result.signal === 'SIGINT',
        `${result.code} ${result.signal} ${result.stderr}`,
      ).toBe(true);
      expect(result.stderr).toMatch(/interrupted: \d+ finished items are saved/);
      expect(savedEntries(checkpoint)).toBeGreaterThanOrEqual(proxy.received);
      expect(savedEntries(checkpoint)).toBeLessThan(N);
    } finally {
      await proxy.close();
    }
  }, 90_000);
});
