// Fast, exact greedy near-duplicate removal over embeddings: bound-pruned all-pairs scan, then the greedy walk.
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import {
  checkInput,
  finishResult,
  normalizeInto,
  similarity,
  visitOrder,
  type DedupInput,
  type DedupResult,
  type Removal,
} from './reference.js';
import {
  compileKernels,
  gammaF32,
  instantiateKernels,
  wasm,
  type DedupKernels,
  type KernelLayout,
  type WasmMemory,
  type WasmModule,
} from './simd_kernels.js';

export type { DedupInput, DedupResult, Removal } from './reference.js';

/*
 * How it stays exact. Greedy dedup only needs, for each row, its neighbours at similarity ≥ t. That set is found
 * with an all-pairs join that can only skip a pair when a rigorous upper bound on its similarity is below t:
 *   • rows are rotated onto the top principal directions of a sample (any orthonormal basis is valid; PCA just
 *     puts most of the energy first), so for unit a, b:  a·b ≤ p_a·p_b + ρ_a·ρ_b, with ρ the residual norm;
 *   • stage 1 evaluates that with the first k1 coordinates quantised to int16 (8 multiply-adds per instruction),
 *     stage 2 continues to k2 coordinates for the few groups that survive, stage 3 takes the full Float32 dot;
 *   • every approximation (f32 projection, quantisation, the basis being orthonormal only to ~1e-7, f32 bound
 *     arithmetic) is bounded and subtracted from the threshold first (see `quantize`), so a skipped pair always has
 *     canonical similarity < t. Survivors get the canonical Float64 similarity (reference.ts) and that decides.
 * The bound's tightness — not its correctness — depends on the data: on the bench's embedding-like fixture ≥ 99% of
 * pairs stop at stage 1 and ~7 in 10⁶ reach the full dot. A threshold far below typical similarities (or a basis
 * that captures little energy) degrades gracefully towards a full Float32 scan, still exact.
 */

export interface GreedyOptions {
  /** Cosine at or above which a row duplicates a kept row. */
  threshold: number;
  /**
   * The method is exact by construction, so there is no approximate mode to switch to; `false` is accepted and
   * changes nothing.
   */
  exact?: boolean;
  /** Worker threads for projection and the scan; 0 runs on the calling thread. Default: up to 2 when count ≥ 4096. */
  workers?: number;
  /** Stage-1 / stage-2 prefix lengths (rounded to multiples of 8). Defaults 16 / 64. */
  stage1Dims?: number;
  stage2Dims?: number;
  /** Rows sampled to find principal directions. Default 2048. */
  basisSample?: number;
}

const QUERY_BLOCK = 128;
const TILE_GROUPS = 1024;
const SLACK = 2e-6;

