// Stage-6 dedup semantics in their plainest form: the canonical similarity, the brute-force reference, and the Python port.
import { DedupInputError } from '../errors.js';

/*
 * The canonical similarity (what "cosine ≥ threshold" means everywhere in stage 6):
 *   1. each row is L2-normalised in Float64 (norm = √Σx², then x/norm) and rounded to Float32 — the stored vector;
 *   2. sim(a, b) = Σ a_i·b_i over the stored Float32 values with Float64 accumulation, in four interleaved partial
 *      sums (i mod 4) combined as (s0+s1)+(s2+s3). Float32×Float32 products are exact in Float64, so the only
 *      rounding is in the additions (≤ ~1e-13 for 1024 dims), and the result is bit-for-bit reproducible;
 *   3. duplicate ⇔ sim ≥ threshold, compared as Float64 — a pair exactly at the threshold is a duplicate.
 * The fast path (greedy.ts) only uses bounds to skip pairs that provably cannot reach the threshold and then
 * evaluates this same function, so both agree on every decision, ties included.
 * Rows with a zero norm stay zero vectors: similarity 0 to everything, so they are always kept.
 */

export interface DedupInput {
  /** Row-major count × dim. */
  vectors: Float32Array;
  dim: number;
  count: number;
  /** 1 when the judge's overall_pass is true. */
  passing: Uint8Array;
}

export interface Removal {
  index: number;
  /** The kept row it duplicates: highest similarity, ties → the one kept first. */
  duplicateOf: number;
  similarity: number;
}

export interface DedupResult {
  /** Ascending input order. */
  kept: number[];
  /** Ascending by index. */
  removed: Removal[];
  stats: {
    /** Full-length similarity evaluations. */
    comparisons: number;
    method: string;
    /** Extra counters and timings from the fast path. */
    detail?: Record<string, number>;
  };
}

export function checkInput(input: DedupInput, threshold: number): void {
  const { vectors, dim, count, passing } = input;
  if (!Number.isInteger(dim) || dim < 1)
    throw new DedupInputError(`Expected \`dim\` to be an integer ≥ 1, got ${dim}`, 'dim');
  if (!Number.isInteger(count) || count < 0) {
    throw new DedupInputError(`Expected \`count\` to be an integer ≥ 0, got ${count}`, 'count');
  }
  if (vectors.length !== count * dim) {
    throw new DedupInputError(
      `Expected \`vectors\` to hold count × dim = ${count * dim} floats, got ${vectors.length}`,
      'vectors',
    );
  }
  if (passing.length !== count) {
    throw new DedupInputError(`Expected \`passing\` to hold ${count} flags, got ${passing.length}`, 'passing');
  }
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new DedupInputError(`Expected \`threshold\` to be a finite number, got ${threshold}`, 'threshold');
  }
}

/**
 * Normalises rows of `src` into `dst` (row stride `dstStride`, padding left untouched) per the canonical rule;
 * optionally also reports each stored row's squared norm (Float64 sum of its Float32 values). With `rows`, dst row
 * r (and storedNormSq[r]) is src row rows[r].
 */
export function normalizeInto(
  src: Float32Array,
  count: number,
  dim: number,
  dst: Float32Array,
  dstStride: number,
  storedNormSq?: Float64Array,
  rows?: Int32Array,
): void {
  for (let r = 0; r < count; r++) {
    const i = rows ? rows[r]! : r;
    const o = i * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = src[o + j];
      s += v * v;
    }
    const d = r * dstStride;
    if (!Number.isFinite(s)) {
      throw new DedupInputError(`Row ${i} holds a non-finite value`, 'vectors');
    }
    if (s === 0) {
      for (let j = 0; j < dim; j++) dst[d + j] = 0;
      if (storedNormSq) storedNormSq[r] = 0;
      continue;
    }
    const norm = Math.sqrt(s);
    if (!storedNormSq) {
      for (let j = 0; j < dim; j++) dst[d + j] = src[o + j] / norm;
      continue;
    }
    let stored = 0;
    for (let j = 0; j < dim; j++) {
      const v = Math.fround(src[o + j] / norm);
      dst[d + j] = v;
      stored += v * v;
    }
    storedNormSq[r] = stored;
  }
}

