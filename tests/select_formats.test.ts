// Stage 7 in every --format: each written line passes that format's loader rules, and the OpenAI file-size rule warns.
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FLAGS, selectTop } from '../7_select_top.js';
import { parseFlags } from '../src/cli.js';
import { EXPORT_FORMATS } from '../src/export/formats.js';
import { checkExportRow } from '../src/export/loader_rules.js';
import { readRows, removeTempDirs, tempDir, writeJudged } from './support/run_stage.js';

afterAll(() => removeTempDirs());

async function select(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    return { code: await selectTop(parseFlags([...args, '--quiet'], FLAGS, '')!), stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('7_select_top.ts --format', () => {
  const dir = tempDir('select-formats');
  const input = join(dir, 'deduplicated.jsonl');
  writeJudged(input, 40);

  it.each(EXPORT_FORMATS)('%s: every line passes its loader rules', async (format) => {
    const output = join(dir, `${format}.jsonl`);
    const { code, stderr } = await select(['--input', input, '--output', output, '--top-k', '12', '--format', format]);
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/break the .* loader's rules/);
    const rows = readRows(output);
    expect(rows).toHaveLength(12);
    for (const row of rows) expect(checkExportRow(row, format)).toBeNull();
  });

  it('openai: warns when fewer than 10 conversations reach the file', async () => {
    const few = join(dir, 'few.jsonl');
    writeJudged(few, 6);
    const { code, stderr } = await select([
      '--input',
      few,
      '--output',
      join(dir, 'few-openai.jsonl'),
      '--format',
      'openai',
    ]);
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /few-openai\.jsonl has 4 rows; the OpenAI fine-tuning API refuses a training file with fewer than 10/,
    );
  });
});
