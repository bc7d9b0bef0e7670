// Turns the blocks of a structured document (HTML, PDF) into chunks: headings become the section of what follows,
// paragraphs and list items with enough words become chunks, each with its neighbours as context.
import { SectionPath, type Chunk } from '../chunking.js';
import { isAsOfLine } from '../future_years.js';

export interface Block {
  kind: 'heading' | 'paragraph' | 'item';
  text: string;
  /** 1-based line in the file (HTML source line; PDF text-layer line). */
  line: number;
  /** Heading level 1–6. */
  level?: number;
  /** 1-based page, for PDFs. */
  page?: number;
}

// A paragraph or item of fewer words is a label ("Read more", "Contact us"), not a fact.
export const MIN_WORDS = 4;
// Context is the neighbouring blocks; a block can be a long paragraph, so each side is capped.
const CONTEXT_CHARS = 800;

function words(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

function context(blocks: Block[], from: number, to: number, keepEnd: boolean): string {
  const text = blocks
    .slice(Math.max(0, from), Math.max(0, to))
    .map((b) => b.text)
    .join('\n');
  if (text.length <= CONTEXT_CHARS) return text;
  return keepEnd ? text.slice(-CONTEXT_CHARS) : text.slice(0, CONTEXT_CHARS);
}

export function blocksToChunks(blocks: Block[], contextLines = 3): Chunk[] {
  const chunks: Chunk[] = [];
  const section = new SectionPath();
  blocks.forEach((block, i) => {
    if (block.kind === 'heading') {
      section.enter(block.level ?? 1, block.text);
      return;
    }
    // The `As of:` block dates the facts and is not one (markdown skips its line likewise).
    if (words(block.text) < MIN_WORDS || isAsOfLine(block.text)) return;
    const where = section.current;
    chunks.push({
      line: block.line,
      source_text: block.text,
      context_before: context(blocks, i - contextLines, i, true),
      context_after: context(blocks, i + 1, i + 1 + contextLines, false),
      ...(where ? { section: where } : {}),
      ...(block.page ? { source_location: `page ${block.page}` } : {}),
    });
  });
  return chunks;
}
