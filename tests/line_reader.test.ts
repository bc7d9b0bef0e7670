// Reading a file line by line in fixed chunks: boundaries, multi-byte characters, CRLF and a last line cut short.
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { forEachLine, forEachLineSync, textLines } from '../src/io/line_reader.js';

const dir = mkdtempSync(join(tmpdir(), 'lines-'));
let n = 0;
function fileWith(text: string): string {
  const file = join(dir, `f${n++}.txt`);
  writeFileSync(file, text);
  return file;
}

const TEXT = ['', 'a', '€uro😀', 'b'.repeat(1000), '', 'crlf\r', 'last'].join('\n');
const EXPECTED = ['', 'a', '€uro😀', 'b'.repeat(1000), '', 'crlf', 'last'];

describe('forEachLineSync / forEachLine', () => {
  for (const chunk of [1, 2, 3, 5, 64, 1 << 20]) {
    it(`gives the same lines whatever the chunk size (${chunk} bytes)`, async () => {
      const file = fileWith(TEXT);
      const sync: string[] = [];
      const summary = forEachLineSync(file, (line) => sync.push(line.toString('utf8')), chunk);
      expect(sync).toEqual(EXPECTED);
      expect(summary).toEqual({ bytes: Buffer.byteLength(TEXT), endsWithNewline: false });
      const asynchronous: string[] = [];
      await forEachLine(
        file,
        async (line) => {
          await new Promise((resolve) => setImmediate(resolve));
          asynchronous.push(line.toString('utf8'));
        },
        chunk,
      );
      expect(asynchronous).toEqual(EXPECTED);
    });
  }

  it('says whether the file ends with a newline; an empty file has no lines and needs none', () => {
    const lines: string[] = [];
    expect(forEachLineSync(fileWith('x\n'), (l) => lines.push(l.toString()), 1)).toEqual({
      bytes: 2,
      endsWithNewline: true,
    });
    expect(lines).toEqual(['x']);
    expect(forEachLineSync(fileWith(''), () => lines.push('?'))).toEqual({ bytes: 0, endsWithNewline: true });
    expect(lines).toEqual(['x']);
  });
});

describe('textLines', () => {
  /** What node:readline, which iterateJsonl read with before, makes of the same file. */
  async function readlineLines(file: string): Promise<string[]> {
    const out: string[] = [];
    for await (const line of createInterface({
      input: createReadStream(file, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    }))
      out.push(line);
    return out;
  }

  async function linesOf(file: string, chunk: number): Promise<string[]> {
    const out: string[] = [];
    for await (const batch of textLines(file, chunk)) out.push(...batch);
    return out;
  }

  it('gives the lines node:readline gives: LF, CRLF, a lone CR, blank lines, no final newline, any chunk size', async () => {
    const pieces = ['\n', '\r', '\r\n', '\n\n', 'a', '{"k": 1}', '€', '😀', ' ', 'é'.repeat(5)];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let t = 0; t < 60; t++) {
      const text = Array.from({ length: 1 + (next() % 40) }, () => pieces[next() % pieces.length]).join('');
      const file = fileWith(text);
      const expected = await readlineLines(file);
      for (const chunk of [1, 2, 3, 7, 64, 1 << 20])
        expect(await linesOf(file, chunk), `${JSON.stringify(text)} in chunks of ${chunk}`).toEqual(expected);
    }
  });

  it('reads an empty file as no lines, and stops cleanly when the reader stops early', async () => {
    expect(await linesOf(fileWith(''), 4)).toEqual([]);
    const file = fileWith('one\ntwo\nthree\n');
    for await (const batch of textLines(file, 4)) {
      expect(batch).toEqual(['one']);
      break;
    }
  });
});
