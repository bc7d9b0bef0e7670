// Near-duplicate removal without embeddings: word-shingle MinHash, LSH banding, exact Jaccard on every candidate.
import { finishResult, visitOrder, type DedupResult, type Removal } from './reference.js';

/*
 * Same greedy walk as the embedding path (passing rows first, input order within each group; a row is removed
 * when a kept row has Jaccard ≥ threshold; it names the most similar one, ties → the one kept first), but the
 * candidate kept rows come from LSH buckets instead of a scan. MinHash only proposes candidates: every decision is
 * the exact Jaccard of the two shingle sets, so a reported duplicate is always real, while a true duplicate can
 * be missed when no band collides — the MinHash trade, tilted towards recall (see optimalBands) and measured in
 * BENCHMARKS.md against a brute-force Jaccard greedy.
 *
 * Shingles are k consecutive lower-cased words (letters/digits runs). Each shingle is a tuple of word ids encoded
 * exactly as one integer when vocabulary^k < 2⁵³ (always, for k = 3 up to ~200k distinct words); past that it
 * falls back to a 53-bit fingerprint (collision odds ~1e-16 per pair of shingles). A text shorter than k words
 * is one shingle; a text with no words has an empty set and is never a duplicate.
 */

export interface MinhashOptions {
  /** Jaccard similarity at or above which a text duplicates a kept one. */
  threshold: number;
  numPerm?: number;
  shingleSize?: number;
  seed?: number;
}

export function minhashDedup(texts: string[], passing: Uint8Array, opts: MinhashOptions): DedupResult {
  const threshold = opts.threshold;
  const numPerm = opts.numPerm ?? 128;
  const k = opts.shingleSize ?? 3;
  const seed = opts.seed ?? 1;
  if (!(threshold > 0 && threshold <= 1))
    throw new RangeError(`Expected \`threshold\` to be in (0, 1], got ${threshold}`);
  if (!Number.isInteger(numPerm) || numPerm < 1)
    throw new RangeError(`Expected \`numPerm\` to be an integer ≥ 1, got ${numPerm}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`Expected \`shingleSize\` to be an integer ≥ 1, got ${k}`);
  if (passing.length !== texts.length) {
    throw new RangeError(`Expected \`passing\` to hold ${texts.length} flags, got ${passing.length}`);
  }
  const n = texts.length;
  const sets = shingleSets(texts, k);
  const sigs = signatures(sets, numPerm, seed);
  const { bands, rows } = optimalBands(threshold, numPerm);

  const order = visitOrder(passing);
  const rank = new Int32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]] = r;
  const buckets = Array.from({ length: bands }, () => new Map<number, number[]>());
  const seen = new Int32Array(n).fill(-1);
  const isKept = new Uint8Array(n);
  const removed: Removal[] = [];
  let comparisons = 0;
  const keys = new Float64Array(bands);
  for (let r = 0; r < n; r++) {
    const i = order[r];
    let best = -1;
    let bestSim = -Infinity;
    for (let b = 0; b < bands; b++) {
      keys[b] = bandKey(sigs, i * numPerm + b * rows, rows);
      const bucket = buckets[b].get(keys[b]);
      if (!bucket) continue;
      for (const c of bucket) {
        if (seen[c] === i) continue;
        seen[c] = i;
        comparisons++;
        const s = jaccard(sets[i], sets[c]);
        if (s >= threshold && (s > bestSim || (s === bestSim && rank[c] < rank[best]))) {
          best = c;
          bestSim = s;
        }
      }
    }
    if (best >= 0) {
      removed.push({ index: i, duplicateOf: best, similarity: bestSim });
      continue;
    }
    isKept[i] = 1;
    for (let b = 0; b < bands; b++) {
      const bucket = buckets[b].get(keys[b]);
      if (bucket) bucket.push(i);
      else buckets[b].set(keys[b], [i]);
    }
  }
  return finishResult(n, isKept, removed, {
    comparisons,
    method: `minhash LSH (${numPerm} permutations, ${bands} bands × ${rows} rows, ${k}-word shingles, exact Jaccard)`,
  });
}

const WORD = /[\p{L}\p{N}]+/gu;

