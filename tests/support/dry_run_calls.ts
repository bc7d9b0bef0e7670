// Calls queued for dryRun, one per prompt, in a fresh artifact folder whose checkpoint already holds one of them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Checkpoint } from '../../src/io/checkpoint.js';
import { requestKey } from '../../src/llm/structured.js';

/** `out.jsonl` in a new folder named for `prefix`, the calls for `prompts`, and the answer to `prompts[saved]` saved. */
export function callsWithOneSaved(prefix: string, prompts: string[], saved: number) {
  const artifact = join(mkdtempSync(join(tmpdir(), prefix)), 'out.jsonl');
  const calls = prompts.map((prompt) => ({
    request: {
      model: 'gemini-2.5-flash',
      prompt,
      schema: z.object({ a: z.string() }),
      schemaName: 'x',
      temperature: 0,
    },
  }));
  new Checkpoint(`${artifact}.checkpoint.jsonl`).save(requestKey('gemini', calls[saved]!.request), 'x', { a: 'saved' });
  return { artifact, calls };
}
