// A checkpoint write that fails (a full disk: the checkpoint swapped for /dev/full, which answers every write with
// ENOSPC) stops new calls at once with the path and the reason; what was saved is reused by the next run.
import { linkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { paidRequests, type Imitation } from './support/imitation_server.js';
import { startDelayProxy, waitFor } from './support/delay_proxy.js';
import { imitationPerFile, judgeArgs, runStage, spawnStage, stageEnv, tempDir } from './support/run_stage.js';
import { lineCount, savedEntries, writeRaw } from './support/stage_files.js';

const N = 30;
let imitation: Imitation;
imitationPerFile({ seed: 6 }, (started) => (imitation = started));

describe('a failed checkpoint write', () => {
  it('stops new calls at once, names the checkpoint and ENOSPC, and the saved items are reused', async () => {
    const proxy = await startDelayProxy(imitation.url, 100);
    try {
      const dir = tempDir('checkpoint-full');
      writeRaw(join(dir, 'raw.jsonl'), join(dir, 'judged.src'), N);
      const checkpoint = join(dir, 'judged.jsonl.checkpoint.jsonl');
      const args = judgeArgs(join(dir, 'raw.jsonl'), dir, '--concurrency', '2', '--quiet');
      const stage = spawnStage('4_judge_and_save.ts', args, { env: stageEnv(proxy), cwd: dir });
      await waitFor(() => lineCount(checkpoint) >= 4, 30_000, '4 saved items');
      // Keep the saved entries (a hard link), then put /dev/full in the checkpoint's place in one rename.
      linkSync(checkpoint, join(dir, 'kept.jsonl'));
      symlinkSync('/dev/full', join(dir, 'full'));
      renameSync(join(dir, 'full'), checkpoint);
      const atSwap = proxy.received;
      const result = await stage.done;
      expect(result.code, result.stderr).toBe(1);
      const lines = result.stderr.split('\n').filter(Boolean);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        /judged\.jsonl\.checkpoint\.jsonl: could not save a finished item \(no space left on the device: ENOSPC\)/,
      );
      // At most the calls already in flight (concurrency 2) and one more being admitted.
      expect(proxy.received - atSwap).toBeLessThanOrEqual(3);
      // Free the disk: the saved entries are reused, only the rest is asked for.
      rmSync(checkpoint);
      renameSync(join(dir, 'kept.jsonl'), checkpoint);
      const saved = savedEntries(checkpoint);
      const before = paidRequests(imitation).length;
      const rerun = await runStage('4_judge_and_save.ts', args, { env: stageEnv(imitation), cwd: dir });
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(paidRequests(imitation).length - before).toBe(N - saved);
      expect(lineCount(join(dir, 'judged.jsonl'))).toBe(N);
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
