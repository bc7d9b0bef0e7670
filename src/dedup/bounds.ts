// Rigorous prefix bounds for the pruned scan: int16 prefixes, residual norms and each stage's lowered limit.
import { gammaF32 } from './simd_kernels.js';

const SLACK = 2e-6;
const F32_MAX = 3.4028234663852886e38;

/** Largest Float32 ≤ v (limits must never round up, or a pair at the threshold could be skipped). */
export function f32Below(v: number): number {
  if (v >= F32_MAX) return F32_MAX;
  let r = Math.fround(v);
  while (r > v) r = Math.fround(r - Math.max(Math.abs(r) * 2 ** -23, 1e-45));
  return r;
}

/** Smallest Float32 ≥ v. */
export function f32Above(v: number): number {
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
export function quantize(
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
