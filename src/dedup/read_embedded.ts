// Streams stage 5's embedded JSONL into one Float32Array of vectors plus each row's JSON text without its embedding.
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InputError, JsonlLineError } from '../errors.js';
import { vectorProblem } from '../embedding_check.js';
import { assertReadable } from '../io/jsonl.js';
import { onlyMembers } from '../io/json_text.js';
import { CR, guessDim, SPAN_INTS, scanLine, scanRows, SPACE, TAB } from './embedded_scan.js';
import { ReadWorkers } from './read_workers.js';

/*
 * A 100k-row file is ~1.4 GB, 90% of it embedding digits, so the file is read in fixed chunks and never held as
 * text. Each line gets a strict hand-rolled scan: top-level keys are walked, other values skipped (strings with
 * escapes, nested containers), and the "embedding" array parsed digit by digit straight into the Float32Array.
 * Measured on the bench fixture this is faster than JSON.parse per line (see BENCHMARKS.md), allocates no
 * 1024-element JS array per row, and yields the embedding's byte span, so the row minus its embedding is cut from
 * the original bytes and kept as text (~2 kB a row instead of ~15 kB) for the writer.
 * The byte scan is in embedded_scan.ts; anything it does not take (odd whitespace, a second embedding key, invalid
 * JSON) goes to a JSON.parse slow path here, which also produces the error text.
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
  /** Threads that scan the embeddings; 0 scans on the calling thread. Default: up to 2 for files ≥ 8 MiB. */
  workers?: number;
  /** The members each row's text keeps, in this order (default: all but the embedding). */
  keep?: readonly string[];
}

export interface EmbeddedRows {
  file: string;
  /** Row-major count × dim, as stored in the file (not normalised). */
  vectors: Float32Array;
  dim: number;
  count: number;
  /** judgment.overall_pass per row. */
  passing: Uint8Array;
  /**
   * Each row's JSON text without the embedding member (original bytes, minus the member; only the `keep` members
   * when given), non-ASCII characters as \u escapes, for writing kept rows.
   */
  rows: string[];
  /** 1-based line number of each row (blank lines are skipped but counted). */
  lineNumber: Uint32Array;
}

/** Growable per-row columns; sized from an estimate, grown ×1.5 only if the estimate was short. */
class Columns {
  /** Shared, so the scan threads write rows straight into it. */
  shared = new SharedArrayBuffer(0);
  vectors: Float32Array = new Float32Array(0);
  passing = new Uint8Array(0);
  lineNumber = new Uint32Array(0);
  capacity = 0;
  dim = 0;

