// Streams stage 5's embedded JSONL into one Float32Array of vectors plus each row's JSON text without its embedding.
import { isAscii } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, JsonlLineError } from '../errors.js';
import { vectorProblem } from '../embedding_check.js';
import { assertReadable } from '../io/jsonl.js';

/*
 * A 100k-row file is ~1.4 GB, 90% of it embedding digits, so the file is read in fixed chunks and never held as
 * text. Each line gets a strict hand-rolled scan: top-level keys are walked, other values skipped (strings with
 * escapes, nested containers), and the "embedding" array parsed digit by digit straight into the Float32Array.
 * Measured on the bench fixture this is faster than JSON.parse per line (see BENCHMARKS.md), allocates no
 * 1024-element JS array per row, and yields the embedding's byte span, so the row minus its embedding is cut from
 * the original bytes and kept as text (~2 kB a row instead of ~15 kB) for the writer.
 * Numbers take the exact Clinger fast path (integer mantissa < 2⁵³ divided by an exact power of ten, correctly
 * rounded), else Number() on the validated literal, so every value equals JSON.parse's. Anything unusual (odd
 * whitespace, duplicate keys, invalid JSON) goes to a JSON.parse slow path, which also produces the error text.
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

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const E_LOWER = 0x65;
const E_UPPER = 0x45;
const EMBEDDING_KEY = Buffer.from('embedding');
const TWO_53 = 9007199254740992;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

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
    const parseRow = (s: number, e: number): { found: number; cut: [number, number]; parsed?: Record<string, unknown> } => {
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
            const guess = count === 0 ? Math.ceil((size / Math.max(nl - start + 1, 1)) * 1.1) + 16 : Math.ceil(count * 1.5) + 16;
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

/** Counts commas in the first line's embedding to size the first allocation (exactness is checked later). */
function guessDim(buf: Buffer, s: number, e: number): number {
  const k = buf.indexOf('"embedding"', s);
  if (k < 0 || k >= e) return 1;
  const open = buf.indexOf(LBRACKET, k);
  const close = buf.indexOf(RBRACKET, open);
  if (open < 0 || close < 0 || close > e) return 1;
  let commas = 0;
  for (let p = open; p < close; p++) if (buf[p] === COMMA) commas++;
  return commas + 1;
}

/**
 * Fast path. Returns the embedding length and the cut span (absolute offsets), or undefined to hand the line to
 * the slow path. Writes the values into cols.vectors at `row` only while they fit the current dim.
 */
function scanLine(
  b: Buffer,
  s: number,
  e: number,
  cols: Columns,
  row: number,
  scratch: { value: number[] },
): { dim: number; cutStart: number; cutEnd: number } | undefined {
  if (b[s] !== LBRACE) return undefined;
  let p = s + 1;
  let result: { dim: number; cutStart: number; cutEnd: number } | undefined;
  let prevComma = -1;
  if (b[p] === RBRACE) return undefined;
  for (;;) {
    if (b[p] !== QUOTE) return undefined;
    const keyStart = p;
    const keyEnd = skipString(b, p, e);
    if (keyEnd < 0 || b[keyEnd] !== COLON) return undefined;
    p = keyEnd + 1;
    if (isKey(b, keyStart + 1, keyEnd - 1, EMBEDDING_KEY)) {
      if (result || b[p] !== LBRACKET) return undefined;
      const end = parseFloats(b, p + 1, e, cols, row, scratch);
      if (end < 0) return undefined;
      result = { dim: scratch.value[0], cutStart: keyStart, cutEnd: end };
      p = end;
    } else {
      p = skipValue(b, p, e);
      if (p < 0) return undefined;
    }
    if (b[p] === COMMA) {
      if (result && result.cutEnd === p) {
        result.cutEnd = p + 1; // drop the comma after the member
      }
      prevComma = p;
      p++;
      continue;
    }
    if (b[p] === RBRACE && p + 1 === e) break;
    return undefined;
  }
  if (!result) return undefined;
  // Last member: drop the comma before it instead.
  if (b[result.cutEnd - 1] !== COMMA && prevComma >= 0 && prevComma < result.cutStart) result.cutStart = prevComma;
  return result;
}

function isKey(b: Buffer, from: number, to: number, key: Buffer): boolean {
  if (to - from !== key.length) return false;
  for (let k = 0; k < key.length; k++) if (b[from + k] !== key[k]) return false;
  return true;
}

