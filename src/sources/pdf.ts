// Reads a PDF's text layer as blocks: lines rebuilt from positioned text items, larger type as headings, a bullet or
// a wider vertical gap as the start of a new item or paragraph. unpdf bundles PDF.js for Node with no native code.
import { extractTextItems, getDocumentProxy, type StructuredTextItem } from 'unpdf';
import type { Block } from './blocks.js';

interface Line {
  text: string;
  y: number;
  size: number;
  page: number;
  /** 1-based across the document, pages in order. */
  number: number;
}

const BULLET = /^([•◦▪‣∙●○■□✓–—*-]|\d{1,3}[.)])\s+/;
// Type this much larger than the body is a heading.
const HEADING_RATIO = 1.15;
// A vertical step this many times the type size or more starts a new paragraph.
const PARAGRAPH_GAP = 1.6;

function pageLines(items: StructuredTextItem[], page: number): Omit<Line, 'number'>[] {
  const lines: Omit<Line, 'number'>[] = [];
  let current: (Omit<Line, 'number'> & { end: number }) | undefined;
  for (const item of items) {
    if (!item.str) continue;
    const size = item.fontSize || item.height || 1;
    const sameLine = current && Math.abs(current.y - item.y) < size * 0.5;
    if (current && sameLine) {
      const gap = item.x - current.end;
      const space = !/\s$/.test(current.text) && !/^\s/.test(item.str) && gap > size * 0.15;
      current.text += (space ? ' ' : '') + item.str;
      current.size = Math.max(current.size, size);
      current.end = item.x + item.width;
    } else {
      if (current) lines.push(current);
      current = { text: item.str, y: item.y, size, page, end: item.x + item.width };
    }
    if (item.hasEOL && current) {
      lines.push(current);
      current = undefined;
    }
  }
  if (current) lines.push(current);
  return lines
    .map(({ text, y, size }) => ({ text: text.replace(/\s+/g, ' ').trim(), y, size, page }))
    .filter((l) => l.text);
}

/** The size most of the text is set in, weighted by characters. */
function bodySize(lines: Line[]): number {
  const chars = new Map<number, number>();
  for (const l of lines)
    chars.set(Math.round(l.size * 10) / 10, (chars.get(Math.round(l.size * 10) / 10) ?? 0) + l.text.length);
  return [...chars.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
}

function join(a: string, b: string): string {
  // A word broken across lines ("ship-" / "ping") is one word again.
  return /\p{Ll}-$/u.test(a) && /^\p{Ll}/u.test(b) ? a.slice(0, -1) + b : `${a} ${b}`;
}

export function linesToBlocks(lines: Line[]): Block[] {
  const body = bodySize(lines);
  const isHeading = (l: Line) => l.size >= body * HEADING_RATIO && l.text.length <= 120 && !BULLET.test(l.text);
  // The largest heading type is level 1, the next level 2, and so on.
  const headingSizes = [...new Set(lines.filter(isHeading).map((l) => Math.round(l.size * 10) / 10))].sort(
    (a, b) => b - a,
  );
  const blocks: Block[] = [];
  let prev: Line | undefined;
  for (const line of lines) {
    if (isHeading(line)) {
      const level = Math.min(6, headingSizes.indexOf(Math.round(line.size * 10) / 10) + 1);
      const last = blocks.at(-1);
      // A heading set on two lines is one heading.
      if (
        last?.kind === 'heading' &&
        last.level === level &&
        prev &&
        prev.page === line.page &&
        prev.y - line.y < line.size * PARAGRAPH_GAP
      )
        last.text = join(last.text, line.text);
      else blocks.push({ kind: 'heading', text: line.text, line: line.number, level, page: line.page });
      prev = line;
      continue;
    }
    const last = blocks.at(-1);
    const continues =
      last &&
      last.kind !== 'heading' &&
      prev &&
      prev.page === line.page &&
      !BULLET.test(line.text) &&
      prev.y - line.y < Math.max(prev.size, line.size) * PARAGRAPH_GAP;
    if (continues) last.text = join(last.text, line.text);
    else
      blocks.push({
        kind: BULLET.test(line.text) ? 'item' : 'paragraph',
        text: line.text,
        line: line.number,
        page: line.page,
      });
    prev = line;
  }
  return blocks;
}

/** The blocks of a PDF's text layer; throws when the bytes are not a PDF PDF.js can open. */
export async function pdfBlocks(bytes: Uint8Array): Promise<Block[]> {
  // verbosity 0: PDF.js would otherwise print its own warnings ("Indexing all PDF objects") to the console.
  const doc = await getDocumentProxy(bytes, { verbosity: 0 });
  try {
    const { items } = await extractTextItems(doc);
    let n = 0;
    const lines = items.flatMap((pageItems, i) => pageLines(pageItems, i + 1)).map((l) => ({ ...l, number: ++n }));
    return linesToBlocks(lines);
  } finally {
    await doc.destroy();
  }
}