/** Exact greedy dedup (see the header); synchronous, even when it uses worker threads. */
export function dedupGreedy(input: DedupInput, opts: GreedyOptions): DedupResult {
  const threshold = opts.threshold;
  checkInput(input, threshold);
  const { count: n, dim } = input;
  const workers = opts.workers ?? (n >= 4096 ? Math.min(2, availableParallelism()) : 0);
  if (!Number.isInteger(workers) || workers < 0) {
    throw new RangeError(`Expected \`workers\` to be an integer ≥ 0, got ${workers}`);
  }
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (label: string): void => {
    const now = performance.now();
    timings[`ms_${label}`] = Math.round(now - t0);
    t0 = now;
  };

  const dp = roundUp(dim, 16);
  const k2 = Math.min(roundUp(opts.stage2Dims ?? 64, 8), dp);
  const k1 = Math.min(roundUp(opts.stage1Dims ?? 16, 8), k2);
  const groups = Math.ceil(n / 4);
  const sampleRows = Math.min(n, opts.basisSample ?? 2048);
  const mPad = roundUp(Math.max(sampleRows, 1), 4);
  const kOver = Math.min(roundUp(k2 + 16, 4), dp);
  const outBytes = TILE_GROUPS * 4 * 8;
  const lanes = Math.max(1, workers);

  const alloc = new Allocator();
  const at = {
    x: alloc.take(n * dp * 4),
    s1: alloc.take(groups * k1 * 8),
    s2: alloc.take(groups * (k2 - k1) * 8),
    t1: alloc.take(groups * 16),
    t2: alloc.take(groups * 16),
    basis: alloc.take(kOver * dp * 4),
    proj: alloc.take(n * k2 * 4),
    sample: alloc.take(mPad * dp * 4),
    sampleT: alloc.take(dp * mPad * 4),
    y: alloc.take(mPad * kOver * 4),
    yT: alloc.take(kOver * mPad * 4),
    z: alloc.take(dp * kOver * 4),
    counter: alloc.take(16),
    sync: alloc.take(16),
    out: Array.from({ length: lanes }, () => alloc.take(outBytes)),
    stats: Array.from({ length: lanes }, () => alloc.take(16)),
  };
  const memory = alloc.memory();
  const f32 = new Float32Array(memory.buffer);
  // Workers boot (tens of ms each) while this thread normalises.
  const pool = workers > 0 && n >= 2 ? WorkerPool.start(workers, memory, at.sync) : undefined;
  try {
    // 1. Canonical normalisation, straight into kernel memory.
    const x = f32.subarray(at.x / 4, at.x / 4 + n * dp);
    const normSq = new Float64Array(n);
    normalizeInto(input.vectors, n, dim, x, dp, normSq);
    lap('normalize');

    if (n < 2) {
      const isKept = new Uint8Array(n).fill(1);
      return finishResult(n, isKept, [], { comparisons: 0, method: 'pruned exact (nothing to compare)', detail: timings });
    }

    // 2. Principal directions of a sample, then every row projected onto the top k2 of them.
    const probe: KernelLayout = { dp, k1, k2, x: at.x, s1: at.s1, s2: at.s2, t1: at.t1, t2: at.t2, limit1: 0, limit2: 0, limit3: 0 };
    const probeModule = compileKernels(probe);
    const local = instantiateKernels(probeModule, memory);
    const eta = principalBasis(local, f32, at, { n, dp, k2, kOver, sampleRows, mPad });
    lap('basis');

    if (pool) {
      pool.project(probeModule, at.x, n, at.basis, k2, dp, at.proj);
    } else {
      local.gemmNT(at.x, n, at.basis, k2, dp, at.proj);
    }
    lap('project');

    // 3. Quantise, residual bounds and stage limits.
    const m = quantize(f32, new Int16Array(memory.buffer), at, { n, dp, k1, k2, normSq, eta, threshold });
    const layout: KernelLayout = { ...probe, limit1: m.limit1, limit2: m.limit2, limit3: m.limit3 };
    const module = compileKernels(layout);
    lap('quantize');

    // 4. Scan all pairs; survivors of the three bound stages come back as candidate (q, j) pairs.
    const nBlocks = Math.ceil(n / QUERY_BLOCK);
    new Int32Array(memory.buffer, at.counter, 4).fill(0);
    const scanParams = (lane: number): ScanParams => ({
      counter: at.counter,
      nBlocks,
      qb: QUERY_BLOCK,
      tile: TILE_GROUPS,
      n,
      out: at.out[lane],
      stats: at.stats[lane],
    });
    const parts = pool
      ? pool.scan(module, scanParams)
      : [scanBlocks(instantiateKernels(module, memory), memory, scanParams(0))];
    lap('scan');

    // 5. Canonical similarity on the candidates; keep the pairs at or above the threshold.
    let candidates = 0;
    let stage2Groups = 0;
    let stage3Dots = 0;
    const near: number[] = [];
    const nearSim: number[] = [];
    for (const part of parts) {
      stage2Groups += part.stage2;
      stage3Dots += part.stage3;
      const p = part.pairs;
      candidates += p.length / 2;
      for (let k = 0; k < p.length; k += 2) {
        const s = similarity(x, p[k] * dp, p[k + 1] * dp, dim);
        if (s >= threshold) {
          near.push(p[k], p[k + 1]);
          nearSim.push(s);
        }
      }
    }
    lap('verify');

    const result = resolveGreedy(n, visitOrder(input.passing), near, nearSim);
    lap('resolve');
    return finishResult(n, result.isKept, result.removed, {
      comparisons: stage3Dots + candidates,
      method: `pruned exact (PCA ${k1}/${k2} int16 bounds, ${workers || 'no'} workers)`,
      detail: {
        ...timings,
        pairs: (n * (n - 1)) / 2,
        stage2Groups,
        stage3Dots,
        candidates,
        nearPairs: nearSim.length,
        margin1: m.err1,
        margin2: m.err2,
        margin3: m.err3,
      },
    });
  } finally {
    pool?.close();
  }
}

