// Splits the facts markdown into one-line chunks with surrounding context, as the original's parse_markdown_chunks.
import { readFileSync } from 'node:fs';
import { InputError } from './errors.js';
import { assertReadable } from './jsonl.js';
import { decodeText, fitChunk } from './text_input.js';

export interface Chunk {
  /** 1-based line number in the facts file, for error messages and ids. */
  line: number;
  source_text: string;
  context_before: string;
  context_after: string;
  /** Which piece of a line too long for one chunk (1-based; see text_input.ts); absent when the line fits. */
  part?: number;
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
  // Binary or non-UTF-8 bytes are refused here, before any call; an over-long line is split or refused.
  const text = decodeText(readFileSync(file), file);
  if (!text.trim()) throw new InputError(`${file}: the facts file is empty`);
  const chunks = chunkMarkdown(text).flatMap((chunk) => fitChunk(chunk, file));
  if (!chunks.length) throw new InputError(`${file}: no chunkable line (expected lines starting with *, - or #, or longer than ${LONG_LINE} characters)`);
  return { text, chunks };
}
