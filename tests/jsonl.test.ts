// JSONL reading that points at the bad line, and atomic writing that never leaves half an artifact.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError, JsonlLineError } from '../src/errors.js';
import { AtomicJsonlWriter, iterateJsonl, readJsonl, writeJsonl } from '../src/io/jsonl.js';
import { QAPair, ValidatedQAPair } from '../src/schemas.js';

const root = mkdtempSync(join(tmpdir(), 'jsonl-'));
let n = 0;
const freshDir = () => {
  const dir = join(root, `case-${n++}`);
  mkdirSync(dir);
  return dir;
};
const Row = z.object({ id: z.number(), name: z.string() });
const QA = {
  question: 'Q?',
  answer: 'A.',
  source_text: '* s',
  context_before: '',
  context_after: '',
  difficulty: 'basic',
  categories: [],
};

async function readError(file: string, schema: z.ZodType = Row, options = {}): Promise<Error> {
  try {
    await readJsonl(file, schema, options);
  } catch (error) {
    expect((error as Error).message).not.toContain('\n');
    return error as Error;
  }
  throw new Error(`readJsonl(${file}) did not throw`);
}

describe('reading', () => {
  it('reads valid rows, skipping blank lines, with their line numbers', async () => {
    const file = join(freshDir(), 'rows.jsonl');
    writeFileSync(file, '{"id":1,"name":"a"}\n\n  \n{"id":2,"name":"b"}\r\n');
    expect(await readJsonl(file, Row)).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    const lines: number[] = [];
    for await (const { line } of iterateJsonl(file, Row)) lines.push(line);
    expect(lines).toEqual([1, 4]);
  });

  it('a line that is not JSON stops with FILE:LINE: not valid JSON…', async () => {
    const file = join(freshDir(), 'bad.jsonl');
    writeFileSync(file, '{"id":1,"name":"a"}\n\n{"id":2,"name":\n');
    const error = await readError(file);
    expect(error).toBeInstanceOf(JsonlLineError);
    expect(error.message).toMatch(new RegExp(`^${escapeRegExp(file)}:3: not valid JSON \\(`));
    expect(error).toMatchObject({ file, line: 3 });
  });

  it('a line that fails the schema stops with FILE:LINE: what was expected → at field.path', async () => {
    const file = join(freshDir(), 'qa.jsonl');
    const bad = {
      qa_pair: { ...QA, answer: 7 },
      validation: {
        uses_source_fact: true,
        realistic_question: true,
        sensible_answer: true,
        passed: true,
        feedback: '',
      },
    };
    writeFileSync(file, `${JSON.stringify({ ...bad, qa_pair: QA })}\n${JSON.stringify(bad)}\n`);
    const error = await readError(file, ValidatedQAPair);
    expect(error.message).toBe(`${file}:2: expected string, received number → at qa_pair.answer`);
  });

  it('an empty file is an error unless allowed', async () => {
    const file = join(freshDir(), 'empty.jsonl');
    writeFileSync(file, '\n\n');
    const error = await readError(file);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(`${file}: empty, expected at least one JSONL row`);
    expect(await readJsonl(file, Row, { allowEmpty: true })).toEqual([]);
  });

  it('a missing file names the fix', async () => {
    const file = join(freshDir(), 'qa_pairs.jsonl');
    const error = await readError(file, QAPair, { missingHint: 'run stage 1 first: npx tsx 1_extract_qa.ts' });
    expect(error.message).toBe(`${file}: not found — run stage 1 first: npx tsx 1_extract_qa.ts`);
    expect((await readError(file)).message).toBe(`${file}: not found`);
  });

  it('a directory is not a file', async () => {
    const dir = freshDir();
    expect((await readError(dir)).message).toBe(`${dir}: is a directory, expected a file`);
  });
});

describe('atomic writing', () => {
  it('writes one JSON object per line and counts them', async () => {
    const file = join(freshDir(), 'out', 'nested', 'rows.jsonl');
    expect(
      await writeJsonl(file, [
        { id: 1, name: 'a' },
        { id: 2, name: 'é\n"' },
      ]),
    ).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe('{"id":1,"name":"a"}\n{"id":2,"name":"é\\n\\""}\n');
    expect(await readJsonl(file, Row)).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'é\n"' },
    ]);
  });

  it('shows nothing at the target until commit, and leaves the old version in place meanwhile', async () => {
    const dir = freshDir();
    const file = join(dir, 'rows.jsonl');
    writeFileSync(file, '{"id":0,"name":"old"}\n');
    const writer = new AtomicJsonlWriter(file);
    for (let i = 0; i < 2000; i++) await writer.write({ id: i, name: 'x'.repeat(100) });
    expect(readFileSync(file, 'utf8')).toBe('{"id":0,"name":"old"}\n');
    await writer.commit();
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(2001);
    expect(readdirSync(dir)).toEqual(['rows.jsonl']);
  });

  it('abort leaves no file at all, even right after the writer was created', async () => {
    const dir = freshDir();
    const writer = new AtomicJsonlWriter(join(dir, 'rows.jsonl'));
    await writer.write({ id: 1, name: 'a' });
    await writer.abort();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('abort keeps the previous version of the file', async () => {
    const dir = freshDir();
    const file = join(dir, 'rows.jsonl');
    writeFileSync(file, 'previous\n');
    const writer = new AtomicJsonlWriter(file);
    await writer.write({ id: 1, name: 'a' });
    await writer.abort();
    expect(readdirSync(dir)).toEqual(['rows.jsonl']);
    expect(readFileSync(file, 'utf8')).toBe('previous\n');
  });

  it('a producer that throws part-way leaves no partial file', async () => {
    const dir = freshDir();
    const file = join(dir, 'rows.jsonl');
    function* rows() {
      yield { id: 1, name: 'a' };
      yield { id: 2, name: 'b' };
      throw new Error('producer failed');
    }
    await expect(writeJsonl(file, rows())).rejects.toThrow('producer failed');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a write error (disk full) rejects with the file named instead of hanging, and leaves nothing', async () => {
    const dir = freshDir();
    const file = join(dir, 'rows.jsonl');
    // The writer's temporary file is <file>.<pid>.tmp: pointing it at /dev/full makes every write fail with ENOSPC.
    symlinkSync('/dev/full', `${file}.${process.pid}.tmp`);
    const big = Array.from({ length: 200 }, (_, i) => ({ id: i, name: 'x'.repeat(10_000) }));
    const error = await writeJsonl(file, big).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(InputError);
    expect(error!.message).toMatch(new RegExp(`^${escapeRegExp(file)}: could not be written \\(ENOSPC`));
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  }, 5_000);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
