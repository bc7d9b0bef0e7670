// Facts from a folder of markdown, HTML and PDF: chunks from all three, each naming its file; bad files named.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSources } from '../src/sources/read_sources.js';
import { tinyPdf } from './support/tiny_pdf.js';

const dir = mkdtempSync(join(tmpdir(), 'sources-'));
const folder = join(dir, 'facts');
mkdirSync(folder);
writeFileSync(
  join(folder, 'a_facts.md'),
  '# Harbor Lane Company Facts\n\n**As of:** March 2025\n\n## Pricing\n* Wholesale kettles cost 40 euros each in boxes of ten.\n',
);
writeFileSync(
  join(folder, 'b_page.html'),
  '<html><head><style>p{}</style><script>var x = "no";</script></head><body><nav><ul><li>Home page link list item</li></ul></nav><main><h1>Shipping</h1><p>Harbor Lane ships every kettle order within two working days.</p><ul><li>Returns are accepted within thirty days of delivery.</li></ul></main></body></html>',
);
writeFileSync(
  join(folder, 'c_doc.pdf'),
  tinyPdf([
    [
      { text: 'Warranty', size: 18 },
      { text: 'Every Harbor Lane kettle carries a five year warranty.', gap: 8 },
    ],
  ]),
);

describe('readSources on a folder', () => {
  it('yields chunks from markdown, HTML and PDF, each naming its file and place', async () => {
    const { chunks, files, cutoff } = await readSources([folder]);
    expect(files.map((f) => f.format)).toEqual(['markdown', 'html', 'pdf']);
    expect(chunks.map((c) => [c.source_file, c.source_text, c.section, c.source_location])).toEqual([
      [
        join(folder, 'a_facts.md'),
        '* Wholesale kettles cost 40 euros each in boxes of ten.',
        'Harbor Lane Company Facts › Pricing',
        'line 6',
      ],
      [
        join(folder, 'b_page.html'),
        'Harbor Lane ships every kettle order within two working days.',
        'Shipping',
        'line 1',
      ],
      [join(folder, 'b_page.html'), 'Returns are accepted within thirty days of delivery.', 'Shipping', 'line 1'],
      [join(folder, 'c_doc.pdf'), 'Every Harbor Lane kettle carries a five year warranty.', 'Warranty', 'page 1'],
    ]);
    // No chunk is a heading, nav or script text; files without an As-of year take the run's.
    expect(chunks.some((c) => /Harbor Lane Company Facts$|Home page|var x/.test(c.source_text))).toBe(false);
    expect(cutoff(join(folder, 'c_doc.pdf'))).toBe(2025);
  });

  it('names a bad file and stops, or skips it with --on-bad-file skip', async () => {
    const bad = join(dir, 'broken.pdf');
    writeFileSync(bad, '%PDF-1.4 not really');
    const good = join(folder, 'a_facts.md');
    await expect(readSources([good, bad])).rejects.toThrow(`${bad}: not a PDF that can be read`);
    const notes: string[] = [];
    const { files } = await readSources([good, bad], { onBadFile: 'skip', note: (l) => notes.push(l) });
    expect(files.map((f) => f.file)).toEqual([good]);
    expect(notes).toEqual([
      expect.stringMatching(new RegExp(`^skipped ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `)),
    ]);
  });
});
