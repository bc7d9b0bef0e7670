// The per-item checkpoint that makes a stage resumable: save/take, kill -9 leftovers, compaction and --fresh.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../src/io/checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'checkpoint-'));
let n = 0;
function fileIn(): { dir: string; file: string } {
  const dir = join(root, `case-${n++}`);
  mkdirSync(dir);
  return { dir, file: join(dir, 'qa_pairs.jsonl.checkpoint.jsonl') };
}
const keysOf = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { key: string }).key);

describe('Checkpoint', () => {
  it('starts empty when there is no file, and creates none until something is saved', () => {
    const { file } = fileIn();
    const checkpoint = new Checkpoint(file);
    expect(checkpoint.size).toBe(0);
    expect(checkpoint.has('k')).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  it('saves results durably; a later run takes each one exactly once', () => {
    const { file } = fileIn();
    const first = new Checkpoint(file);
    first.save('k1', 'chunk-1', { qa: [1, 2, 3] });
    first.save('k2', 'chunk-2', null);
    expect(first.has('k1')).toBe(true);
    expect(first.size).toBe(2);

    const second = new Checkpoint(file);
    expect(second.size).toBe(2);
    expect(second.has('k1')).toBe(true);
    expect(second.take('k1')).toEqual({ qa: [1, 2, 3] });
    expect(second.take('k1')).toBeUndefined();
    expect(second.has('k1')).toBe(true);
    expect(second.take('k2')).toBeNull();
    expect(second.take('nope')).toBeUndefined();
    expect(second.has('nope')).toBe(false);
  });

  it('ignores a truncated last line (kill -9 mid-append) and loses nothing saved after it', () => {
    const { file } = fileIn();
    const first = new Checkpoint(file);
    first.save('k1', 'a', 'one');
    appendFileSync(file, '{"key":"k2","id":"b","resu'); // the process died here
    const second = new Checkpoint(file);
    expect(second.has('k1')).toBe(true);
    expect(second.has('k2')).toBe(false);
    second.save('k3', 'c', 'three');
    const third = new Checkpoint(file);
    expect(third.take('k1')).toBe('one');
    expect(third.take('k3')).toBe('three');
    expect(third.has('k2')).toBe(false);
  });

  it('skips garbage lines and lines without a string key', () => {
    const { file } = fileIn();
    writeFileSync(
      file,
      [
        'null',
        '42',
        '{"id":"x","result":1}',
        '{"key":5,"result":1}',
        'not json',
        '{"key":"ok","id":"y","result":2}',
        '',
      ].join('\n'),
    );
    const checkpoint = new Checkpoint(file);
    expect(checkpoint.size).toBe(1);
    expect(checkpoint.take('ok')).toBe(2);
  });

  it('compact keeps every answer once — used or not — and drops torn lines, leaving no temporary file', async () => {
    const { dir, file } = fileIn();
    const old = new Checkpoint(file);
    old.save('unused', 's', 0);
    old.save('reused', 'r', 1);
    appendFileSync(file, '{"key":"torn","id":"t","res');
    const run = new Checkpoint(file);
    expect(run.take('reused')).toBe(1);
    run.save('new', 'n', 2);
    run.save('new', 'n', 3);
    await run.compact();
    expect(keysOf(file)).toEqual(['unused', 'reused', 'new']);
    expect(readdirSync(dir)).toEqual(['qa_pairs.jsonl.checkpoint.jsonl']);
    const next = new Checkpoint(file);
    expect(next.take('unused')).toBe(0);
    expect(next.take('reused')).toBe(1);
    expect(next.take('new')).toBe(2);
  });

  it('compact without a file does nothing', async () => {
    const { dir, file } = fileIn();
    await new Checkpoint(file).compact();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fresh deletes what earlier runs saved', () => {
    const { file } = fileIn();
    new Checkpoint(file).save('k1', 'a', 1);
    const fresh = new Checkpoint(file, true);
    expect(existsSync(file)).toBe(false);
    expect(fresh.size).toBe(0);
    expect(fresh.take('k1')).toBeUndefined();
    fresh.save('k2', 'b', 2);
    expect(keysOf(file)).toEqual(['k2']);
  });

  it('reads a file many times its chunk size, with lines longer than a chunk and characters split across chunks', async () => {
    const { file } = fileIn();
    const long = 'é€😀'.repeat(40) + 'x'.repeat(300);
    const first = new Checkpoint(file);
    for (let i = 0; i < 50; i++) first.save(`k${i}`, `item-${i}`, { text: `${i}:${long}` });
    // The same lines again, and again, as two runs that re-asked the same items would leave them.
    const once = readFileSync(file, 'utf8');
    appendFileSync(file, once.replace(/"text":"/g, '"text":"later '));
    appendFileSync(file, once);
    // Chunks of 7 bytes: every line (≈ 700 bytes) spans a hundred reads; a reader that held the file whole would
    // pass too, but one that decoded chunk by chunk would break the 2–4-byte characters and lose the answers.
    const run = new Checkpoint(file, false, 7);
    expect(run.size).toBe(50);
    for (let i = 0; i < 50; i++) expect(run.take(`k${i}`)).toEqual({ text: `${i}:${long}` });
    await run.compact();
    expect(keysOf(file)).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`));
    expect(readFileSync(file, 'utf8')).toBe(once);
  });
});
