// Exact greedy by brute force: blocks of candidates against the kept set, a blocked int16 (or f32) kernel as a proven filter.
import { f32Below } from './bounds.js';
import { similarity, type Removal } from './reference.js';
import { gammaF32, type DedupKernels } from './simd_kernels.js';
import type { WasmMemory, WasmModule } from './wasm_asm.js';
import { bruteBlock, type BruteParams, type WorkerPool } from './worker_pool.js';

/*
 * Why it is exact. The kernel's f32 dot of two stored rows differs from the exact real dot by at most
 * γ_{dp/4+3}·Σ|a_i b_i| ≤ γ_{dp/4+3}·(1+2⁻²²)² (each lane sums dp/4 products in order, then two pairwise levels),
 * and the canonical Float64 similarity differs from the exact dot by < 1e-12. So a pair whose kernel dot is below
 * t − γ − 1e-9 has canonical similarity < t and can be skipped; every other pair gets the canonical similarity,
 * which alone decides. The greedy order is kept by blocks: a block of candidates is compared with every row kept
 * before the block (the heavy part, split across workers), then within the block in visit order.
 *
 * The int16 filter, when the memory has room for it, does the same at twice the rate (`bruteTile16`). Rows are
 * quantised with one step s: x = s·q + e, |e_i| ≤ h = 0.502·s (the product x·(1/s) is rounded to f32 first). Then
 *   |x_a·x_b − s²·(q_a·q_b)| ≤ |s·q_a·e_b| + |e_a·x_b| ≤ h·(‖x_a‖₁ + dp·h) + h·‖x_b‖₁ ≤ h·(2·L + dp·h),
 * with L the largest ‖x‖₁, and q_a·q_b is exact in i32. So a pair whose integer dot is below
 * (t − h·(2L + dp·h) − 10⁻⁹)/s² has canonical similarity < t. The step keeps |q_i| ≤ 32,767 and every ‖q‖₂ ≤ 46,339,
 * which is what the kernel needs for its i32 sums not to overflow. On unit rows it is ~2·10⁻⁵, so the filter
 * passes the pairs within ~7·10⁻⁴ of t (1024 dims): the near-duplicates, not the bulk.
 */

/** Candidates resolved together: large enough that a kept chunk loaded into cache serves many rows. */
const BLOCK = 128;
/**
 * Kept rows per pass of a block: 1 MB of f32 or 512 KB of int16 rows at 1024 dims, so they stay in L2 while the
 * block's tiles pass over them.
 */
const KEPT_CHUNK = 256;
/** Below this many kept rows a block is cheaper on the calling thread than a round trip to the workers. */
const WORKER_MIN_KEPT = 2048;

export interface BruteForceArgs {
  kernels: DedupKernels;
  module: WasmModule;
  memory: WasmMemory;
  pool?: WorkerPool;
  /** Byte address of the normalised rows (stride dp floats, n + 4 rows of room); rewritten in place. */
  x: number;
  n: number;
  dp: number;
  dim: number;
  order: Int32Array;
  threshold: number;
  /** One scratch area per lane (workers, plus one for the calling thread), each ≥ (4·KEPT_CHUNK + 8)·8 bytes. */
  out: number[];
  /** Byte address of room for the rows in int16 ((n + 4)·dp·2 bytes), when the memory had it: the faster filter. */
  q?: number;
}

/** Bytes the int16 copy of the rows needs (the 4 spare rows included). */
export function int16RowBytes(n: number, dp: number): number {
  return (n + 4) * dp * 2;
}

export const BRUTE_SCRATCH_BYTES = (4 * (KEPT_CHUNK + 2) + 8) * 8;

