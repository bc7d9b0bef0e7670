// The failure ledger of the last complete run stays while its manifest names it: an interrupted rerun that has no
// failures of its own does not delete it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startImitation } from './support/imitation_server.js';
import { startDelayProxy, waitFor } from './support/delay_proxy.js';
import { removeTempDirs, runStage, spawnStage, stageEnv, tempDir } from './support/run_stage.js';
import { writeQaPairs } from './support/stage_files.js';

afterAll(() => removeTempDirs());

describe('an interrupted rerun', () => {
  it('keeps the ledger the manifest names', async () => {
    const dir = tempDir('ledger');
    writeQaPairs(join(dir, 'pairs.jsonl'), 4);
    const args = ['--input', join(dir, 'pairs.jsonl'), '--output', join(dir, 'validated.jsonl'), '--quiet'];
    // Run 1 completes with failures: every answer about pair 2 is not JSON.
    const bad = await startImitation({
      seed: 1,
      respond: (call) => (call.prompt.includes('Question 2:') ? 'not json' : undefined),
    });
    try {
      const first = await runStage('2_validate_qa.ts', args, {
        env: stageEnv(bad, { LLM_MAX_ATTEMPTS: '1' }),
        cwd: dir,
      });
      expect(first.code, first.stderr).toBe(1);
    } finally {
      await bad.close();
    }
    const ledger = readFileSync(join(dir, 'validated.errors.jsonl'), 'utf8');
    const manifest = JSON.parse(readFileSync(join(dir, 'validated.meta.json'), 'utf8'));
    expect(manifest.errors_file).toBe(join(dir, 'validated.errors.jsonl'));
    // Run 2 asks only the failed item again, and is interrupted while it is in flight (it then succeeds).
    const good = await startImitation({ seed: 1 });
    const proxy = await startDelayProxy(good.url, 800);
    try {
      const second = spawnStage('2_validate_qa.ts', args, { env: stageEnv(proxy), cwd: dir });
      await waitFor(() => proxy.received >= 1, 20_000, 'the retried item');
      second.child.kill('SIGINT');
      const result = await second.done;
      expect(result.code, result.stderr).toBe(130);
    } finally {
      await proxy.close();
      await good.close();
    }
    expect(readFileSync(join(dir, 'validated.errors.jsonl'), 'utf8')).toBe(ledger);
    expect(JSON.parse(readFileSync(join(dir, 'validated.meta.json'), 'utf8'))).toEqual(manifest);
  }, 60_000);
});
