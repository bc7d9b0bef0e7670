// Stage 1 chunking: which lines of the facts file become chunks, and the context each one carries.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkMarkdown } from '../src/chunking.js';
import { readSources } from '../src/sources/read_sources.js';

const LONG = 'This plain sentence has no marker but is comfortably longer than fifty chars.';

describe('chunkMarkdown', () => {
  it('skips blank, --- and **As of:** lines, and short unmarked lines', () => {
    const text = [
      '',
      '   ',
      '---',
      '--- more dashes',
      '**As of:** November 2026',
      'Short unmarked line.',
      'x'.repeat(50),
    ].join('\n');
    expect(chunkMarkdown(text)).toEqual([]);
  });

  it('turns *, - and longer-than-50 lines into chunks, trimmed; a # heading is not one', () => {
    const text = [
      '# Title',
      '  * a bullet  ',
      '- a dash item',
      '**Bold** start',
      '#1 seller',
      'x'.repeat(51),
      LONG,
    ].join('\n');
    expect(chunkMarkdown(text).map((c) => c.source_text)).toEqual([
      '* a bullet',
      '- a dash item',
      '**Bold** start',
      '#1 seller',
      'x'.repeat(51),
      LONG,
    ]);
  });

  it('makes headings the section of the chunks under them', () => {
    const chunks = chunkMarkdown(
      '# Harbor Lane Company Facts\n## Pricing\n### Wholesale\n* Ten kettles cost 400 euros.\n## Shipping\n* Orders ship in two days.',
    );
    expect(chunks.map((c) => c.source_text)).toEqual(['* Ten kettles cost 400 euros.', '* Orders ship in two days.']);
    expect(chunks.map((c) => c.section)).toEqual([
      'Harbor Lane Company Facts › Pricing › Wholesale',
      'Harbor Lane Company Facts › Shipping',
    ]);
  });

  it('numbers chunks by their 1-based line in the file', () => {
    expect(chunkMarkdown('\n\n# Heading\n\n* fact').map((c) => c.line)).toEqual([5]);
  });

  it('gives three raw lines of context on each side, skipped lines included', () => {
    const lines = ['# H', '', '---', 'short', '* focus', 'tiny', '', '* next', '* later'];
    const chunks = chunkMarkdown(lines.join('\n'));
    const focus = chunks.find((c) => c.source_text === '* focus')!;
    expect(focus.context_before).toBe('---\nshort');
    expect(focus.context_after).toBe('tiny\n\n* next');
    // '# H' is a heading, not a chunk: the first chunk is '* focus'.
    expect(chunks[0]!.source_text).toBe('* focus');
    expect(chunks[0]!.section).toBe('H');
    const last = chunks.at(-1)!;
    expect(last.source_text).toBe('* later');
    expect(last.context_before).toBe('tiny\n\n* next');
    expect(last.context_after).toBe('');
  });

  it('uses exactly contextLines lines (not more) on each side', () => {
    const lines = ['* a', '* b', '* c', '* d', '* e', '* f', '* g'];
    const middle = chunkMarkdown(lines.join('\n'))[3]!;
    expect(middle.source_text).toBe('* d');
    expect(middle.context_before).toBe('* a\n* b\n* c');
    expect(middle.context_after).toBe('* e\n* f\n* g');
    expect(chunkMarkdown(lines.join('\n'), 1)[3]!.context_before).toBe('* c');
  });

  it('handles CRLF line endings', () => {
    const chunks = chunkMarkdown('# T\r\n* one\r\n* two\r\n');
    expect(chunks.map((c) => c.source_text)).toEqual(['* one', '* two']);
    expect(chunks[1]!.context_before).toBe('# T\n* one');
    expect(chunks[0]!.context_after).not.toContain('\r');
  });
});

describe('the real data/swap_facts.md', () => {
  const file = join(import.meta.dirname, '..', 'data', 'swap_facts.md');
  const text = readFileSync(file, 'utf8');

  it('yields as many chunks as the rule gives, counted independently', () => {
    let expected = 0;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line === '' || /^---/.test(line) || /^\*\*As of:\*\*/.test(line)) continue;
      if (/^#{1,6}(\s|$)/.test(line)) continue; // headings are sections, not chunks
      if (/^[*#-]/.test(line) || [...line].length > 50) expected++;
    }
    const chunks = chunkMarkdown(text);
    expect(expected).toBeGreaterThan(100);
    expect(chunks).toHaveLength(expected);
    // 131 before headings became sections: the 11 heading lines are no longer chunks.
    expect(chunks).toHaveLength(120);
    // Every chunk is a distinct line, in file order.
    const lines = chunks.map((c) => c.line);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);
    expect(new Set(lines).size).toBe(lines.length);
    expect(chunks.some((c) => c.source_text.startsWith('**As of:**'))).toBe(false);
  });
});

describe('readSources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chunking-'));

  it('names the file and the fix when it is missing', async () => {
    await expect(readSources([join(dir, 'nope.md')])).rejects.toThrow(/nope\.md: not found — pass --input PATH/);
  });

  it('rejects an empty facts file', async () => {
    const file = join(dir, 'empty.md');
    writeFileSync(file, '\n  \n');
    await expect(readSources([file])).rejects.toThrow(`${file}: the facts file is empty`);
  });

  it('rejects a file with nothing chunkable', async () => {
    const file = join(dir, 'short.md');
    writeFileSync(file, 'hello\n---\n');
    await expect(readSources([file])).rejects.toThrow(/short\.md: no chunkable line/);
  });
});