/** From an opening quote, returns the index after the closing quote, or -1. */
function skipString(b: Buffer, p: number, e: number): number {
  p++;
  while (p < e) {
    const c = b[p];
    if (c === QUOTE) return p + 1;
    if (c === BACKSLASH) p += 2;
    else if (c < 0x20) return -1;
    else p++;
  }
  return -1;
}

/** Skips one compact JSON value (no whitespace outside strings), returning the index after it, or -1. */
function skipValue(b: Buffer, p: number, e: number): number {
  const c = b[p];
  if (c === QUOTE) return skipString(b, p, e);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    while (p < e) {
      const d = b[p];
      if (d === QUOTE) {
        p = skipString(b, p, e);
        if (p < 0) return -1;
        continue;
      }
      if (d === LBRACE || d === LBRACKET) depth++;
      else if (d === RBRACE || d === RBRACKET) {
        depth--;
        if (depth === 0) return p + 1;
      }
      p++;
    }
    return -1;
  }
  // Literals and numbers: their validity is checked by JSON.parse of the rest of the row. Anything else (e.g.
  // whitespace before a value) goes to the slow path rather than risk skipping into a nested value.
  if (c !== MINUS && !(c >= ZERO && c <= NINE) && c !== 0x74 && c !== 0x66 && c !== 0x6e) return -1;
  while (p < e) {
    const d = b[p];
    if (d === COMMA || d === RBRACE || d === RBRACKET) return p;
    p++;
  }
  return -1;
}

/**
 * Parses `n1,n2,…]` (compact or with single spaces) into cols.vectors[row·dim …] and returns the index after
 * `]`, or -1 when anything is not a JSON number. The count goes to scratch.value[0]; values beyond cols.dim are
 * counted but not stored (the caller reports the mismatch).
 */
function parseFloats(b: Buffer, p: number, e: number, cols: Columns, row: number, scratch: { value: number[] }): number {
  const out = cols.vectors;
  const dim = cols.dim;
  const base = row * dim;
  let k = 0;
  let c = b[p];
  while (c === SPACE) c = b[++p];
  if (c === RBRACKET) {
    scratch.value[0] = 0;
    return p + 1;
  }
  for (;;) {
    const numStart = p;
    let neg = false;
    if (c === MINUS) {
      neg = true;
      c = b[++p];
    }
    if (c < ZERO || c > NINE) return -1;
    // Digits go into an int32 (≤ 9 at a time, a short dependency chain); `hi` takes the overflow, as a double.
    let lo = 0;
    let loDigits = 0;
    let hi = 0;
    let exp = 0;
    if (c === ZERO) {
      c = b[++p];
    } else {
      do {
        if (loDigits === 9) {
          hi = hi * 1e9 + lo;
          lo = 0;
          loDigits = 0;
        }
        lo = (lo * 10 + (c - ZERO)) | 0;
        loDigits++;
        c = b[++p];
      } while (c >= ZERO && c <= NINE);
    }
    if (c === DOT) {
      c = b[++p];
      if (c < ZERO || c > NINE) return -1;
      do {
        if (loDigits === 9) {
          hi = hi * 1e9 + lo;
          lo = 0;
          loDigits = 0;
        }
        lo = (lo * 10 + (c - ZERO)) | 0;
        loDigits++;
        exp++;
        c = b[++p];
      } while (c >= ZERO && c <= NINE);
    }
    // m < 2⁵³ means every step above was exact (rounding is monotonic, so an inexact m would be ≥ 2⁵³).
    const m = hi === 0 ? lo : hi * POW10[loDigits] + lo;
    let v: number;
    if (c === E_LOWER || c === E_UPPER || m >= TWO_53 || exp > 22) {
      while (p < e && b[p] !== COMMA && b[p] !== RBRACKET && b[p] !== SPACE) p++;
      const lit = b.toString('latin1', numStart, p);
      if (!JSON_NUMBER.test(lit)) return -1;
      v = Number(lit);
      if (!Number.isFinite(v)) return -1;
      c = b[p];
    } else {
      v = exp === 0 ? m : m / POW10[exp];
      if (neg) v = -v;
    }
    if (k < dim) out[base + k] = v;
    k++;
    while (c === SPACE) c = b[++p];
    if (c === COMMA) {
      c = b[++p];
      while (c === SPACE) c = b[++p];
      continue;
    }
    if (c === RBRACKET && p < e) {
      scratch.value[0] = k;
      return p + 1;
    }
    return -1;
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

const NON_ASCII = /[^\x00-\x7f]/;
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
