// `2_validate_qa.ts | head -1`: the reader goes away, writes to stdout/stderr fail with EPIPE — the stage still
// completes, writes its artifact and manifest, and leaves no temporary file or stack trace.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Imitation } from './support/imitation_server.js';
import { imitationPerFile, lineCount, spawnStage, stageEnv, tempDir, writeQaPairs } from './support/run_stage.js';

let imitation: Imitation;
imitationPerFile({ seed: 2 }, (started) => (imitation = started));

describe.each([['stdout'], ['stdout and stderr']] as const)('a closed %s', (which) => {
  it('the stage completes with exit 0, its artifact and manifest, and no temporary file', async () => {
    const dir = tempDir('closed-pipe');
    writeQaPairs(join(dir, 'pairs.jsonl'), 6);
    const stage = spawnStage(
      '2_validate_qa.ts',
      ['--input', join(dir, 'pairs.jsonl'), '--output', join(dir, 'validated.jsonl')],
      { env: stageEnv(imitation, { PROGRESS_INTERVAL_MS: '10' }), cwd: dir },
    );
    // As `| head -1` does once it has its line: the reading end goes away.
    stage.child.stdout!.destroy();
    if (which !== 'stdout') stage.child.stderr!.destroy();
    const result = await stage.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(lineCount(join(dir, 'validated.jsonl'))).toBe(6);
    expect(existsSync(join(dir, 'validated.meta.json'))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
  }, 30_000);
});