  /**
   * Untouched capacity costs no resident memory (large zeroed buffers are mapped lazily), so a generous estimate
   * is cheap; the result is a subarray of it. Only called while no scan thread is running.
   */
  reserve(rows: number, dim: number): void {
    if (rows <= this.capacity && dim === this.dim) return;
    this.shared = new SharedArrayBuffer(rows * dim * 4);
    const vectors = new Float32Array(this.shared);
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

/** One read buffer and its lines: two of them alternate, one scanned by the threads while the other is finished. */
class Chunk {
  shared: SharedArrayBuffer;
  buf: Buffer;
  filled = 0;
  /** Where the partial last line starts (carried into the next chunk); ≥ filled when there is none. */
  tail = 0;
  spanShared = new SharedArrayBuffer(0);
  spans: Int32Array = new Int32Array(0);
  lines = new Uint32Array(0);
  rows = 0;
  /** Row index of the chunk's first row. */
  rowBase = 0;

  constructor(bytes: number) {
    this.shared = new SharedArrayBuffer(bytes);
    this.buf = Buffer.from(this.shared);
  }

  grow(bytes: number): void {
    const shared = new SharedArrayBuffer(bytes);
    const buf = Buffer.from(shared);
    this.buf.copy(buf, 0, 0, this.filled);
    this.shared = shared;
    this.buf = buf;
  }

  addRow(s: number, e: number, line: number): void {
    if (this.rows === this.lines.length) {
      const cap = Math.max(64, this.rows * 2);
      const spanShared = new SharedArrayBuffer(cap * SPAN_INTS * 4);
      const spans = new Int32Array(spanShared);
      spans.set(this.spans);
      const lines = new Uint32Array(cap);
      lines.set(this.lines);
      this.spanShared = spanShared;
      this.spans = spans;
      this.lines = lines;
    }
    this.spans[this.rows * SPAN_INTS] = s;
    this.spans[this.rows * SPAN_INTS + 1] = e;
    this.lines[this.rows++] = line;
  }
}

/** Files from this size on are scanned on worker threads (starting them costs tens of milliseconds). */
const THREADED_MIN_BYTES = 8 << 20;

/** Reads an embedded JSONL file; throws JsonlLineError (FILE:LINE: reason) at the first bad row. */
export function readEmbedded(file: string, opts: ReadEmbeddedOptions = {}): EmbeddedRows {
  const parser = opts.parser ?? 'scan';
  assertReadable(file, opts.missingHint);
  const fd = openSync(file, 'r');
  let pool: ReadWorkers | undefined;
  try {
    const size = fstatSync(fd).size;
    const chunkBytes = Math.max(opts.chunkBytes ?? 16 << 20, 1 << 10);
    const threads =
      parser === 'scan' ? (opts.workers ?? (size >= THREADED_MIN_BYTES ? Math.min(2, availableParallelism()) : 0)) : 0;
    if (threads > 0) pool = new ReadWorkers(threads);
    const cols = new Columns();
    const rows: string[] = [];
    const slots = [new Chunk(chunkBytes), new Chunk(chunkBytes)];
    let fileOffset = 0;
    let eof = false;
    let count = 0; // rows found so far (processed or not)
    let line = 0; // the line an error names
    let lines = 0; // lines found so far
    let dim = 0;
    let dimLine = 0;

    const fail = (message: string): never => {
      throw new JsonlLineError(file, line, message);
    };

    // The next chunk: the previous one's partial last line, then as much of the file as fits (a line longer than
    // the buffer doubles it).
    const fill = (cur: Chunk, prev: Chunk | undefined): void => {
      cur.filled = 0;
      if (prev && prev.tail < prev.filled) {
        const carried = prev.filled - prev.tail;
        if (carried > cur.buf.length) cur.grow(carried * 2);
        prev.buf.copy(cur.buf, 0, prev.tail, prev.filled);
        cur.filled = carried;
      }
      for (;;) {
        while (!eof && cur.filled < cur.buf.length) {
          const got = readSync(fd, cur.buf, cur.filled, cur.buf.length - cur.filled, fileOffset);
          if (got === 0) eof = true;
          cur.filled += got;
          fileOffset += got;
        }
        const nl = cur.buf.indexOf(10);
        if (eof || (nl >= 0 && nl < cur.filled)) return;
        cur.grow(cur.buf.length * 2);
      }
    };

    const span = (c: Chunk): void => {
      c.rows = 0;
      c.rowBase = count;
      const b = c.buf;
      let start = 0;
      for (;;) {
        let nl = b.indexOf(10, start);
        if (nl < 0 || nl >= c.filled) {
          if (!eof || start >= c.filled) break;
          nl = c.filled; // last line without a trailing newline
        }
        lines++;
        let s = start;
        if (lines === 1 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) s = 3;
        let e = nl;
        while (e > s && (b[e - 1] === CR || b[e - 1] === SPACE || b[e - 1] === TAB)) e--;
        while (s < e && (b[s] === SPACE || b[s] === TAB)) s++;
        if (s < e) c.addRow(s, e, lines);
        start = nl + 1;
      }
      c.tail = start;
      count += c.rows;
    };

    // The first row fixes the dimension (and, with the file's size, the first allocation's estimate).
    const firstRow = (c: Chunk): void => {
      const [s, e] = [c.spans[0], c.spans[1]];
      line = c.lines[0];
      cols.reserve(Math.ceil((size / (e - s + 1)) * 1.1) + 16, guessDim(c.buf, s, e));
      const probe = (): number =>
        (parser === 'scan' ? scanLine(c.buf, s, e, cols, 0, { value: [0] })?.dim : undefined) ??
        slowLine(c.buf, s, e, cols, 0, fail).found;
      let found = probe();
      if (found === 0) fail('expected a non-empty number array at embedding');
      if (cols.dim !== found) {
        cols.reserve(cols.capacity, found);
        found = probe();
      }
      dim = found;
      dimLine = line;
    };

    const scan = (c: Chunk): void => {
      if (c.rows === 0) return;
      if (dim === 0) firstRow(c);
      if (count > cols.capacity) cols.reserve(Math.max(count, Math.ceil(cols.capacity * 1.5) + 16), dim);
      if (parser === 'json') {
        for (let r = 0; r < c.rows; r++) c.spans[r * SPAN_INTS + 2] = -1;
      } else if (!pool) {
        scanRows(c.buf, c.spans, 0, c.rows, cols, c.rowBase);
      } else {
        const per = Math.ceil(c.rows / pool.size);
        const tasks = [];
        for (let from = 0; from < c.rows; from += per) {
          tasks.push({
            chunk: c.shared,
            spans: c.spanShared,
            from,
            to: Math.min(c.rows, from + per),
            dim,
            rowBase: c.rowBase,
          });
        }
        pool.start(cols.shared, tasks);
      }
    };

    // Everything that must follow the file's order, for the rows of a scanned chunk.
    const finish = (c: Chunk): void => {
      for (let r = 0; r < c.rows; r++) {
        const row = c.rowBase + r;
        const at = r * SPAN_INTS;
        const s = c.spans[at];
        const e = c.spans[at + 1];
        line = c.lines[r];
        let found = c.spans[at + 2];
        let parsed: Record<string, unknown> | undefined;
        if (found < 0) {
          const slow = slowLine(c.buf, s, e, cols, row, fail);
          found = slow.found;
          parsed = slow.obj;
        }
        if (found !== dim) fail(`expected ${dim} embedding dimensions (as on line ${dimLine}), got ${found}`);
        const problem = vectorProblem(cols.vectors.subarray(row * dim, (row + 1) * dim));
        if (problem) fail(`unusable embedding: ${problem}`);
        const cut: [number, number] = [c.spans[at + 3], c.spans[at + 4]];
        const { text, obj } = parsed ? withoutEmbedding(parsed) : parseRest(c.buf, s, e, cut, fail);
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
        cols.passing[row] = pass ? 1 : 0;
        cols.lineNumber[row] = line;
        rows.push(opts.keep ? compactText(onlyMembers(text, obj, opts.keep)) : text);
      }
    };

    // While the threads scan one chunk, this thread reads the next and finishes the one before.
    let prev: Chunk | undefined;
    for (let k = 0; ; k ^= 1) {
      const cur = slots[k];
      fill(cur, prev);
      span(cur);
      pool?.wait();
      scan(cur);
      if (prev) finish(prev);
      prev = cur;
      if (eof && cur.tail >= cur.filled) break;
    }
    pool?.wait();
    finish(prev);
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
    pool?.close();
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
