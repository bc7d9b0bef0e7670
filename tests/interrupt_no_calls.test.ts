// Stages 6 and 7 make no calls, so there is nothing to wait for: Ctrl-C stops them, exit 130, and the previous
// artifact stays exactly as it was (no temporary file, no lock left).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, spawnStage, stageEnv, tempDir, waitFor, writeJudged } from './support/run_stage.js';
import { existsSync } from 'node:fs';

afterAll(() => removeTempDirs());

const ROWS = 60_000;
const source = tempDir('no-calls-input');
const input = join(source, 'deduplicated.jsonl');
writeJudged(input, ROWS);

describe.each([
  ['7_select_top.ts', ['--top-k', String(ROWS)]],
  ['6_deduplicate.ts', ['--method', 'minhash']],
] as const)('Ctrl-C in %s on a large input', (script, extra) => {
  it('exits 130 and leaves the previous artifact unchanged', async () => {
    const dir = tempDir('no-calls');
    const artifact = join(dir, 'out.jsonl');
    writeFileSync(artifact, 'the previous artifact\n');
    const stage = spawnStage(script, ['--input', input, '--output', artifact, ...extra, '--quiet'], {
      env: stageEnv(undefined),
      cwd: dir,
    });
    // The lock appears once the stage has set up (and listens for Ctrl-C); the read of 60k rows is still ahead.
    await waitFor(() => existsSync(`${artifact}.lock`), 30_000, 'the stage to start');
    stage.child.kill('SIGINT');
    const result = await stage.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/interrupted: nothing was written; .*out\.jsonl is as it was/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(artifact, 'utf8')).toBe('the previous artifact\n');
    expect(readdirSync(dir).sort()).toEqual(['out.jsonl']);
  }, 60_000);
});
