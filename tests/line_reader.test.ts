// Reading a file line by line in fixed chunks: boundaries, multi-byte characters, CRLF and a last line cut short.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forEachLine, forEachLineSync } from '../src/io/line_reader.js';

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
