// Stage 7 --parquet: the same rows as the JSONL in a `messages` list<struct<role, content>> column, read back with
// hyparquet, and a dataset card whose YAML header and body carry the run's size, pass rates, models and coverage.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FLAGS, selectTop } from '../7_select_top.js';
import { parseFlags } from '../src/cli.js';
import { artifactPaths } from '../src/pipeline.js';
import { hubFiles, sizeCategory } from '../src/export/dataset_card.js';
import { writeFixtureRun, type FixtureCounts } from './support/report_fixtures.js';
import { readRows, removeTempDirs, tempDir } from './support/run_stage.js';

async function readParquet(file: string) {
  const bytes = readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return {
    rows: (await parquetReadObjects({ file: buffer })) as Array<{ messages: unknown }>,
    metadata: parquetMetadata(buffer),
  };
}

async function select(args: string[]): Promise<number> {
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await selectTop(parseFlags([...args, '--quiet'], FLAGS, '')!);
  } finally {
    spy.mockRestore();
  }
}

describe('7_select_top.ts --parquet', () => {
  const dir = tempDir('parquet-export');
  const paths = artifactPaths('', dir);
  let counts: FixtureCounts;

  beforeAll(async () => {
    counts = await writeFixtureRun({ dir, stages: 6, conversations: 80 });
    // The fixture's manifests predate models_used; the judge's says which version answered, as a real run's does.
    const judge = `${dir}/conversations_judged.meta.json`;
    writeFileSync(
      judge,
      JSON.stringify({
        ...JSON.parse(readFileSync(judge, 'utf8')),
        models_used: { 'gemini-flash-latest': { 'gemini-3.8-flash': 80 } },
      }),
    );
  }, 60_000);
  afterAll(() => removeTempDirs());

  it('writes the JSONL rows again as a messages list<struct<role, content>> column', async () => {
    const output = join(dir, 'final.jsonl');
    expect(
      await select(['--input', paths.conversationsDeduplicated, '--output', output, '--top-k', '20', '--parquet']),
    ).toBe(0);
    const jsonl = readRows(output);
    expect(jsonl).toHaveLength(20);
    const { rows, metadata } = await readParquet(hubFiles(output).parquet);
    expect(rows).toEqual(jsonl);
    expect(metadata.num_rows).toBe(20n);

    const column = parquetSchema(metadata).children;
    expect(column.map((c) => c.element.name)).toEqual(['messages']);
    const list = column[0]!;
    expect(list.element.converted_type).toBe('LIST');
    const repeated = list.children[0]!;
    expect(repeated.element.repetition_type).toBe('REPEATED');
    const struct = repeated.children[0]!;
    expect(struct.children.map((c) => [c.element.name, c.element.type, c.element.converted_type])).toEqual([
      ['role', 'BYTE_ARRAY', 'UTF8'],
      ['content', 'BYTE_ARRAY', 'UTF8'],
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'final.meta.json'), 'utf8')).outputs).toEqual(
      expect.arrayContaining([hubFiles(output).parquet, hubFiles(output).card]),
    );
  });

  it('writes a card with the Hub YAML header, the pass rates, the models and the coverage', () => {
    const card = readFileSync(hubFiles(join(dir, 'final.jsonl')).card, 'utf8');
    const header = card.split('\n---\n')[0]!;
    expect(header.startsWith('---\n')).toBe(true);
    expect(header).toContain('size_categories:\n- n<1K');
    expect(header).toContain(
      'configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-00000-of-00001.parquet',
    );
    expect(header).toContain(
      '  - name: messages\n    list:\n    - name: role\n      dtype: string\n    - name: content\n      dtype: string',
    );
    expect(header).toContain('    num_examples: 20');
    expect(header).toContain('pretty_name: "SWAP Commerce synthetic support conversations"');
    expect(card).toContain(
      `| judge | factually_accurate | ${counts.judgeCriteria.factually_accurate}/${counts.conversations} |`,
    );
    expect(card).toContain(
      `| validate_qa | sensible_answer | ${counts.qaCriteria.sensible_answer}/${counts.qaPairs} |`,
    );
    expect(card).toContain('| judge | gemini-flash-latest | gemini-3.8-flash | 80 |');
    const selection = JSON.parse(readFileSync(join(dir, 'final.meta.json'), 'utf8')).selection;
    expect(card).toContain(
      `they cover ${selection.selected.facts_covered} of the ${selection.facts_in_candidates} facts`,
    );
    expect(card).toContain('`final.jsonl`: the same conversations as JSONL in `--format messages`');
  });

  it('keeps the nanochat rows as they are in the JSONL (system prompt merged)', async () => {
    const output = join(dir, 'nanochat.jsonl');
    expect(
      await select([
        '--input',
        paths.conversationsDeduplicated,
        '--output',
        output,
        '--top-k',
        '15',
        '--format',
        'nanochat',
        '--parquet',
      ]),
    ).toBe(0);
    const { rows } = await readParquet(hubFiles(output).parquet);
    expect(rows).toEqual(readRows(output).map((messages) => ({ messages })));
    expect(rows.every((r) => (r.messages as Array<{ role: string }>)[0]!.role === 'user')).toBe(true);
  });

  it('writes neither file without --parquet, as before', async () => {
    const output = join(dir, 'plain.jsonl');
    expect(await select(['--input', paths.conversationsDeduplicated, '--output', output, '--top-k', '5'])).toBe(0);
    expect(existsSync(hubFiles(output).parquet)).toBe(false);
    expect(existsSync(hubFiles(output).card)).toBe(false);
  });

  it('puts row counts in the Hub size buckets', () => {
    expect([0, 999, 1000, 9999, 10_000, 250_000].map(sizeCategory)).toEqual([
      'n<1K',
      'n<1K',
      '1K<n<10K',
      '1K<n<10K',
      '10K<n<100K',
      '100K<n<1M',
    ]);
  });
});