export function bruteForceGreedy(args: BruteForceArgs): {
  isKept: Uint8Array;
  removed: Removal[];
  dots: number;
  candidates: number;
  margin: number;
  filter: 'int16' | 'f32';
} {
  const { kernels, module, memory, pool, x, n, dp, dim, order, threshold, q } = args;
  const f32 = new Float32Array(memory.buffer);
  const base = x / 4;
  permuteRows(f32, base, dp, n, order);
  // The filter reads its own copy of the rows (int16) or the stored rows themselves (f32); both follow the kept
  // compaction below.
  const int16 = q !== undefined;
  const quantised = int16 ? quantiseRows(kernels, x, q, n, dp, dim, threshold) : undefined;
  const margin = quantised?.margin ?? gammaF32(dp / 4 + 3) * (1 + 2 ** -20);
  const limit = quantised?.limit ?? f32Below(threshold - margin - 1e-9);
  const tiles = q ?? x;
  const rowBytes = int16 ? dp * 2 : dp * 4;
  const i16 = new Int16Array(memory.buffer);

  // Kept rows are compacted to the front in visit order: the kept position of a row is its rank among kept rows,
  // which always trails its visit position, so moving it down never overwrites a row not yet visited.
  const keptOrig = new Int32Array(n);
  const isKept = new Uint8Array(n);
  const removed: Removal[] = [];
  let kept = 0;
  let dots = 0;
  let candidates = 0;
  const bestPos = new Int32Array(BLOCK);
  const bestSim = new Float64Array(BLOCK);
  const blockPos = new Int32Array(BLOCK);
  const within: number[][] = Array.from({ length: BLOCK }, () => []);
  const local = (p: Omit<BruteParams, 'out' | 'limit' | 'chunk' | 'rowBytes' | 'int16'>): Int32Array =>
    bruteBlock(kernels, memory, {
      ...p,
      out: args.out[args.out.length - 1],
      limit,
      chunk: KEPT_CHUNK,
      rowBytes,
      int16,
    });

  for (let r0 = 0; r0 < n; r0 += BLOCK) {
    const bn = Math.min(BLOCK, n - r0);
    const a = tiles + r0 * rowBytes;
    bestPos.fill(-1);
    bestSim.fill(-Infinity);

    // 1. Against every row kept before the block.
    let parts: Int32Array[] = [];
    if (kept > 0) {
      if (pool && kept >= WORKER_MIN_KEPT) {
        parts = pool.brute(module, (lane, lanes) => {
          const per = Math.ceil(kept / lanes / 2) * 2;
          return {
            a,
            bn,
            b: tiles,
            kFrom: Math.min(kept, lane * per),
            kTo: Math.min(kept, (lane + 1) * per),
            chunk: KEPT_CHUNK,
            rowBytes,
            out: args.out[lane],
            limit,
            int16,
          };
        });
      } else {
        parts = [local({ a, bn, b: tiles, kFrom: 0, kTo: kept })];
      }
    }
    dots += bn * kept;
    for (const pairs of parts) {
      for (let e = 0; e < pairs.length; e += 2) {
        const i = pairs[e];
        const p = pairs[e + 1];
        candidates++;
        const s = similarity(f32, base + (r0 + i) * dp, base + p * dp, dim);
        if (s >= threshold && (s > bestSim[i] || (s === bestSim[i] && p < bestPos[i]))) {
          bestSim[i] = s;
          bestPos[i] = p;
        }
      }
    }

    // 2. Within the block: the same filter on the block against itself, pairs (i, j < i) only.
    for (const w of within) w.length = 0;
    const self = local({ a, bn, b: a, kFrom: 0, kTo: bn });
    dots += (bn * (bn - 1)) / 2;
    for (let e = 0; e < self.length; e += 2) if (self[e + 1] < self[e]) within[self[e]].push(self[e + 1]);

    // 3. Resolve in visit order; a row kept earlier in this block takes the next kept position.
    blockPos.fill(-1);
    for (let i = 0; i < bn; i++) {
      let bp = bestPos[i];
      let bs = bestSim[i];
      for (const j of within[i]) {
        const pj = blockPos[j];
        if (pj < 0) continue;
        candidates++;
        const s = similarity(f32, base + (r0 + i) * dp, base + (r0 + j) * dp, dim);
        if (s >= threshold && (s > bs || (s === bs && pj < bp))) {
          bs = s;
          bp = pj;
        }
      }
      const row = order[r0 + i];
      if (bp < 0) {
        blockPos[i] = kept;
        keptOrig[kept++] = row;
        isKept[row] = 1;
      } else {
        removed.push({ index: row, duplicateOf: keptOrig[bp], similarity: bs });
      }
    }

    // 4. Compact the block's kept rows down to their kept positions.
    for (let i = 0; i < bn; i++) {
      const p = blockPos[i];
      if (p < 0 || p === r0 + i) continue;
      f32.copyWithin(base + p * dp, base + (r0 + i) * dp, base + (r0 + i + 1) * dp);
      if (int16) i16.copyWithin(q / 2 + p * dp, q / 2 + (r0 + i) * dp, q / 2 + (r0 + i + 1) * dp);
    }
  }
  return { isKept, removed, dots, candidates, margin, filter: int16 ? 'int16' : 'f32' };
}