function roundUp(v: number, m: number): number {
  return Math.ceil(v / m) * m;
}

/** Bump allocator for the one shared memory a dedup call uses; every block is 64-byte aligned. */
class Allocator {
  private top = 64;
  take(bytes: number): number {
    const at = this.top;
    this.top = roundUp(this.top + Math.max(bytes, 0), 64);
    return at;
  }
  memory(): WasmMemory {
    const pages = Math.ceil(this.top / 65536) + 1;
    if (pages > 65536) {
      throw new RangeError(`dedup needs ${(this.top / 2 ** 30).toFixed(1)} GiB of working memory; the limit is 4 GiB`);
    }
    return new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  }
}

interface BasisSizes {
  n: number;
  dp: number;
  k2: number;
  kOver: number;
  sampleRows: number;
  mPad: number;
}

/**
 * Randomised subspace iteration on an evenly spaced sample (uncentred: the shared mean direction is where most of
 * the energy is), Rayleigh–Ritz to order the directions, then Float64 Gram–Schmidt. Writes k2 basis rows (Float32)
 * at `at.basis` and returns η = ‖W Wᵀ − I‖_F of the stored Float32 rows, which the margins account for.
 */
function principalBasis(
  k: DedupKernels,
  f32: Float32Array,
  at: { x: number; basis: number; sample: number; sampleT: number; y: number; yT: number; z: number },
  s: BasisSizes,
): number {
  const { n, dp, k2, kOver, sampleRows, mPad } = s;
  const sample = f32.subarray(at.sample / 4, at.sample / 4 + mPad * dp);
  const sampleT = f32.subarray(at.sampleT / 4, at.sampleT / 4 + dp * mPad);
  sample.fill(0);
  for (let r = 0; r < sampleRows; r++) {
    const src = at.x / 4 + Math.floor((r * n) / sampleRows) * dp;
    sample.set(f32.subarray(src, src + dp), r * dp);
  }
  transpose(sample, mPad, dp, sampleT);

  // Ω starts random (seeded, so runs are reproducible); rows of `omega` are the current directions.
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296 - 0.5;
  };
  const omega = new Float64Array(kOver * dp);
  for (let i = 0; i < omega.length; i++) omega[i] = rand();
  orthonormalizeRows(omega, kOver, dp, 1);

  const basis = f32.subarray(at.basis / 4, at.basis / 4 + kOver * dp);
  const y = f32.subarray(at.y / 4, at.y / 4 + mPad * kOver);
  const yT = f32.subarray(at.yT / 4, at.yT / 4 + kOver * mPad);
  const z = f32.subarray(at.z / 4, at.z / 4 + dp * kOver);
  for (let iter = 0; iter < 2; iter++) {
    basis.set(omega);
    k.gemmNT(at.sample, mPad, at.basis, kOver, dp, at.y); // Y = S Ωᵀ
    transpose(y, mPad, kOver, yT);
    k.gemmNT(at.sampleT, dp, at.yT, kOver, mPad, at.z); // Z = Sᵀ Y
    transpose(z, dp, kOver, omega);
    orthonormalizeRows(omega, kOver, dp, 1);
  }

  // Rayleigh–Ritz: eigenvectors of (SΩᵀ)ᵀ(SΩᵀ) order the directions by captured energy.
  basis.set(omega);
  k.gemmNT(at.sample, mPad, at.basis, kOver, dp, at.y);
  const c = new Float64Array(kOver * kOver);
  for (let r = 0; r < mPad; r++) {
    const o = r * kOver;
    for (let a = 0; a < kOver; a++) {
      const ya = y[o + a];
      if (ya === 0) continue;
      for (let b = a; b < kOver; b++) c[a * kOver + b] += ya * y[o + b];
    }
  }
  for (let a = 0; a < kOver; a++) for (let b = 0; b < a; b++) c[a * kOver + b] = c[b * kOver + a];
  const { vectors: v, values } = symmetricEigen(c, kOver);
  const orderIdx = [...values.keys()].sort((a, b) => values[b] - values[a]);
  const w = new Float64Array(k2 * dp);
  for (let r = 0; r < k2; r++) {
    const e = orderIdx[r];
    for (let t = 0; t < kOver; t++) {
      const coef = v[t * kOver + e];
      if (coef === 0) continue;
      const o = t * dp;
      for (let j = 0; j < dp; j++) w[r * dp + j] += coef * omega[o + j];
    }
  }
  orthonormalizeRows(w, k2, dp);
  basis.fill(0);
  basis.set(w.subarray(0, k2 * dp));

  // η of the rows actually stored (Float32), computed in Float64.
  let eta2 = 0;
  for (let a = 0; a < k2; a++) {
    for (let b = a; b < k2; b++) {
      let g = 0;
      for (let j = 0; j < dp; j++) g += basis[a * dp + j] * basis[b * dp + j];
      const e = g - (a === b ? 1 : 0);
      eta2 += a === b ? e * e : 2 * e * e;
    }
  }
  return Math.sqrt(eta2);
}

