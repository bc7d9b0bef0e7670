// Streams stage 5's embedded JSONL into one Float32Array of vectors plus each row's JSON text without its embedding.
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, JsonlLineError } from '../errors.js';
import { vectorProblem } from '../embedding_check.js';
import { assertReadable } from '../io/jsonl.js';
import { CR, guessDim, scanLine, SPACE, TAB } from './embedded_scan.js';

/*
 * A 100k-row file is ~1.4 GB, 90% of it embedding digits, so the file is read in fixed chunks and never held as
 * text. Each line gets a strict hand-rolled scan: top-level keys are walked, other values skipped (strings with
 * escapes, nested containers), and the "embedding" array parsed digit by digit straight into the Float32Array.
 * Measured on the bench fixture this is faster than JSON.parse per line (see BENCHMARKS.md), allocates no
 * 1024-element JS array per row, and yields the embedding's byte span, so the row minus its embedding is cut from
 * the original bytes and kept as text (~2 kB a row instead of ~15 kB) for the writer.
 * The byte scan is in embedded_scan.ts; anything it does not take (odd whitespace, duplicate keys, invalid JSON)
 * goes to a JSON.parse slow path here, which also produces the error text.
 */

export interface ReadEmbeddedOptions {
  /** Called with each row (embedding removed) and its 1-based line number; throw to reject the row. */
  validateRow?: (row: Record<string, unknown>, line: number) => void;
  /** 'scan' (default) or 'json' (JSON.parse every line; kept for the benchmark's comparison). */
  parser?: 'scan' | 'json';
  /** Said when the file is missing, e.g. "run stage 5 first". */
  missingHint?: string;
  /** An empty file is an error unless allowed. */
  allowEmpty?: boolean;
  /** Read chunk size in bytes. */
  chunkBytes?: number;
}

export interface EmbeddedRows {
  file: string;
  /** Row-major count × dim, as stored in the file (not normalised). */
  vectors: Float32Array;
  dim: number;
  count: number;
  /** judgment.overall_pass per row. */
  passing: Uint8Array;
  /** Each row's JSON text without the embedding member (original bytes, minus the member), for writing kept rows. */
  rows: string[];
  /** 1-based line number of each row (blank lines are skipped but counted). */
  lineNumber: Uint32Array;
}

/** Growable per-row columns; sized from an estimate, grown ×1.5 only if the estimate was short. */
class Columns {
  vectors = new Float32Array(0);
  passing = new Uint8Array(0);
  lineNumber = new Uint32Array(0);
  capacity = 0;
  dim = 0;

  /**
   * Untouched capacity costs no resident memory (large zeroed buffers are mapped lazily), so a generous estimate
   * is cheap; the result is a subarray of it.
   */
  reserve(rows: number, dim: number): void {
    if (rows <= this.capacity && dim === this.dim) return;
    const vectors = new Float32Array(rows * dim);
    if (dim === this.dim) vectors.set(this.vectors.subarray(0, Math.min(this.vectors.length, rows * dim)));
    this.vectors = vectors;
    const passing = new Uint8Array(rows);
    passing.set(this.passing.subarray(0, Math.min(this.passing.length, rows)));
    this.passing = passing;
    const lineNumber = new Uint32Array(rows);
    lineNumber.set(this.lineNumber.subarray(0, Math.min(this.lineNumber.length, rows)));
    this.lineNumber = lineNumber;
    this.capacity = rows;
    this.dim = dim;
  }
}