/** Sorted, de-duplicated shingle keys per text. */
function shingleSets(texts: string[], k: number): Float64Array[] {
  const vocab = new Map<string, number>();
  const tokenized = texts.map((t) => {
    const words = t.toLowerCase().match(WORD) ?? [];
    const ids = new Int32Array(words.length);
    for (let w = 0; w < words.length; w++) {
      let id = vocab.get(words[w]);
      if (id === undefined) {
        id = vocab.size;
        vocab.set(words[w], id);
      }
      ids[w] = id;
    }
    return ids;
  });
  // Base V+1 leaves id V as the padding of texts shorter than k words.
  const base = vocab.size + 1;
  const exact = base ** k < 2 ** 53;
  return tokenized.map((ids) => {
    if (ids.length === 0) return new Float64Array(0);
    const count = Math.max(1, ids.length - k + 1);
    const out = new Float64Array(count);
    for (let s = 0; s < count; s++) {
      if (exact) {
        let key = 0;
        for (let w = 0; w < k; w++) key = key * base + (s + w < ids.length ? ids[s + w] : vocab.size);
        out[s] = key;
      } else {
        let h1 = 0x9747b28c;
        let h2 = 0x85ebca6b;
        for (let w = 0; w < k; w++) {
          const id = s + w < ids.length ? ids[s + w] : vocab.size;
          h1 = fmix32(h1 ^ id);
          h2 = fmix32(h2 + Math.imul(id, 0x27d4eb2d));
        }
        out[s] = (h1 >>> 0) * 2097152 + (h2 >>> 11); // 32 + 21 bits
      }
    }
    out.sort();
    let u = 0;
    for (let s = 0; s < out.length; s++) if (s === 0 || out[s] !== out[s - 1]) out[u++] = out[s];
    return out.slice(0, u);
  });
}

/** murmur3's 32-bit finaliser: a strong bijective mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One min-hash per permutation; permutation p is fmix32(x ⊕ s_p) over the shingle's 32-bit hash x. */
function signatures(sets: Float64Array[], numPerm: number, seed: number): Uint32Array {
  const salts = new Uint32Array(numPerm);
  let st = fmix32(seed ^ 0x5bd1e995);
  for (let p = 0; p < numPerm; p++) {
    st = fmix32(st + 0x9e3779b9);
    salts[p] = st;
  }
  const sigs = new Uint32Array(sets.length * numPerm).fill(0xffffffff);
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i];
    const o = i * numPerm;
    for (let s = 0; s < set.length; s++) {
      const key = set[s];
      const x = fmix32((key % 4294967296) ^ fmix32(Math.floor(key / 4294967296) + 0x632be5ab));
      for (let p = 0; p < numPerm; p++) {
        const h = fmix32(x ^ salts[p]);
        if (h < sigs[o + p]) sigs[o + p] = h;
      }
    }
  }
  return sigs;
}

/** A band's rows hashed to one 53-bit number; a collision only adds a candidate, which Jaccard then rejects. */
function bandKey(sigs: Uint32Array, from: number, rows: number): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let r = 0; r < rows; r++) {
    const v = sigs[from + r];
    h1 = fmix32(h1 ^ v);
    h2 = fmix32(h2 + Math.imul(v, 0x9e3779b1));
  }
  return h1 * 2097152 + (h2 >>> 11);
}

function jaccard(a: Float64Array, b: Float64Array): number {
  if (a.length === 0 || b.length === 0) return 0;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}

/**
 * Bands × rows ≤ numPerm minimising the weighted false-positive area below the threshold plus the false-negative
 * area above it of the S-curve 1 − (1 − s^rows)^bands (the datasketch rule). Its usual equal weights leave a pair
 * exactly at the threshold found with probability ~⅓; here every candidate is verified exactly, so a false
 * positive costs one Jaccard merge while a false negative is a missed duplicate, hence 0.05 / 0.95. For 0.8 and
 * 128 permutations that gives 16 bands × 8 rows: found with p = 0.95 at J = 0.8, 0.994 at 0.85, 0.001 at 0.3.
 */
export function optimalBands(
  threshold: number,
  numPerm: number,
  fpWeight = 0.05,
  fnWeight = 0.95,
): { bands: number; rows: number } {
  const integrate = (f: (s: number) => number, a: number, b: number): number => {
    const steps = 200;
    const h = (b - a) / steps;
    let area = 0;
    for (let i = 0; i < steps; i++) area += f(a + (i + 0.5) * h) * h;
    return area;
  };
  let best = { bands: 1, rows: numPerm };
  let bestErr = Infinity;
  for (let bands = 1; bands <= numPerm; bands++) {
    const rows = Math.floor(numPerm / bands);
    const p = (s: number): number => 1 - (1 - s ** rows) ** bands;
    const fp = integrate(p, 0, threshold);
    const fn = integrate((s) => 1 - p(s), threshold, 1);
    const err = fpWeight * fp + fnWeight * fn;
    if (err < bestErr) {
      bestErr = err;
      best = { bands, rows };
    }
  }
  return best;
}
