// Fast, exact greedy near-duplicate removal over embeddings: bound-pruned all-pairs scan, then the greedy walk.
import { availableParallelism } from 'node:os';
import { extendBasis, principalBasis, storeBasis } from './basis.js';
import { quantize } from './bounds.js';
import { BRUTE_SCRATCH_BYTES, bruteForceGreedy, int16RowBytes } from './brute_force.js';
import { checkInput, finishResult, normalizeInto, visitOrder, type DedupInput, type DedupResult } from './reference.js';
import { chunkRows, scanKept } from './kept_scan.js';
import { resolveGreedy } from './resolve.js';
import { Allocator, MAX_PAGES, roundUp } from './shared_memory.js';
import {
  bruteForceCost,
  choosePath,
  estimateRows,
  PREFIXES,
  prunedFloor,
  HOPELESS_PASS,
  randomCompletionRates,
  samplePassRates,
  scanCost,
  scanTile,
  WIDE_TILE,
  type PathChoice,
  type Prefix,
} from './path_choice.js';
import { compileKernels, instantiateKernels, type KernelLayout } from './simd_kernels.js';
import { scanBlocks, WorkerPool, type ScanParams, type ScanPart } from './worker_pool.js';

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
 * pairs stop at stage 1 and ~7 in 10⁶ reach the full dot; on isotropic data 16 dims prune nothing and 64/128 do.
 * So by default (method 'auto') the prefix is chosen from the pass rates of a sample's pairs, and when no prefix
 * would pay (a threshold far below typical similarities, or too few rows to amortise the basis) the brute-force
 * path runs instead (path_choice.ts). Every path is exact and gives the same result.
 */

export interface GreedyOptions {
  /** Cosine at or above which a row duplicates a kept row. */
  threshold: number;
  /**
   * 'auto' (default): the cheapest path by a sample's estimate (path_choice.ts); 'pruned': the prefix-bound scan;
   * 'brute-force': blocks of candidates against the kept set with a blocked int16 or f32 filter (brute_force.ts). All are
   * exact and give the same result.
   */
  method?: 'auto' | 'pruned' | 'brute-force';
  /** Worker threads for projection and the scan; 0 runs on the calling thread. Default: up to 2 when count ≥ 4096. */
  workers?: number;
  /** Stage-1 / stage-2 prefix lengths (rounded to multiples of 8); given, they pin the prefix. Default 16 / 64, or wider when 'auto' finds it cheaper. */
  stage1Dims?: number;
  stage2Dims?: number;
  /** Rows sampled to find principal directions. Default 2048. */
  basisSample?: number;
  /** Rows of the visit order scanned together against the rows kept before them (see scanKept). Default: n/32, at least 2048. */
  chunkRows?: number;
  /**
   * The brute-force path's filter: 'int16' (default) quantises a copy of the rows, twice the f32 rate, where the
   * 4 GiB memory has room for it; 'f32' reads the stored rows. Both are exact.
   */
  bruteFilter?: 'int16' | 'f32';
}