/** out[c][r] = m[r][c], in 32×32 tiles so both sides stay in cache. */
function transpose(m: Float32Array, rows: number, cols: number, out: Float32Array | Float64Array): void {
  for (let r0 = 0; r0 < rows; r0 += 32) {
    const r1 = Math.min(rows, r0 + 32);
    for (let c0 = 0; c0 < cols; c0 += 32) {
      const c1 = Math.min(cols, c0 + 32);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = m[r * cols + c];
    }
  }
}

/** Modified Gram–Schmidt, by default applied twice ("twice is enough"); a row that collapses becomes a unit axis. */
function orthonormalizeRows(m: Float64Array, rows: number, len: number, passes = 2): void {
  for (let pass = 0; pass < passes; pass++) {
    for (let r = 0; r < rows; r++) {
      const o = r * len;
      for (let p = 0; p < r; p++) {
        const po = p * len;
        let d = 0;
        for (let j = 0; j < len; j++) d += m[o + j] * m[po + j];
        for (let j = 0; j < len; j++) m[o + j] -= d * m[po + j];
      }
      let s = 0;
      for (let j = 0; j < len; j++) s += m[o + j] * m[o + j];
      if (s < 1e-20) {
        // Degenerate sample (e.g. fewer distinct rows than directions): any orthonormal completion keeps the bound valid.
        m.fill(0, o, o + len);
        m[o + (r % len)] = 1;
        pass--;
        break;
      }
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < len; j++) m[o + j] *= inv;
    }
  }
}

/** Cyclic Jacobi eigen-decomposition of a small symmetric matrix (row-major); columns of `vectors` are eigenvectors. */
function symmetricEigen(a: Float64Array, n: number): { vectors: Float64Array; values: number[] } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-18 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = Array.from({ length: n }, (_, i) => a[i * n + i]);
  return { vectors: v, values };
}

const F32_MAX = 3.4028234663852886e38;

/** Largest Float32 ≤ v (limits must never round up, or a pair at the threshold could be skipped). */
function f32Below(v: number): number {
  if (v >= F32_MAX) return F32_MAX;
  let r = Math.fround(v);
  while (r > v) r = Math.fround(r - Math.max(Math.abs(r) * 2 ** -23, 1e-45));
  return r;
}

/** Smallest Float32 ≥ v. */
function f32Above(v: number): number {
  if (v > F32_MAX) return Infinity;
  let r = Math.fround(v);
  while (r < v) r = Math.fround(r + Math.max(Math.abs(r) * 2 ** -23, 1e-45));
  return r;
}

/**
 * Writes the int16 prefixes (interleaved by groups of 4 rows) and the residual bounds, and derives each stage's
 * limit. For a prefix of k directions with stored basis rows W (Gram matrix I+E, ‖E‖ ≤ η), computed projection
 * p̂ (|p̂ − Wa| ≤ ε_p per coordinate, ε_p = γ_{dp/4+3}·‖a‖‖w‖) and quantisation step s:
 *   a·b ≤ s²·(q_a·q_b) + ρ̄_a·ρ̄_b + err_k,   err_k = δ(2L_k + kδ) + 1.01·η(1+η)/(1−η),   δ = ε_p + s/2,
 *   ρ̄_a² = ‖a‖² − (‖p̂_a‖ − √k·ε_p)₊² / (1+η)   (an upper bound of the true residual norm²),
 * with L_k the largest ‖p̂‖₁ over the prefix. Stage 3 compares the Float32 full dot with t − γ_{dp/16+5}.
 */
