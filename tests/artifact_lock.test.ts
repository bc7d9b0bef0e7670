// One run per output: a second run on the same artifact refuses and names the running one; a lock left by a dead
// process is taken over; the lock goes on every exit.
import { lockPath } from '../src/io/sidecars.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactLock } from '../src/io/artifact_lock.js';
import { startImitation, type Imitation } from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import { startDelayProxy, waitFor } from './support/delay_proxy.js';
import { generateArgs, imitationPerFile, runStage, spawnStage, stageEnv, tempDir } from './support/run_stage.js';
import { writeQaPairs } from './support/stage_files.js';

let imitation: Imitation;
imitationPerFile({ seed: 3 }, (started) => (imitation = started));

/** A pid that no process holds: one that has just exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('ArtifactLock', () => {
  it('refuses while a live process holds the lock, naming its pid', () => {
    const artifact = join(tempDir('lock-unit'), 'out.jsonl');
    writeFileSync(
      lockPath(artifact),
      JSON.stringify({ pid: process.ppid, host: hostname(), started_at: '2026-12-02T10:00:00.000Z' }),
    );
    expect(() => ArtifactLock.acquire(artifact)).toThrow(
      new RegExp(
        `out\\.jsonl: another run is writing it \\(pid ${process.ppid}, started 2026-12-02T10:00:00\\.000Z\\)`,
      ),
    );
  });

  it('takes over the lock of a dead process, and removes it on release', () => {
    const artifact = join(tempDir('lock-unit'), 'out.jsonl');
    writeFileSync(
      lockPath(artifact),
      JSON.stringify({ pid: deadPid(), host: hostname(), started_at: '2026-12-02T10:00:00.000Z' }),
    );
    const lock = ArtifactLock.acquire(artifact);
    expect(JSON.parse(readFileSync(lockPath(artifact), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lockPath(artifact))).toBe(false);
  });

  it('a lock from another host is not taken over (its pid means nothing here)', () => {
    const artifact = join(tempDir('lock-unit'), 'out.jsonl');
    writeFileSync(
      lockPath(artifact),
      JSON.stringify({ pid: deadPid(), host: 'another-host', started_at: '2026-12-02T10:00:00.000Z' }),
    );
    expect(() => ArtifactLock.acquire(artifact)).toThrow(/another run is writing it \(pid \d+ on another-host/);
  });
});

describe('two runs on the same output', () => {
  it('the second is refused with one line naming the first (pid) and makes no call; the first completes', async () => {
    const proxy = await startDelayProxy(imitation.url, 200);
    const other = await startImitation({ seed: 3 });
    try {
      const dir = tempDir('lock-two-runs');
      writeQaPairs(join(dir, 'pairs.jsonl'), 5);
      const args = generateArgs(join(dir, 'pairs.jsonl'), join(dir, 'raw.jsonl'), 12, '--concurrency', '2', '--quiet');
      const first = spawnStage('3_generate_conversations.ts', args, { env: stageEnv(proxy), cwd: dir });
      await waitFor(() => existsSync(join(dir, 'raw.jsonl.checkpoint.jsonl')), 30_000, 'the first run to be working');
      // In process: a tsx child needs seconds to start, and on a loaded machine the first run had finished by then.
      const second = await runStageInProcess('3_generate_conversations.ts', args, { env: stageEnv(other), cwd: dir });
      const lines = second.stderr.split('\n').filter(Boolean);
      expect(lines, second.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(`^error: .*raw\\.jsonl: another run is writing it \\(pid ${first.child.pid}, started `),
      );
      expect(second.code).toBe(1);
      expect(other.requests.length, 'the refused run made no call').toBe(0);
      const done = await first.done;
      expect(done.code, done.stderr).toBe(0);
      expect(existsSync(join(dir, 'raw.jsonl.lock')), 'released when the first run finished').toBe(false);
    } finally {
      await other.close();
      await proxy.close();
    }
  }, 60_000);

  it("a stale lock of a killed run is taken over, and the run's lock is gone after it", async () => {
    const dir = tempDir('lock-stale');
    writeQaPairs(join(dir, 'pairs.jsonl'), 3);
    writeFileSync(
      join(dir, 'raw.jsonl.lock'),
      JSON.stringify({ pid: deadPid(), host: hostname(), started_at: '2026-12-02T10:00:00.000Z' }),
    );
    const args = generateArgs(join(dir, 'pairs.jsonl'), join(dir, 'raw.jsonl'), 3, '--quiet');
    const result = await runStage('3_generate_conversations.ts', args, { env: stageEnv(imitation), cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'raw.jsonl.lock'))).toBe(false);
  }, 30_000);
});