/** Reads an embedded JSONL file; throws JsonlLineError (FILE:LINE: reason) at the first bad row. */
export function readEmbedded(file: string, opts: ReadEmbeddedOptions = {}): EmbeddedRows {
  const parser = opts.parser ?? 'scan';
  assertReadable(file, opts.missingHint);
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(Math.max(opts.chunkBytes ?? 16 << 20, 1 << 10));
    const cols = new Columns();
    const rows: string[] = [];
    const scratch = { value: [0] };
    let count = 0;
    let line = 0;
    let filled = 0; // bytes in buf
    let bufFileOffset = 0; // file offset of buf[0]
    let eof = false;
    let dim = 0;
    let dimLine = 0;

    const fail = (message: string): never => {
      throw new JsonlLineError(file, line, message);
    };
    const parseRow = (
      s: number,
      e: number,
    ): { found: number; cut: [number, number]; parsed?: Record<string, unknown> } => {
      if (parser === 'scan') {
        const r = scanLine(buf, s, e, cols, count, scratch);
        if (r) return { found: r.dim, cut: [r.cutStart, r.cutEnd] };
      }
      const slow = slowLine(buf, s, e, cols, count, fail);
      return { found: slow.found, cut: [0, 0], parsed: slow.obj };
    };

    for (;;) {
      if (!eof && filled < buf.length) {
        const got = readSync(fd, buf, filled, buf.length - filled, bufFileOffset + filled);
        if (got === 0) eof = true;
        filled += got;
      }
      let start = 0;
      for (;;) {
        let nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= filled) {
          if (!eof || start >= filled) break;
          nl = filled; // last line without a trailing newline
        }
        line++;
        let s = start;
        if (line === 1 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) s = 3;
        let e = nl;
        while (e > s && (buf[e - 1] === CR || buf[e - 1] === SPACE || buf[e - 1] === TAB)) e--;
        while (s < e && (buf[s] === SPACE || buf[s] === TAB)) s++;
        if (s < e) {
          if (count === cols.capacity) {
            // The first row sizes the estimate: file size / its line length, +10%.
            const guess =
              count === 0 ? Math.ceil((size / Math.max(nl - start + 1, 1)) * 1.1) + 16 : Math.ceil(count * 1.5) + 16;
            cols.reserve(guess, dim || guessDim(buf, s, e));
          }
          let { found, cut, parsed } = parseRow(s, e);
          if (dim === 0) {
            if (found === 0) fail('expected a non-empty number array at embedding');
            dim = found;
            dimLine = line;
            if (cols.dim !== dim) {
              cols.reserve(cols.capacity, dim);
              ({ found, cut, parsed } = parseRow(s, e));
            }
          } else if (found !== dim) {
            fail(`expected ${dim} embedding dimensions (as on line ${dimLine}), got ${found}`);
          }
          const problem = vectorProblem(cols.vectors.subarray(count * dim, (count + 1) * dim));
          if (problem) fail(`unusable embedding: ${problem}`);
          const { text, obj } = parsed ? withoutEmbedding(parsed) : parseRest(buf, s, e, cut, fail);
          const judgment = obj.judgment as Record<string, unknown> | undefined;
          const pass = judgment && typeof judgment === 'object' ? judgment.overall_pass : undefined;
          if (typeof pass !== 'boolean') fail('expected boolean at judgment.overall_pass');
          if (opts.validateRow) {
            try {
              opts.validateRow(obj, line);
            } catch (err) {
              if (err instanceof JsonlLineError) throw err;
              fail((err as Error).message);
            }
          }
          cols.passing[count] = pass ? 1 : 0;
          cols.lineNumber[count] = line;
          rows.push(text);
          count++;
        }
        start = nl + 1;
        if (nl >= filled) break;
      }
      if (eof && start >= filled) break;
      // Keep the partial line; a line longer than the buffer doubles it.
      if (start === 0 && filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      } else {
        buf.copy(buf, 0, start, filled);
        filled -= start;
        bufFileOffset += start;
      }
    }
    if (count === 0 && !opts.allowEmpty) throw new InputError(`${file}: empty, expected at least one JSONL row`);
    return {
      file,
      vectors: cols.vectors.subarray(0, count * dim),
      dim,
      count,
      passing: cols.passing.subarray(0, count),
      rows,
      lineNumber: cols.lineNumber.subarray(0, count),
    };
  } finally {
    closeSync(fd);
  }
}

/** Slow path: JSON.parse the whole line; validates the embedding and stores it. */
function slowLine(
  b: Buffer,
  s: number,
  e: number,
  cols: Columns,
  row: number,
  fail: (m: string) => never,
): { found: number; obj: Record<string, unknown> } {
  let obj: unknown;
  try {
    obj = JSON.parse(b.toString('utf8', s, e));
  } catch (err) {
    fail(`not valid JSON: ${(err as Error).message}`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) fail('expected a JSON object');
  const emb = (obj as Record<string, unknown>).embedding;
  if (!Array.isArray(emb)) fail('expected a number array at embedding');
  const list = emb as unknown[];
  const base = row * cols.dim;
  for (let k = 0; k < list.length; k++) {
    const v = list[k];
    if (typeof v !== 'number') fail(`expected number at embedding[${k}], got ${JSON.stringify(v)}`);
    if (k < cols.dim) cols.vectors[base + k] = v as number;
  }
  return { found: list.length, obj: obj as Record<string, unknown> };
}

function withoutEmbedding(obj: Record<string, unknown>): { text: string; obj: Record<string, unknown> } {
  delete obj.embedding;
  return { text: compactText(JSON.stringify(obj)), obj };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range names every ASCII byte, control bytes included
const NON_ASCII = /[^\x00-\x7f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const NON_ASCII_ALL = /[^\x00-\x7f]/g;

/**
 * V8 keeps a string with any character above U+00FF at two bytes per character, and model-written text is full of
 * "—", "’" and emoji; at 100k rows that doubles the ~250 MB of kept row text. Non-ASCII characters (which JSON only
 * allows inside strings) become \u escapes instead: still valid JSON, parsing to the same object.
 */
function compactText(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  const escaped = text.replace(NON_ASCII_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  // replace() on a two-byte string returns a two-byte string even when the result is ASCII; latin1 re-encodes it.
  return Buffer.from(escaped, 'latin1').toString('latin1');
}

/** The row without its embedding, as text and parsed; the fast path cuts the member out of the original bytes. */
function parseRest(
  b: Buffer,
  s: number,
  e: number,
  cut: [number, number],
  fail: (m: string) => never,
): { text: string; obj: Record<string, unknown> } {
  // The embedding is already parsed, so the bytes after it move down over it: decoding one contiguous slice gives
  // one flat string, where concatenating two slices would leave both pieces as old-space garbage (~200 MB at 100k).
  b.copy(b, cut[0], cut[1], e);
  const end = cut[0] + (e - cut[1]);
  const text = isAscii(b.subarray(s, end)) ? b.toString('latin1', s, end) : compactText(b.toString('utf8', s, end));
  let obj: Record<string, unknown> | undefined;
  try {
    obj = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    fail(`not valid JSON: ${(err as Error).message}`);
  }
  return { text, obj: obj! };
}