/** The canonical similarity between rows at element offsets `a` and `b` of `x`. */
export function similarity(x: Float32Array, a: number, b: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  // Unrolled by 8 with the same lane for each index (i mod 4), so the sums are unchanged.
  for (; j + 7 < dim; j += 8) {
    s0 += x[a + j] * x[b + j];
    s1 += x[a + j + 1] * x[b + j + 1];
    s2 += x[a + j + 2] * x[b + j + 2];
    s3 += x[a + j + 3] * x[b + j + 3];
    s0 += x[a + j + 4] * x[b + j + 4];
    s1 += x[a + j + 5] * x[b + j + 5];
    s2 += x[a + j + 6] * x[b + j + 6];
    s3 += x[a + j + 7] * x[b + j + 7];
  }
  for (; j + 3 < dim; j += 4) {
    s0 += x[a + j] * x[b + j];
    s1 += x[a + j + 1] * x[b + j + 1];
    s2 += x[a + j + 2] * x[b + j + 2];
    s3 += x[a + j + 3] * x[b + j + 3];
  }
  // The tail continues lanes 0.. in order, as if the row were zero padded to a multiple of 4.
  if (j < dim) s0 += x[a + j] * x[b + j];
  if (j + 1 < dim) s1 += x[a + j + 1] * x[b + j + 1];
  if (j + 2 < dim) s2 += x[a + j + 2] * x[b + j + 2];
  return s0 + s1 + (s2 + s3);
}

/** Passing rows first, then failing ones, each group in input order: the greedy keeps the better copy. */
export function visitOrder(passing: Uint8Array): Int32Array {
  const order = new Int32Array(passing.length);
  let k = 0;
  for (let i = 0; i < passing.length; i++) if (passing[i]) order[k++] = i;
  for (let i = 0; i < passing.length; i++) if (!passing[i]) order[k++] = i;
  return order;
}

export function finishResult(
  count: number,
  isKept: Uint8Array,
  removed: Removal[],
  stats: DedupResult['stats'],
): DedupResult {
  const kept: number[] = [];
  for (let i = 0; i < count; i++) if (isKept[i]) kept.push(i);
  removed.sort((a, b) => a.index - b.index);
  return { kept, removed, stats };
}

/** Brute force: every visited row against every kept row, canonical similarity throughout. O(n·kept·dim). */
export function dedupExact(input: DedupInput, threshold: number): DedupResult {
  checkInput(input, threshold);
  const { count, dim } = input;
  const x = new Float32Array(count * dim);
  normalizeInto(input.vectors, count, dim, x, dim);
  const order = visitOrder(input.passing);
  const keptList: number[] = [];
  const isKept = new Uint8Array(count);
  const removed: Removal[] = [];
  let comparisons = 0;
  for (const i of order) {
    let best = -1;
    let bestSim = -Infinity;
    for (const k of keptList) {
      const s = similarity(x, i * dim, k * dim, dim);
      comparisons++;
      // Strict > keeps the earliest kept row on equal similarity.
      if (s >= threshold && s > bestSim) {
        best = k;
        bestSim = s;
      }
    }
    if (best < 0) {
      keptList.push(i);
      isKept[i] = 1;
    } else {
      removed.push({ index: i, duplicateOf: best, similarity: bestSim });
    }
  }
  return finishResult(count, isKept, removed, { comparisons, method: 'exact brute force (Float64)' });
}

/**
 * A literal port of the Python stage: Float64 `number[]` rows normalised with `v / norm(v)`, then a loop that
 * compares each candidate with every kept row (`np.dot`). Only for the benchmark's "before" column: its rounding
 * differs from the canonical similarity, so a pair within ~1e-16 of the threshold may be decided differently.
 */
export function dedupOriginalPort(embeddings: number[][], passing: boolean[], threshold: number): DedupResult {
  const normalized = embeddings.map((e) => {
    const norm = Math.sqrt(e.reduce((s, v) => s + v * v, 0));
    return e.map((v) => v / norm);
  });
  const order = [...passing.keys()].sort((a, b) => Number(passing[b]) - Number(passing[a]) || a - b);
  const kept: number[] = [];
  const removed: Removal[] = [];
  let comparisons = 0;
  for (const i of order) {
    let best = -1;
    let bestSim = -Infinity;
    for (const k of kept) {
      const a = normalized[i];
      const b = normalized[k];
      let sim = 0;
      for (let j = 0; j < a.length; j++) sim += a[j] * b[j];
      comparisons++;
      if (sim >= threshold && sim > bestSim) {
        best = k;
        bestSim = sim;
      }
    }
    if (best < 0) kept.push(i);
    else removed.push({ index: i, duplicateOf: best, similarity: bestSim });
  }
  const isKept = new Uint8Array(embeddings.length);
  for (const k of kept) isKept[k] = 1;
  return finishResult(embeddings.length, isKept, removed, { comparisons, method: 'original port (number[] loop)' });
}