function quantize(
  f32: Float32Array,
  i16: Int16Array,
  at: { proj: number; s1: number; s2: number; t1: number; t2: number },
  o: { n: number; dp: number; k1: number; k2: number; normSq: Float64Array; eta: number; threshold: number },
): { limit1: number; limit2: number; limit3: number; err1: number; err2: number; err3: number } {
  const { n, dp, k1, k2, normSq, eta, threshold } = o;
  const proj = f32.subarray(at.proj / 4, at.proj / 4 + n * k2);
  const unitish = 1 + 2 ** -22; // ‖a‖ of a normalised Float32 row, and ‖w‖ of a stored basis row, are within this
  const epsP = gammaF32(dp / 4 + 3) * unitish * Math.sqrt(1 + eta);
  let maxNorm = 0;
  let l1Max1 = 0;
  let l1Max2 = 0;
  const pre1 = new Float64Array(n);
  const pre2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sq = 0;
    let l1 = 0;
    for (let c = 0; c < k2; c++) {
      const v = proj[i * k2 + c];
      sq += v * v;
      l1 += Math.abs(v);
      if (c === k1 - 1) {
        pre1[i] = sq;
        l1Max1 = Math.max(l1Max1, l1);
      }
    }
    pre2[i] = sq;
    l1Max2 = Math.max(l1Max2, l1);
    maxNorm = Math.max(maxNorm, Math.sqrt(sq));
  }
  // |q| ≤ 32760 and ‖q‖ ≤ 32760 + √k/2, so every int32 lane sum stays below 2³¹. The floor keeps 1/step² far
  // inside Float32 range when all projections vanish (degenerate input); any step > 0 keeps the bounds valid.
  const step = Math.max(maxNorm, 1e-3) / 32760;
  const delta = epsP + step / 2;
  const gramErr = (1.01 * eta * (1 + eta)) / (1 - eta);
  const err1 = delta * (2 * l1Max1 + k1 * delta) + gramErr;
  const err2 = delta * (2 * l1Max2 + k2 * delta) + gramErr;
  const err3 = gammaF32(dp / 16 + 5) * unitish;

  const c1 = k1 / 2;
  const c2 = (k2 - k1) / 2;
  const t1 = f32.subarray(at.t1 / 4, at.t1 / 4 + Math.ceil(n / 4) * 4).fill(0);
  const t2 = f32.subarray(at.t2 / 4, at.t2 / 4 + Math.ceil(n / 4) * 4).fill(0);
  const base1 = at.s1 / 2;
  const base2 = at.s2 / 2;
  i16.fill(0, base1, base1 + Math.ceil(n / 4) * k1 * 4);
  i16.fill(0, base2, base2 + Math.ceil(n / 4) * (k2 - k1) * 4);
  const residual = (i: number, pre: number, k: number): number => {
    const lower = Math.max(0, Math.sqrt(pre) - Math.sqrt(k) * epsP);
    const r2 = normSq[i] * (1 + 1e-12) - (lower * lower) / (1 + eta);
    return f32Above((Math.sqrt(Math.max(0, r2)) / step) * (1 + 1e-12));
  };
  for (let i = 0; i < n; i++) {
    const g = i >> 2;
    const lane = i & 3;
    for (let c = 0; c < k2; c++) {
      const q = Math.round(proj[i * k2 + c] / step);
      if (c < k1) {
        i16[base1 + (g * c1 + (c >> 1)) * 8 + lane * 2 + (c & 1)] = q;
      } else {
        const cc = c - k1;
        i16[base2 + (g * c2 + (cc >> 1)) * 8 + lane * 2 + (cc & 1)] = q;
      }
    }
    t1[i] = residual(i, pre1[i], k1);
    t2[i] = residual(i, pre2[i], k2);
  }
  const s2 = step * step;
  return {
    limit1: f32Below((threshold - err1 - SLACK) / s2),
    limit2: f32Below((threshold - err2 - SLACK) / s2),
    limit3: f32Below(threshold - err3 - 1e-9),
    err1,
    err2,
    err3,
  };
}