/** Puts row order[r] at position r, in place (cycle by cycle, one spare row). */
function permuteRows(f32: Float32Array, base: number, dp: number, n: number, order: Int32Array): void {
  const done = new Uint8Array(n);
  const spare = new Float32Array(dp);
  for (let start = 0; start < n; start++) {
    if (done[start] || order[start] === start) {
      done[start] = 1;
      continue;
    }
    // Position start takes row order[start], which takes order[order[start]], … until the cycle closes.
    spare.set(f32.subarray(base + start * dp, base + (start + 1) * dp));
    let pos = start;
    for (;;) {
      done[pos] = 1;
      const from = order[pos];
      if (from === start) {
        f32.set(spare, base + pos * dp);
        break;
      }
      f32.copyWithin(base + pos * dp, base + from * dp, base + (from + 1) * dp);
      pos = from;
    }
  }
}

/** Largest integer dot an int16 row pair may have: ‖q‖₂ ≤ 46,339 for both, so q_a·q_b < 2³¹ (see the header). */
const Q_NORM = 46_339;
/** The stored rows are unit or zero: normalizeInto rounds each value once, so ‖x‖ ≤ (1 + 2⁻²⁴)·(1 + ε). */
const STORED_NORM = 1 + 1e-6;

/**
 * Writes the n rows at byte address `x` (f32, stride dp) as int16 at `q` (kernel `quantise16`: one f32 product and
 * a rounding to nearest, so |q_i − x_i/s| ≤ ½ + 32,767·2⁻²⁴ < 0.502), and returns the kernel's integer limit and
 * the margin it stands for (see the header; ‖x‖₁ ≤ √dim·‖x‖ stands for L).
 */
export function quantiseRows(
  kernels: DedupKernels,
  x: number,
  q: number,
  n: number,
  dp: number,
  dim: number,
  threshold: number,
): { limit: number; margin: number; step: number } {
  const maxAbs = kernels.maxAbs(x, n * dp);
  // |x·scale|·(1 + 2⁻²⁴) + ½ must stay below 32,767.5, and ‖x‖·scale·(1 + 2⁻²⁴) + √dp/2 at most Q_NORM.
  const byNorm = (Q_NORM - Math.sqrt(dp) / 2 - 1) / (STORED_NORM * (1 + 2 ** -23));
  const scale = Math.fround(Math.min(maxAbs > 0 ? 32_766 / maxAbs : byNorm, byNorm) * (1 - 2 ** -20));
  kernels.quantise16(x, q, n * dp, scale);
  const step = 1 / scale;
  const h = step * 0.502;
  const margin = h * (2 * Math.sqrt(dim) * STORED_NORM + dp * h) * (1 + 1e-6);
  const y = (threshold - margin - 1e-9) * scale * scale;
  const limit = Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), Math.floor(y) - 1));
  return { limit, margin, step };
}
