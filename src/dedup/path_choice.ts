// Stage 6's automatic path choice: how well the prefix bounds would prune, estimated on a sample, against brute force.

/*
 * Why choose at all: the prefix bound a·b ≤ p_a·p_b + ρ_a·ρ_b prunes when most of a row's energy sits in the prefix.
 * On embedding-like data (a shared direction, a decaying spectrum) 16 principal dimensions leave < 1% of pairs; on
 * isotropic data they leave every pair, and a wider prefix (64/128 dims of any orthonormal basis) is what prunes:
 * its residual product ≈ 1 − 64/1024 sits below a 0.95 threshold. With a threshold far below typical similarities
 * no prefix prunes and the brute-force path (blocked products against the kept set) is the fastest exact one.
 * The choice only affects speed: every path is exact and gives the same result.
 *
 * Costs are in one unit, one int16 dot step of the stage-1 kernel per group of 4 rows (~1.5 ns of wall time with
 * both workers on this shared 2-core machine). Fitted on the isotropic bench fixture at 10k rows, 1024 dims, in
 * one process (2026-12-02): the scan took 1.02 s at prefix 32/128, 0.89 s at 64/128, 1.14 s at 96/192 and 1.45 s
 * at 128/256 (a group costs ~12 + k1/2 units, a stage-2 step half a unit), 2.67 s at 16/64 (3.4·10⁶ untiled full
 * dots, memory-bound: ~400 units each); brute force 7.2 s for 45·10⁶ tiled dots (~105 units each); the
 * principal basis 0.84 s; the projection onto 64 directions 0.24 s.
 */

export interface Prefix {
  k1: number;
  k2: number;
}

export interface PathEstimate extends Prefix {
  /** Share of sampled pairs whose stage-1 / stage-2 bound reaches the threshold. */
  pass1: number;
  pass2: number;
  /** Estimated cost of the scan with this prefix, in the module's units. */
  cost: number;
}

export interface PathChoice {
  path: 'pruned' | 'brute-force';
  prefix?: Prefix;
  /** Why, for the stage's stats. */
  reason: string;
  estimates: PathEstimate[];
  bruteCost: number;
}

/** The prefixes tried, narrowest first: principal directions for the first, completed with random ones beyond. */
export const PREFIXES: Prefix[] = [
  { k1: 16, k2: 64 },
  { k1: 64, k2: 128 },
  { k1: 128, k2: 256 },
];

/** Rows whose pairs estimate the pass rates: 256 rows give 32,640 pairs. */
export const SAMPLE_ROWS = 256;
/** The stage limits are lowered by ~2–6·10⁻⁴ for rounding; the estimate uses a similar margin. */
const MARGIN = 5e-4;

const GROUP_BASE = 12;
const STAGE2_STEP = 0.5;
const STAGE3_DOT = 400 / 1024; // per dimension, with the wide tile
// With the narrow tile the rows a full dot reads stay in L2 (see below): measured ~0.6× the wide tile's scan on the
// end-to-end distribution, where the full dots are most of it.
const STAGE3_DOT_NARROW = 240 / 1024;
// Per dimension, with both workers. Measured 2026-12-04 on 10k rows of four distributions (same process, quiet
// machine): the chosen prefix's scan ran at 0.25–0.38 ns a unit of its estimate, and brute force over 45·10⁶ dots
// took 0.65 s with the int16 filter and 1.15 s with the f32 one; priced on the prefix scans' scale, 43 and 77 units.
const BRUTE_DOT = { int16: 43 / 1024, f32: 77 / 1024 };
const BRUTE_LOCAL = 1.5; // below ~2 × 2048 rows the brute path runs mostly on the calling thread
const PROJECT = 250 / 1024; // per row, basis row and dimension
const BASIS = 550e6 / (2048 * 80 * 1024); // per sample row, basis row (k2 + 16) and dimension