/**
 * The greedy walk over precomputed neighbour pairs: in visit order, a row is removed when some already-kept row is
 * a neighbour; it names the neighbour with the highest similarity, ties going to the one visited first.
 */
function resolveGreedy(
  n: number,
  order: Int32Array,
  pairs: number[],
  sims: number[],
): { isKept: Uint8Array; removed: Removal[] } {
  const rank = new Int32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]] = r;
  // Each pair is only ever needed from its later-visited end.
  const start = new Int32Array(n + 1);
  for (let k = 0; k < sims.length; k++) {
    const [a, b] = [pairs[2 * k], pairs[2 * k + 1]];
    start[(rank[a] > rank[b] ? a : b) + 1]++;
  }
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const fill = start.slice(0, n);
  const nb = new Int32Array(sims.length);
  const ns = new Float64Array(sims.length);
  for (let k = 0; k < sims.length; k++) {
    const [a, b] = [pairs[2 * k], pairs[2 * k + 1]];
    const [late, early] = rank[a] > rank[b] ? [a, b] : [b, a];
    nb[fill[late]] = early;
    ns[fill[late]++] = sims[k];
  }
  const isKept = new Uint8Array(n);
  const removed: Removal[] = [];
  for (let r = 0; r < n; r++) {
    const i = order[r];
    let best = -1;
    let bestSim = -Infinity;
    for (let e = start[i]; e < start[i + 1]; e++) {
      const j = nb[e];
      if (!isKept[j]) continue;
      const s = ns[e];
      if (s > bestSim || (s === bestSim && rank[j] < rank[best])) {
        best = j;
        bestSim = s;
      }
    }
    if (best < 0) isKept[i] = 1;
    else removed.push({ index: i, duplicateOf: best, similarity: bestSim });
  }
  return { isKept, removed };
}

// ---- the scan driver: one JS source, run on worker threads or, with workers: 0, on the calling thread ----

interface ScanParams {
  counter: number;
  nBlocks: number;
  qb: number;
  tile: number;
  n: number;
  out: number;
  stats: number;
}

interface ScanPart {
  pairs: Int32Array;
  stage2: number;
  stage3: number;
}

/*
 * Query blocks are handed out through an atomic counter, heaviest (largest q, most columns) first, so two threads
 * finish together. Within a block the column tiles are the outer loop so a tile's int16 data stays in L2 while
 * every query of the block passes over it.
 */
const SCAN_DRIVER_SOURCE = `function scanBlocks(k, memory, p) {
  const i32 = new Int32Array(memory.buffer);
  let pairs = new Int32Array(4096);
  let len = 0;
  let stage2 = 0;
  let stage3 = 0;
  const st = p.stats >> 2;
  for (;;) {
    const b = Atomics.add(i32, p.counter >> 2, 1);
    if (b >= p.nBlocks) break;
    const blk = p.nBlocks - 1 - b;
    const q0 = blk * p.qb;
    const q1 = Math.min(p.n, q0 + p.qb);
    const gLast = (q1 + 2) >> 2;
    i32[st] = 0;
    i32[st + 1] = 0;
    for (let g0 = 0; g0 < gLast; g0 += p.tile) {
      const g1 = Math.min(g0 + p.tile, gLast);
      for (let q = q0; q < q1; q++) {
        const c = k.scan(q, g0, g1, p.out, p.stats);
        if (c > 0) {
          if (len + 2 * c > pairs.length) {
            const grown = new Int32Array(Math.max(pairs.length * 2, len + 2 * c));
            grown.set(pairs.subarray(0, len));
            pairs = grown;
          }
          pairs.set(i32.subarray(p.out >> 2, (p.out >> 2) + 2 * c), len);
          len += 2 * c;
        }
      }
      stage2 += i32[st];
      stage3 += i32[st + 1];
      i32[st] = 0;
      i32[st + 1] = 0;
    }
  }
  return { pairs: pairs.slice(0, len), stage2, stage3 };
}`;

