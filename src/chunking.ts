// Splits markdown or plain-text facts into one-line chunks with surrounding context, as the original's
// parse_markdown_chunks — except that a heading is not a chunk but the section of the chunks under it.

export interface Chunk {
  /** 1-based line number in its file (for a PDF: in the text layer, pages in order), for error messages and ids. */
  line: number;
  source_text: string;
  context_before: string;
  context_after: string;
  /** The headings above the chunk, outermost first, joined by " › " ("Pricing › Wholesale"); absent at the top. */
  section?: string;
  /** The file it came from, as given on the command line or found in a folder. */
  source_file?: string;
  /** Where in that file: "line 12", or "page 3" for a PDF. */
  source_location?: string;
  /** Which piece of a line too long for one chunk (1-based; see text_input.ts); absent when the line fits. */
  part?: number;
}

// Lines longer than this are facts even without a bullet or heading marker.
export const LONG_LINE = 50;

export const SECTION_SEPARATOR = ' › ';

// An ATX heading: one to six #, then a space or the end of the line ("#1 seller in Europe" is not one).
const HEADING = /^(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;

/** The heading's level and text, or undefined when the line is not a markdown heading. */
export function markdownHeading(line: string): { level: number; text: string } | undefined {
  const match = HEADING.exec(line);
  if (!match) return undefined;
  return { level: match[1]!.length, text: (match[2] ?? '').replace(/\*\*|__/g, '').trim() };
}

/** The heading path as the chunks under it carry it; empty levels are left out. */
export class SectionPath {
  private readonly levels: string[] = [];

  enter(level: number, text: string): void {
    this.levels.length = level - 1;
    this.levels[level - 1] = text;
  }

  get current(): string | undefined {
    const named = this.levels.filter((t) => t);
    return named.length ? named.join(SECTION_SEPARATOR) : undefined;
  }
}

export function chunkMarkdown(text: string, contextLines = 3): Chunk[] {
  const lines = text.split(/\r?\n/);
  const chunks: Chunk[] = [];
  const section = new SectionPath();
  let fence: string | undefined;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    // Inside a fenced code block a `#` is a comment, not a heading; the line rule still applies to its lines.
    const fenceMark = /^(```|~~~)/.exec(line)?.[1];
    if (fenceMark) fence = fence === fenceMark ? undefined : (fence ?? fenceMark);
    const heading = fence ? undefined : markdownHeading(line);
    if (heading) {
      section.enter(heading.level, heading.text);
      return;
    }
    if (!line || line.startsWith('---') || line.startsWith('**As of:**')) return;
    if (!(line.startsWith('*') || line.startsWith('-') || line.startsWith('#') || line.length > LONG_LINE)) return;
    const where = section.current;
    chunks.push({
      line: i + 1,
      source_text: line,
      context_before: lines
        .slice(Math.max(0, i - contextLines), i)
        .join('\n')
        .trim(),
      context_after: lines
        .slice(i + 1, i + 1 + contextLines)
        .join('\n')
        .trim(),
      ...(where ? { section: where } : {}),
    });
  });
  return chunks;
}