/*
 * Column tile of the scan, in 4-row groups. A tile's int16 prefix data should stay in L2 while every query of a
 * block passes over it, and 1,024 groups (4,096 rows) does that at ~1 ns a group. But when many pairs reach the
 * full Float32 dot (stage 3), the tile's rows themselves are read: 4,096 rows × 4 kB is 16 MB, far past L2, so
 * each full dot waits on L3 or memory. 64 groups (256 rows, 1 MB at 1024 dims) keeps them in L2 and is reused
 * by every query of the block. Measured 2026-12-03 (20k rows, shared machine, load 5, scan time with 2 workers):
 * text-derived embeddings of the end-to-end bench (8.7% of pairs reach stage 3) 9.9–13.9 s at 1,024 groups,
 * 6.5–7.1 s at 64, 6.5 s at 32; the clustered bench fixture (~10⁻⁵ reach stage 3) 0.54–0.57 s at 1,024 and
 * 0.70–0.87 s at 64; the isotropic one at 64/128 level (2.8–3.8 s either way).
 */
export const WIDE_TILE = 1024;
export const NARROW_TILE = 64;
/** Share of pairs reaching the full dot above which the narrow tile pays. */
const NARROW_TILE_PASS2 = 1e-3;

/** The scan's column tile for the chosen prefix's estimated stage-3 rate (the wide tile without an estimate). */
export function scanTile(pass2: number | undefined): number {
  return pass2 !== undefined && pass2 >= NARROW_TILE_PASS2 ? NARROW_TILE : WIDE_TILE;
}

/** Cost of the brute-force path: every visited row against the rows kept before it (at most all of them). */
export function bruteForceCost(n: number, dp: number, filter: 'int16' | 'f32' = 'int16'): number {
  return ((n * (n - 1)) / 2) * BRUTE_DOT[filter] * dp * (n < 4096 ? BRUTE_LOCAL : 1);
}

/** The least a prefix's scan can cost: its projection and a stage-1 pass over every group. */
function scanFloor(n: number, dp: number, p: Prefix): number {
  return PROJECT * n * p.k2 * dp + ((n * n) / 8) * (GROUP_BASE + p.k1 / 2);
}

/** The least the pruned path can cost: its basis, then the scan floor of its narrowest prefix. */
export function prunedFloor(n: number, dp: number, prefix: Prefix, sampleRows: number): number {
  return BASIS * sampleRows * (prefix.k2 + 16) * dp + scanFloor(n, dp, prefix);
}

/** Cost of the pruned scan for one prefix, given per-pair pass rates (a group of 4 rows passes if any pair does). */
export function scanCost(n: number, dp: number, e: Prefix & { pass1: number; pass2: number }): number {
  const groupPass = 1 - (1 - e.pass1) ** 4;
  return (
    scanFloor(n, dp, e) +
    ((n * n) / 8) * groupPass * STAGE2_STEP * ((e.k2 - e.k1) / 2) +
    ((n * n) / 2) * e.pass2 * (scanTile(e.pass2) === NARROW_TILE ? STAGE3_DOT_NARROW : STAGE3_DOT) * dp
  );
}

/**
 * Rows for the estimate, evenly spaced and outside the basis sample: principal directions fit their own sample
 * (on isotropic data its top 64 directions hold ~2.5× the energy they hold for other rows), so rows from it would
 * make the bounds look tighter than they are for the rest. With n ≤ the basis sample every row is in it, as in
 * the scan itself.
 */
export function estimateRows(n: number, basisSample: number): Int32Array {
  const m = Math.min(n, SAMPLE_ROWS);
  const inBasis = new Uint8Array(n);
  if (basisSample < n) for (let r = 0; r < basisSample; r++) inBasis[Math.floor((r * n) / basisSample)] = 1;
  const rows = new Int32Array(m);
  for (let s = 0; s < m; s++) {
    let i = Math.floor(((s + 0.5) * n) / m);
    while (basisSample < n && inBasis[i] && i + 1 < n) i++;
    rows[s] = i;
  }
  return rows;
}

/**
 * Pass rates of one prefix on the pairs of the sampled rows, from their Float32 projections `proj` (m × k2): the
 * bound with the prefix dot products and residual norms, against threshold − MARGIN. `norm` holds the rows'
 * squared norms.
 */
export function samplePassRates(
  proj: Float32Array,
  norm: Float64Array,
  prefix: Prefix,
  threshold: number,
): { pass1: number; pass2: number } {
  return randomCompletionRates(proj, norm, prefix.k2, prefix, prefix.k2, threshold);
}