const QUERY_BLOCK = 128;

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
  const method = opts.method ?? 'auto';
  const clamp = (p: Prefix): Prefix => {
    const k2 = Math.min(roundUp(p.k2, 8), dp);
    return { k1: Math.min(roundUp(p.k1, 8), k2), k2 };
  };
  const pinned = opts.stage1Dims !== undefined || opts.stage2Dims !== undefined;
  const tried = pinned || method !== 'auto' ? [{ k1: opts.stage1Dims ?? 16, k2: opts.stage2Dims ?? 64 }] : PREFIXES;
  const prefixes = tried.map(clamp).filter((p, i, all) => all.findIndex((q) => q.k1 === p.k1 && q.k2 === p.k2) === i);
  const maxK1 = Math.max(...prefixes.map((p) => p.k1));
  const maxK2 = Math.max(...prefixes.map((p) => p.k2));
  const maxTail = Math.max(...prefixes.map((p) => p.k2 - p.k1));
  const groups = Math.ceil(n / 4);
  const sampleRows = Math.min(n, opts.basisSample ?? 2048);
  const mPad = roundUp(Math.max(sampleRows, 1), 4);
  // Principal directions are computed for the narrowest prefix; wider ones are completed with random directions.
  const kPrincipal = prefixes[0].k2;
  const kOver = Math.min(roundUp(kPrincipal + 16, 4), dp);
  const basisRows = Math.max(kOver, maxK2);
  const outBytes = WIDE_TILE * 4 * 8;
  const lanes = Math.max(1, workers);

  const alloc = new Allocator();
  const at = {
    // 4 spare rows: the brute-force tiles read whole 4-row groups past the last row.
    x: alloc.take((n + 4) * dp * 4),
    s1: alloc.take(groups * maxK1 * 8),
    s2: alloc.take(groups * maxTail * 8),
    t1: alloc.take(groups * 16),
    t2: alloc.take(groups * 16),
    basis: alloc.take(basisRows * dp * 4),
    proj: alloc.take(n * maxK2 * 4),
    sample: alloc.take(mPad * dp * 4),
    sampleT: alloc.take(dp * mPad * 4),
    y: alloc.take(mPad * kOver * 4),
    yT: alloc.take(kOver * mPad * 4),
    z: alloc.take(dp * kOver * 4),
    counter: alloc.take(16),
    sync: alloc.take(16),
    out: Array.from({ length: lanes }, () => alloc.take(outBytes)),
    stats: Array.from({ length: lanes }, () => alloc.take(16)),
    brute: Array.from({ length: lanes + 1 }, () => alloc.take(BRUTE_SCRATCH_BYTES)),
    // The int16 rows of the brute-force filter, where the 4 GiB memory has room (untouched unless that path runs).
    q:
      opts.bruteFilter !== 'f32' && alloc.size + int16RowBytes(n, dp) < (MAX_PAGES - 2) * 65536
        ? alloc.take(int16RowBytes(n, dp))
        : undefined,
  };
  const memory = alloc.memory();
  const f32 = new Float32Array(memory.buffer);
  // Workers boot (tens of ms each) while this thread normalises.
  const pool = workers > 0 && n >= 2 ? WorkerPool.start(workers, memory, at.sync) : undefined;
  try {
    // 1. Canonical normalisation, straight into kernel memory, each row at its place in the visit order: the scan
    // walks that order so that it can leave out the rows already removed (see scanKept).
    const order = visitOrder(input.passing);
    const x = f32.subarray(at.x / 4, at.x / 4 + n * dp);
    const normSq = new Float64Array(n);
    normalizeInto(input.vectors, n, dim, x, dp, normSq, order);
    lap('normalize');

    if (n < 2) {
      const isKept = new Uint8Array(n).fill(1);
      return finishResult(n, isKept, [], {
        comparisons: 0,
        method: 'pruned exact (nothing to compare)',
        detail: timings,
      });
    }

    // 2. Principal directions of a sample; with 'auto', the prefix (or brute force) the sample's pairs favour.
    const probe: KernelLayout = {
      dp,
      k1: prefixes[0].k1,
      k2: kPrincipal,
      x: at.x,
      s1: at.s1,
      s2: at.s2,
      t1: at.t1,
      t2: at.t2,
      limit1: 0,
      limit2: 0,
      limit3: 0,
    };
    const probeModule = compileKernels(probe);
    const local = instantiateKernels(probeModule, memory);
    // Prefixes whose pass rates were predicted rather than measured (see `rates` below), for the stats.
    const predicted: Prefix[] = [];
    const bruteForce = (choice?: PathChoice): DedupResult => {
      // The rows are in visit order already: brute force walks them as they are, and its places map back.
      const places = Int32Array.from({ length: n }, (_, r) => r);
      const bf = bruteForceGreedy({
        kernels: local,
        module: probeModule,
        memory,
        pool,
        x: at.x,
        n,
        dp,
        dim,
        order: places,
        threshold,
        out: at.brute,
        q: at.q,
      });
      lap('brute');
      const isKept = new Uint8Array(n);
      for (let r = 0; r < n; r++) isKept[order[r]!] = bf.isKept[r]!;
      const removed = bf.removed.map((m) => ({ ...m, index: order[m.index]!, duplicateOf: order[m.duplicateOf]! }));
      return finishResult(n, isKept, removed, {
        comparisons: bf.dots,
        method: `brute-force exact (blocked ${bf.filter} filter, ${workers || 'no'} workers${choice ? `; chosen: ${choice.reason}` : ''})`,
        detail: {
          ...timings,
          ...choiceDetail(choice, predicted),
          dots: bf.dots,
          candidates: bf.candidates,
          margin: bf.margin,
        },
      });
    };
    if (method === 'brute-force') return bruteForce();
    const bruteFilter = at.q === undefined ? 'f32' : 'int16';
    if (method === 'auto' && bruteForceCost(n, dp, bruteFilter) < prunedFloor(n, dp, prefixes[0], sampleRows)) {
      return bruteForce({
        path: 'brute-force',
        reason: 'too few rows for the basis to pay',
        estimates: [],
        bruteCost: bruteForceCost(n, dp, bruteFilter),
      });
    }
    // The basis products are split across the workers too: at 10k rows they are the largest fixed cost.
    const gemm = pool ? { gemmNT: pool.project.bind(pool, probeModule) } : local;
    let w = principalBasis(gemm, f32, at, { n, dp, k2: kPrincipal, kOver, sampleRows, mPad });
    const widen = (k2: number): Float64Array => {
      if (w.length < k2 * dp) w = extendBasis(w, w.length / dp, k2, dp);
      return w;
    };
    lap('basis');
    let prefix = prefixes[0];
    let choice: PathChoice | undefined;
    if (method === 'auto') {
      // The estimate's rows are projected with the kernel, into the sample area (free once the basis is found).
      const rows = estimateRows(n, sampleRows);
      const norm = new Float64Array(rows.length);
      rows.forEach((r, s) => {
        f32.copyWithin(at.sample / 4 + s * dp, at.x / 4 + r * dp, at.x / 4 + (r + 1) * dp);
        norm[s] = normSq[r];
      });
      // The principal prefix's projection, kept when its bounds passed nearly every pair: a wider prefix is then
      // predicted first (randomCompletionRates) and measured only if the prediction prices it below brute force.
      let principal: Float32Array | undefined;
      const rates = (p: Prefix): { pass1: number; pass2: number } => {
        if (principal && p.k2 > kPrincipal) {
          const guess = randomCompletionRates(principal, norm, kPrincipal, p, dp, threshold);
          if (scanCost(n, dp, { ...p, ...guess }) >= bruteForceCost(n, dp, bruteFilter)) {
            predicted.push(p);
            return guess;
          }
        }
        storeBasis(f32, at.basis, widen(p.k2), p.k2, dp, basisRows);
        local.gemmNT(at.sample, rows.length, at.basis, p.k2, dp, at.proj);
        const proj = f32.subarray(at.proj / 4, at.proj / 4 + rows.length * p.k2);
        const measured = samplePassRates(proj, norm, p, threshold);
        if (p.k2 === kPrincipal && measured.pass2 >= HOPELESS_PASS) principal = proj.slice();
        return measured;
      };
      choice = choosePath(n, dp, prefixes, rates, true, bruteFilter);
      lap('choose');
      if (choice.path === 'brute-force') return bruteForce(choice);
      prefix = choice.prefix!;
    }
    const { k1, k2 } = prefix;
    const eta = storeBasis(f32, at.basis, widen(k2), k2, dp, basisRows);
    lap('widen');

    if (pool) {
      pool.project(probeModule, at.x, n, at.basis, k2, dp, at.proj);
    } else {
      local.gemmNT(at.x, n, at.basis, k2, dp, at.proj);
    }
    lap('project');

    // 3. Quantise, residual bounds and stage limits.
    const m = quantize(f32, new Int16Array(memory.buffer), at, { n, dp, k1, k2, normSq, eta, threshold });
    const layout: KernelLayout = { ...probe, k1, k2, limit1: m.limit1, limit2: m.limit2, limit3: m.limit3 };
    const module = compileKernels(layout);
    lap('quantize');

    // 4. Scan the pairs the greedy needs, chunk by chunk of the visit order; survivors of the three bound stages
    // get the canonical similarity, and the pairs at or above the threshold are kept (in input indices).
    const tile = scanTile(choice?.estimates.find((e) => e.k1 === k1 && e.k2 === k2)?.pass2);
    const kernels = pool ? undefined : instantiateKernels(module, memory);
    const scanRange = (base: number, end: number): ScanPart[] => {
      new Int32Array(memory.buffer, at.counter, 4).fill(0);
      const params = (lane: number): ScanParams => ({
        counter: at.counter,
        nBlocks: Math.ceil((end - base) / QUERY_BLOCK),
        qb: QUERY_BLOCK,
        tile,
        base,
        n: end,
        out: at.out[lane],
        stats: at.stats[lane],
      });
      return pool ? pool.scan(module, params) : [scanBlocks(kernels!, memory, params(0))];
    };
    const chunk = opts.chunkRows ?? chunkRows(n, QUERY_BLOCK);
    if (!Number.isInteger(chunk) || chunk < 1) {
      throw new RangeError(`Expected \`chunkRows\` to be an integer ≥ 1, got ${chunk}`);
    }
    const scanned = scanKept({ f32, at, n, dp, k1, k2, dim, threshold, x, order, chunk }, scanRange);
    lap('verify');
    timings.ms_scan = Math.round(scanned.scanMs);
    timings.ms_verify -= timings.ms_scan;
    const { near, nearSim, candidates, stage2Groups, stage3Dots } = scanned;

    const result = resolveGreedy(n, order, near, nearSim);
    lap('resolve');
    return finishResult(n, result.isKept, result.removed, {
      comparisons: stage3Dots + candidates,
      method: `pruned exact (${k2 > kPrincipal ? `PCA ${kPrincipal} + random` : 'PCA'} ${k1}/${k2} int16 bounds, ${workers || 'no'} workers${choice ? `; chosen: ${choice.reason}` : ''})`,
      detail: {
        ...timings,
        ...choiceDetail(choice, predicted),
        pairs: (n * (n - 1)) / 2,
        tileGroups: tile,
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

/** The estimates behind an automatic choice, as numbers for the stage's stats. */
function choiceDetail(choice: PathChoice | undefined, predicted: Prefix[]): Record<string, number> {
  if (!choice) return {};
  const out: Record<string, number> = { costBrute: choice.bruteCost };
  for (const p of predicted) out[`predicted_${p.k1}_${p.k2}`] = 1;
  for (const e of choice.estimates) {
    out[`pass1_${e.k1}_${e.k2}`] = e.pass1;
    out[`pass2_${e.k1}_${e.k2}`] = e.pass2;
    out[`cost_${e.k1}_${e.k2}`] = e.cost;
  }
  return out;
}
