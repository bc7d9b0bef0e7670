// The pruned scan in visit order: each chunk of rows against the rows kept before it, the removed ones left out.
import { similarity } from './reference.js';
import { roundUp } from './shared_memory.js';
import type { ScanPart } from './worker_pool.js';

/** Rows of the visit order scanned together: small enough that the rows they remove drop out soon. */
export function chunkRows(n: number, queryBlock: number): number {
  return roundUp(Math.max(2048, Math.ceil(n / 32)), queryBlock);
}

export interface KeptScanInput {
  f32: Float32Array;
  at: { x: number; s1: number; s2: number; t1: number; t2: number };
  n: number;
  dp: number;
  k1: number;
  k2: number;
  dim: number;
  threshold: number;
  /** Normalised rows, at their place in the visit order. */
  x: Float32Array;
  /** The input index of each place. */
  order: Int32Array;
  /** Rows of the visit order scanned together. */
  chunk: number;
}

/**
 * The greedy keeps a row unless a row kept before it in the visit order is a neighbour, so a row already removed
 * never needs to be compared again. The rows sit in visit order; each chunk of it is scanned against the rows kept
 * so far (packed at the front) and against its own earlier rows, its rows' fates are decided, and its kept rows are
 * packed after the others. Where the bounds leave many pairs to the full dot and most rows are duplicates (the
 * end-to-end run removes 62% at 100k), this is what makes the scan cheaper than comparing all pairs; NumPy's greedy
 * gets the same saving by comparing with its kept set. Returns the near pairs as input indices.
 */
export function scanKept(
  s: KeptScanInput,
  scanRange: (base: number, end: number) => ScanPart[],
): {
  near: number[];
  nearSim: number[];
  candidates: number;
  stage2Groups: number;
  stage3Dots: number;
  scanMs: number;
} {
  const { f32, at, n, dp, k1, k2, dim, threshold, x, order, chunk } = s;
  const i32 = new Int32Array(f32.buffer);
  const c1 = k1 / 2;
  const c2 = (k2 - k1) / 2;
  // The input index of the row at each place of the layout; rows move down as the kept ones are packed.
  const inputOf = Int32Array.from(order);
  const moveRow = (from: number, to: number): void => {
    if (from === to) return;
    f32.copyWithin(at.x / 4 + to * dp, at.x / 4 + from * dp, at.x / 4 + (from + 1) * dp);
    // int16 prefixes are interleaved by groups of 4 rows: dim pair c of row r is the i32 at group·(4c₁) + 4c + lane.
    const a1 = at.s1 / 4 + (from >> 2) * c1 * 4 + (from & 3);
    const b1 = at.s1 / 4 + (to >> 2) * c1 * 4 + (to & 3);
    for (let c = 0; c < c1; c++) i32[b1 + c * 4] = i32[a1 + c * 4];
    const a2 = at.s2 / 4 + (from >> 2) * c2 * 4 + (from & 3);
    const b2 = at.s2 / 4 + (to >> 2) * c2 * 4 + (to & 3);
    for (let c = 0; c < c2; c++) i32[b2 + c * 4] = i32[a2 + c * 4];
    f32[at.t1 / 4 + to] = f32[at.t1 / 4 + from];
    f32[at.t2 / 4 + to] = f32[at.t2 / 4 + from];
    inputOf[to] = inputOf[from];
  };
  const near: number[] = [];
  const nearSim: number[] = [];
  let candidates = 0;
  let stage2Groups = 0;
  let stage3Dots = 0;
  let scanMs = 0;
  let kept = 0; // places [0, kept) hold the rows kept so far
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const size = Math.min(chunk, n - c0);
    for (let r = 0; r < size; r++) moveRow(c0 + r, kept + r);
    const started = performance.now();
    const parts = scanRange(kept, kept + size);
    scanMs += performance.now() - started;
    // Each candidate (q, j) has j < q: a kept row before the chunk, or an earlier row of the chunk.
    const removedIn = new Uint8Array(size);
    const local: number[][] = Array.from({ length: size }, () => []);
    for (const part of parts) {
      stage2Groups += part.stage2;
      stage3Dots += part.stage3;
      const p = part.pairs;
      candidates += p.length / 2;
      for (let k = 0; k < p.length; k += 2) {
        const sim = similarity(x, p[k]! * dp, p[k + 1]! * dp, dim);
        if (sim < threshold) continue;
        near.push(inputOf[p[k]!]!, inputOf[p[k + 1]!]!);
        nearSim.push(sim);
        local[p[k]! - kept]!.push(p[k + 1]!);
      }
    }
    // The chunk's fates, in its order: removed when a neighbour before it was kept.
    for (let r = 0; r < size; r++) {
      for (const j of local[r]!) {
        if (j < kept || !removedIn[j - kept]) {
          removedIn[r] = 1;
          break;
        }
      }
    }
    let to = kept;
    for (let r = 0; r < size; r++) if (!removedIn[r]) moveRow(kept + r, to++);
    kept = to;
  }
  return { near, nearSim, candidates, stage2Groups, stage3Dots, scanMs };
}