const scanBlocks = new Function(`return ${SCAN_DRIVER_SOURCE}`)() as (
  k: DedupKernels,
  memory: WasmMemory,
  p: ScanParams,
) => ScanPart;

/*
 * Workers report back through a MessagePort read with receiveMessageOnPort while the caller blocks in Atomics.wait
 * on a shared counter, so dedupGreedy stays synchronous. Each worker posts its reply before bumping the counter.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
${SCAN_DRIVER_SOURCE}
const { port, memory, sync } = workerData;
const flags = new Int32Array(memory.buffer, sync, 4);
Atomics.add(flags, 1, 1);
Atomics.notify(flags, 1);
port.on('message', (msg) => {
  if (msg.type === 'exit') {
    port.close();
    return;
  }
  try {
    const k = new WebAssembly.Instance(msg.module, { env: { mem: memory } }).exports;
    if (msg.type === 'project') {
      const { x, rows, basis, k2, dp, out } = msg;
      k.gemmNT(x, rows, basis, k2, dp, out);
      port.postMessage({ ok: true });
    } else if (msg.type === 'scan') {
      const part = scanBlocks(k, memory, msg.params);
      port.postMessage({ ok: true, part }, [part.pairs.buffer]);
    }
  } catch (err) {
    port.postMessage({ ok: false, error: String((err && err.stack) || err) });
  }
  Atomics.add(flags, 0, 1);
  Atomics.notify(flags, 0);
});
`;

/** Worker threads sharing the kernel memory; `run` posts one task per worker and blocks until all replied. */
class WorkerPool {
  private constructor(
    private readonly workers: Worker[],
    private readonly ports: MessagePort[],
    private readonly flags: Int32Array,
  ) {}

  static start(count: number, memory: WasmMemory, sync: number): WorkerPool {
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    for (let i = 0; i < count; i++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { port: port2, memory, sync }, transferList: [port2] });
      w.unref();
      // Failures are reported through the port; a late 'error' event must not crash the process afterwards.
      w.on('error', () => {});
      workers.push(w);
      ports.push(port1);
    }
    return new WorkerPool(workers, ports, new Int32Array(memory.buffer, sync, 4));
  }

  private run<T>(tasks: object[]): T[] {
    // A worker that never boots (e.g. out of memory) would leave the caller blocked; after boot, every task replies.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const started = Atomics.load(this.flags, 1);
      if (started >= this.workers.length) break;
      if (Date.now() > deadline) throw new Error(`dedup: ${this.workers.length - started} worker thread(s) did not start within 30 s`);
      Atomics.wait(this.flags, 1, started, 100);
    }
    Atomics.store(this.flags, 0, 0);
    tasks.forEach((t, i) => this.ports[i].postMessage(t));
    for (;;) {
      const done = Atomics.load(this.flags, 0);
      if (done >= tasks.length) break;
      Atomics.wait(this.flags, 0, done, 1000);
    }
    return this.ports.slice(0, tasks.length).map((port) => {
      const reply = receiveMessageOnPort(port)?.message as ({ ok: boolean; error?: string } & T) | undefined;
      if (!reply?.ok) throw new Error(`dedup worker failed: ${reply?.error ?? 'no reply'}`);
      return reply;
    });
  }

  project(module: WasmModule, x: number, n: number, basis: number, k2: number, dp: number, out: number): void {
    const per = Math.ceil(n / this.workers.length);
    this.run(
      this.workers.map((_, i) => {
        const r0 = Math.min(n, i * per);
        const rows = Math.min(n, r0 + per) - r0;
        return { type: 'project', module, x: x + r0 * dp * 4, rows, basis, k2, dp, out: out + r0 * k2 * 4 };
      }),
    );
  }

  scan(module: WasmModule, params: (lane: number) => ScanParams): ScanPart[] {
    return this.run<{ part: ScanPart }>(this.workers.map((_, i) => ({ type: 'scan', module, params: params(i) }))).map(
      (r) => r.part,
    );
  }

  close(): void {
    for (const p of this.ports) {
      p.postMessage({ type: 'exit' });
      p.close();
    }
    for (const w of this.workers) void w.terminate();
  }
}