/** The principal prefix's sample pairs all but pass its bounds: the wider, random-completed ones are predicted. */
export const HOPELESS_PASS = 0.99;

/**
 * Pass rates a prefix completed with random directions beyond the `kp` principal ones would have, predicted from the
 * sample's projection `proj` (m × kp) alone: each random direction takes an equal share of a row's residual energy
 * in expectation, and the residuals' dot over them is taken as 0. This spares widening the basis and projecting the
 * sample again (~0.1 s a prefix at 1024 dims) when the principal prefix pruned nothing; it only steers the choice.
 * With k2 ≤ kp nothing is predicted: these are the measured rates of `samplePassRates`.
 */
export function randomCompletionRates(
  proj: Float32Array,
  norm: Float64Array,
  kp: number,
  prefix: Prefix,
  dp: number,
  threshold: number,
): { pass1: number; pass2: number } {
  const m = norm.length;
  const kept = (k: number): number => (k <= kp ? 1 : Math.max(0, 1 - (k - kp) / Math.max(1, dp - kp)));
  const upTo = (k: number): number => Math.min(k, kp);
  const energy = (s: number, k: number): number => {
    let e = 0;
    for (let c = 0; c < upTo(k); c++) e += proj[s * kp + c]! ** 2;
    return e;
  };
  const e1 = Float64Array.from({ length: m }, (_, s) => energy(s, prefix.k1));
  const e2 = Float64Array.from({ length: m }, (_, s) => energy(s, prefix.k2));
  const [f1, f2] = [kept(prefix.k1), kept(prefix.k2)];
  const limit = threshold - MARGIN;
  let pass1 = 0;
  let pass2 = 0;
  let pairs = 0;
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < a; b++) {
      let d1 = 0;
      let d2 = 0;
      for (let c = 0; c < kp; c++) {
        const v = proj[a * kp + c]! * proj[b * kp + c]!;
        if (c < prefix.k1) d1 += v;
        if (c < prefix.k2) d2 += v;
      }
      pairs++;
      const r1 = Math.sqrt(Math.max(0, norm[a]! - e1[a]!) * Math.max(0, norm[b]! - e1[b]!)) * f1;
      if (d1 + r1 < limit) continue;
      pass1++;
      const r2 = Math.sqrt(Math.max(0, norm[a]! - e2[a]!) * Math.max(0, norm[b]! - e2[b]!)) * f2;
      if (d2 + r2 >= limit) pass2++;
    }
  }
  return pairs ? { pass1: pass1 / pairs, pass2: pass2 / pairs } : { pass1: 1, pass2: 1 };
}

/** Picks the cheapest exact path from the estimates; prefixes are tried narrowest first, wider ones only if needed. */
export function choosePath(
  n: number,
  dp: number,
  prefixes: Prefix[],
  rateOf: (p: Prefix) => { pass1: number; pass2: number },
  allowBrute: boolean,
  bruteFilter: 'int16' | 'f32' = 'int16',
): PathChoice {
  const bruteCost = allowBrute ? bruteForceCost(n, dp, bruteFilter) : Infinity;
  const estimates: PathEstimate[] = [];
  let best: PathEstimate | undefined;
  for (const p of prefixes) {
    // A wider prefix cannot beat the best so far (brute force included) once its stage-1 pass alone costs more;
    // each estimate costs a projection of the sample and its pairs' bounds.
    if (scanFloor(n, dp, p) >= Math.min(best?.cost ?? Infinity, bruteCost)) break;
    const r = rateOf(p);
    const e = { ...p, ...r, cost: scanCost(n, dp, { ...p, ...r }) };
    estimates.push(e);
    if (!best || e.cost < best.cost) best = e;
  }
  if (!best || bruteCost < best.cost) {
    return { path: 'brute-force', reason: 'the prefix bounds would prune too little', estimates, bruteCost };
  }
  return {
    path: 'pruned',
    prefix: { k1: best.k1, k2: best.k2 },
    reason: `prefix ${best.k1}/${best.k2} estimated cheapest`,
    estimates,
    bruteCost,
  };
}
