// The strict byte scan of one embedded JSONL line: top-level keys walked, the "embedding" array parsed into a Float32Array.

/*
 * Numbers take the exact Clinger fast path (integer mantissa < 2⁵³ divided by an exact power of ten, correctly
 * rounded), else Number() on the validated literal, so every value equals JSON.parse's. Anything unusual (odd
 * whitespace, a second "embedding" key, invalid JSON) makes `scanLine` return undefined, and the reader falls back
 * to JSON.parse. Other keys written twice are the writer's concern (src/io/json_text.ts stringifiedShape).
 */

/** Where parsed values go: row r's values at vectors[r·dim …]; values beyond dim are counted, not stored. */
export interface VectorColumns {
  vectors: Float32Array;
  dim: number;
}

// The bytes the scan compares against, named once from the characters they stand for.
const [QUOTE, COMMA, COLON, MINUS, DOT, ZERO, NINE, LBRACKET, RBRACKET, LBRACE, RBRACE, BACKSLASH, E_LOWER, E_UPPER] =
  asciiCodes('",:-.09[]{}\\eE');
export const [SPACE, TAB, CR] = asciiCodes(' \t\r');
const EMBEDDING_KEY = Buffer.from('embedding');
const TWO_53 = 9007199254740992;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/*
 * Spans of one chunk's rows, SPAN_INTS to a row: the line's trimmed [start, end) in the chunk, then what the scan
 * found — the embedding length (or -1: hand the line to the slow path) and the cut span of the member.
 */
export const SPAN_INTS = 5;

/** Scans rows [from, to) of a chunk into cols (row r of the chunk is row rowBase + r), filling in their spans. */
export function scanRows(
  b: Buffer,
  spans: Int32Array,
  from: number,
  to: number,
  cols: VectorColumns,
  rowBase: number,
): void {
  const scratch = { value: [0] };
  for (let r = from; r < to; r++) {
    const at = r * SPAN_INTS;
    const found = scanLine(b, spans[at], spans[at + 1], cols, rowBase + r, scratch);
    if (found) {
      spans[at + 2] = found.dim;
      spans[at + 3] = found.cutStart;
      spans[at + 4] = found.cutEnd;
    } else spans[at + 2] = -1;
  }
}

/**
 * The scan as script source, for the reader's eval worker threads (they cannot import a TypeScript module): the
 * constants, then the functions' own text, so there is one implementation. tsx compiles with keepNames, which may
 * wrap nested functions in `__name(...)`; the shim makes that a no-op.
 */
export function scanSource(): string {
  const numbers = { QUOTE, COMMA, COLON, MINUS, DOT, ZERO, NINE, LBRACKET, RBRACKET, LBRACE, RBRACE, BACKSLASH };
  const more = { E_LOWER, E_UPPER, SPACE, TAB, CR, TWO_53, SPAN_INTS };
  return [
    'const __name = (f) => f;',
    ...Object.entries({ ...numbers, ...more }).map(([k, v]) => `const ${k} = ${v};`),
    `const EMBEDDING_KEY = Buffer.from(${JSON.stringify(EMBEDDING_KEY.toString('latin1'))}, 'latin1');`,
    `const POW10 = ${JSON.stringify(POW10)};`,
    `const JSON_NUMBER = ${JSON_NUMBER};`,
    ...[isKey, skipString, skipValue, parseFloats, scanLine, scanRows].map((f) => f.toString()),
  ].join('\n');
}

function asciiCodes(chars: string): number[] {
  return Array.from(chars, (c) => c.charCodeAt(0));
}

/** Counts commas in the first line's embedding to size the first allocation (exactness is checked later). */
export function guessDim(buf: Buffer, s: number, e: number): number {
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
export function scanLine(
  b: Buffer,
  s: number,
  e: number,
  cols: VectorColumns,
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
function parseFloats(
  b: Buffer,
  p: number,
  e: number,
  cols: VectorColumns,
  row: number,
  scratch: { value: number[] },
): number {
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
    // A leading zero stands alone (JSON): "01" would fail the check after the number anyway, so fail it here.
    if (c === ZERO) {
      c = b[++p];
      if (c >= ZERO && c <= NINE) return -1;
    }
    // One digit loop serves both parts: it runs over the integer digits, then once more over the fraction's.
    let fracStart = -1;
    for (;;) {
      while (c >= ZERO && c <= NINE) {
        if (loDigits === 9) {
          hi = hi * 1e9 + lo;
          lo = 0;
          loDigits = 0;
        }
        lo = (lo * 10 + (c - ZERO)) | 0;
        loDigits++;
        c = b[++p];
      }
      if (c !== DOT || fracStart >= 0) break;
      c = b[++p];
      if (c < ZERO || c > NINE) return -1;
      fracStart = p;
    }
    const exp = fracStart < 0 ? 0 : p - fracStart;
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
