// Splits the facts markdown into one-line chunks with surrounding context, as the original's parse_markdown_chunks.
import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';
import { assertReadable } from './jsonl.js';

export interface Chunk {
  /** 1-based line number in the facts file, for error messages and ids. */
  line: number;
  source_text: string;
  context_before: string;
  context_after: string;
}

// Lines longer than this are facts even without a bullet or heading marker.
const LONG_LINE = 50;

export function chunkMarkdown(text: string, contextLines = 3): Chunk[] {
  const lines = text.split(/\r?\n/);
  const chunks: Chunk[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('---') || line.startsWith('**As of:**')) return;
    if (!(line.startsWith('*') || line.startsWith('-') || line.startsWith('#') || line.length > LONG_LINE)) return;
    chunks.push({
      line: i + 1,
      source_text: line,
      context_before: lines.slice(Math.max(0, i - contextLines), i).join('\n').trim(),
      context_after: lines.slice(i + 1, i + 1 + contextLines).join('\n').trim(),
    });
  });
  return chunks;
}

export function readFacts(file: string): { text: string; chunks: Chunk[] } {
  assertReadable(file, 'pass --facts PATH or put your facts at data/swap_facts.md');
  const text = readFileSync(file, 'utf8');
  if (!text.trim()) throw new InputError(`${file}: the facts file is empty`);
  const chunks = chunkMarkdown(text);
  if (!chunks.length) throw new InputError(`${file}: no chunkable line (expected lines starting with *, - or #, or longer than ${LONG_LINE} characters)`);
  return { text, chunks };
}
