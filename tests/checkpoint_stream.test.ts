// A checkpoint is never read as one string: past 512 MiB V8 cannot make that string, and the stage could not resume.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// Any whole-file read of a checkpoint fails the test: the 600 MiB proof itself is bench/checkpoint_bench.ts.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const guarded = ((path: unknown, ...rest: unknown[]) => {
    if (String(path).endsWith('.checkpoint.jsonl')) throw new Error(`read whole: ${String(path)}`);
    return (fs.readFileSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync: guarded }, readFileSync: guarded };
});

const {
  appendFileSync,
  mkdtempSync,
  readFileSync: realReadFileSync,
} = await vi.importActual<typeof import('node:fs')>('node:fs');
const { Checkpoint } = await import('../src/io/checkpoint.js');

describe('Checkpoint on a large file', () => {
  it('loads and compacts a file of repeated lines in small chunks, keeping the first answer of each key', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'checkpoint-stream-')), 'embedded.jsonl.checkpoint.jsonl');
    const first = new Checkpoint(file);
    for (let i = 0; i < 20; i++) first.save(`key-${i}`, `batch-${i}`, { vectors: 'A'.repeat(5000 + i) });
    const once = realReadFileSync(file, 'utf8');
    for (let copy = 0; copy < 30; copy++) appendFileSync(file, once.replaceAll('"A', `"${copy}`));
    const run = new Checkpoint(file, false, 4096);
    expect(run.size).toBe(20);
    expect(run.take('key-3')).toEqual({ vectors: 'A'.repeat(5003) });
    await run.compact();
    expect(realReadFileSync(file, 'utf8')).toBe(once);
  });
});
