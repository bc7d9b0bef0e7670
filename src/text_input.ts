// Facts must be text a model can take: a file's bytes decoded (UTF-8, or UTF-16 with a BOM) or refused in one line,
// and each chunk kept within an input budget (a long line split at sentence boundaries, an absurd one refused).
import { isUtf8 } from 'node:buffer';
import { InputError } from './errors.js';
import { CHARS_PER_TOKEN } from './token_estimate.js';

/**
 * The most source text one chunk sends: about 1,500 tokens at four characters a token. A fact line is usually
 * under 500 characters; a longer one is a paragraph pasted as one line, and gets split so each call stays small.
 */
export const CHUNK_BUDGET_CHARS = 6_000;
/** Context lines around a chunk, each side: the nearest characters are kept. */
export const CONTEXT_BUDGET_CHARS = 2_000;
/**
 * A line longer than this is not a fact (a minified file, a dump without line breaks): split, it would become
 * hundreds of paid calls nobody asked for, so it is refused instead.
 */
export const MAX_LINE_CHARS = 120_000;

/**
 * The text of a facts file: UTF-8 (a BOM is dropped) or UTF-16 with a BOM. Anything else — a NUL byte, invalid
 * UTF-8 — is refused with one line naming the file and where, before any call is paid for.
 */
export function decodeText(bytes: Buffer, file: string): string {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = decodeUtf16(bytes, 'utf-16le', file);
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = decodeUtf16(bytes, 'utf-16be', file);
  else {
    const nul = bytes.indexOf(0);
    if (nul >= 0)
      throw new InputError(
        `${file}:${lineAt(bytes, nul)}: not a text file (a NUL byte at byte ${nul + 1}): expected UTF-8 text`,
      );
    if (!isUtf8(bytes)) {
      const bad = firstInvalidUtf8(bytes);
      throw new InputError(
        `${file}:${lineAt(bytes, bad)}: not UTF-8 text (byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at byte ${bad + 1}): save the file as UTF-8`,
      );
    }
    text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  }
  return text;
}

function decodeUtf16(bytes: Buffer, encoding: 'utf-16le' | 'utf-16be', file: string): string {
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new InputError(
      `${file}: not valid ${encoding.toUpperCase()} text (it starts with a ${encoding.toUpperCase()} byte order mark): save the file as UTF-8`,
    );
  }
  const nul = text.indexOf('\0');
  if (nul >= 0)
    throw new InputError(
      `${file}:${text.slice(0, nul).split('\n').length}: not a text file (a NUL character): expected text`,
    );
  return text;
}

/** 1-based line of a byte offset. */
function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(10); i >= 0 && i < offset; i = bytes.indexOf(10, i + 1)) line++;
  return line;
}

/** Offset of the first byte that breaks UTF-8 (only called once isUtf8 said there is one). */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    if (n > 0 && !isUtf8(b.subarray(i, i + n + 1))) return i;
    i += n + 1;
  }
  return Math.max(0, b.length - 1);
}

export interface ChunkText {
  line: number;
  source_text: string;
  context_before: string;
  context_after: string;
  /** Which piece of a split line (1-based); absent when the line fits one chunk. */
  part?: number;
}

/**
 * One chunk as chunks within the budget: a line longer than CHUNK_BUDGET_CHARS becomes several, cut at sentence
 * ends (else at spaces, else anywhere), each with the line's context trimmed to CONTEXT_BUDGET_CHARS a side.
 */
export function fitChunk<C extends ChunkText>(chunk: C, file: string): C[] {
  const length = chunk.source_text.length;
  if (length > MAX_LINE_CHARS)
    throw new InputError(
      `${file}:${chunk.line}: a line of ${length.toLocaleString('en-US')} characters (~${Math.round(length / CHARS_PER_TOKEN).toLocaleString('en-US')} tokens) is too long for one fact (at most ${MAX_LINE_CHARS.toLocaleString('en-US')}): break it into lines or paragraphs`,
    );
  const context_before =
    chunk.context_before.length > CONTEXT_BUDGET_CHARS
      ? chunk.context_before.slice(-CONTEXT_BUDGET_CHARS)
      : chunk.context_before;
  const context_after =
    chunk.context_after.length > CONTEXT_BUDGET_CHARS
      ? chunk.context_after.slice(0, CONTEXT_BUDGET_CHARS)
      : chunk.context_after;
  const trimmed =
    context_before === chunk.context_before && context_after === chunk.context_after
      ? chunk
      : { ...chunk, context_before, context_after };
  if (length <= CHUNK_BUDGET_CHARS) return [trimmed];
  return splitText(chunk.source_text, CHUNK_BUDGET_CHARS).map((source_text, i) => ({
    ...trimmed,
    source_text,
    part: i + 1,
  }));
}

/** Pieces of at most `max` characters, cut after a sentence end where one is near, else at a space, else anywhere. */
export function splitText(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    // The last sentence end in the second half of the window; a cut earlier than that would make tiny pieces.
    let cut = -1;
    const sentence = /[.!?。！？](?=\s)/g;
    for (let m = sentence.exec(window); m; m = sentence.exec(window))
      if (m.index + 1 > max / 2 && m.index + 1 <= max) cut = m.index + 1;
    if (cut < 0) {
      const space = window.lastIndexOf(' ', max);
      cut = space > max / 2 ? space : max;
    }
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) pieces.push(rest);
  return pieces;
}
