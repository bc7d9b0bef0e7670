// Facts that are not text are refused in one line; UTF-16 with a BOM is read; no chunk outgrows its input budget.
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import {
  CHUNK_BUDGET_CHARS,
  CONTEXT_BUDGET_CHARS,
  decodeText,
  fitChunk,
  MAX_LINE_CHARS,
  splitText,
} from '../src/text_input.js';

const refusal = (bytes: Buffer): string => {
  try {
    decodeText(bytes, 'facts.md');
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('decodeText did not refuse the bytes');
};

describe('decodeText', () => {
  it('reads UTF-8, dropping a BOM', () => {
    expect(decodeText(Buffer.from('* fact — één\n'), 'f')).toBe('* fact — één\n');
    expect(decodeText(Buffer.from('\ufeff* fact\n'), 'f')).toBe('* fact\n');
  });

  it('reads UTF-16 with a byte order mark, little- or big-endian', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('* fact é\n', 'utf16le')]);
    expect(decodeText(le, 'f')).toBe('* fact é\n');
    const be = Buffer.from(le.subarray(2)).swap16();
    expect(decodeText(Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 'f')).toBe('* fact é\n');
  });

  it('refuses binary (an ELF header), naming the file, line and byte', () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(56)]);
    expect(refusal(elf)).toBe('facts.md:1: not a text file (a NUL byte at byte 8): expected UTF-8 text');
  });

  it('refuses UTF-16 without a BOM (NULs between the letters) and invalid UTF-8, at the right line', () => {
    expect(refusal(Buffer.from('* fact\n', 'utf16le'))).toMatch(
      /^facts\.md:1: not a text file \(a NUL byte at byte 2\)/,
    );
    expect(refusal(Buffer.concat([Buffer.from('* one\n* two\n* caf'), Buffer.from([0xe9]), Buffer.from('\n')]))).toBe(
      'facts.md:3: not UTF-8 text (byte 0xe9 at byte 18): save the file as UTF-8',
    );
    expect(refusal(Buffer.from([0x2a, 0x20, 0xc3]))).toMatch(/^facts\.md:1: not UTF-8 text \(byte 0xc3 at byte 3\)/);
  });
});

describe('fitChunk', () => {
  const chunk = (source_text: string, context = '') => ({
    line: 7,
    source_text,
    context_before: context,
    context_after: context,
  });

  it('leaves a chunk within the budget as it is', () => {
    const c = chunk('* Swap ships in 40 countries.', 'ctx');
    expect(fitChunk(c, 'f')).toEqual([c]);
  });

  it('splits a long line at sentence ends into pieces within the budget, losing no word', () => {
    const sentence = 'Swap Commerce handles cross-border returns for online merchants in many countries. ';
    const line = sentence.repeat(Math.ceil((CHUNK_BUDGET_CHARS * 3.5) / sentence.length)).trim();
    const pieces = fitChunk(chunk(line, 'x'.repeat(CONTEXT_BUDGET_CHARS * 3)), 'f');
    expect(pieces.length).toBe(4);
    for (const [i, p] of pieces.entries()) {
      expect(p.source_text.length).toBeLessThanOrEqual(CHUNK_BUDGET_CHARS);
      expect(p.source_text).toMatch(/countries\.$/);
      expect((p as { part?: number }).part).toBe(i + 1);
      expect(p.line).toBe(7);
      expect(p.context_before.length).toBe(CONTEXT_BUDGET_CHARS);
      expect(p.context_after.length).toBe(CONTEXT_BUDGET_CHARS);
    }
    expect(pieces.map((p) => p.source_text).join(' ')).toBe(line);
  });

  it('cuts text without sentence ends at spaces, and text without spaces anywhere', () => {
    const words = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ');
    const pieces = splitText(words, 1000);
    expect(pieces.every((p) => p.length <= 1000)).toBe(true);
    expect(pieces.join(' ')).toBe(words);
    expect(splitText('x'.repeat(2500), 1000).map((p) => p.length)).toEqual([1000, 1000, 500]);
  });

  it('refuses a line too long to be a fact (a 20 MB line is not split into thousands of calls)', () => {
    expect(() => fitChunk(chunk('a'.repeat(MAX_LINE_CHARS + 1)), 'facts.md')).toThrow(
      /^facts\.md:7: a line of 120,001 characters \(~30,000 tokens\) is too long for one fact/,
    );
  });
});
