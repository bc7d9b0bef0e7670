// Principal directions of a sample of rows, as an orthonormal Float32 basis for the prefix bounds.
import type { DedupKernels } from './simd_kernels.js';

export interface BasisSizes {
  n: number;
  dp: number;
  k2: number;
  kOver: number;
  sampleRows: number;
  mPad: number;
}

/**
 * Randomised subspace iteration on an evenly spaced sample (uncentred: the shared mean direction is where most of
 * the energy is), Rayleigh–Ritz to order the directions, then Float64 Gram–Schmidt. Returns the k2 rows in
 * Float64 (uses `at.basis` as scratch); `storeBasis` writes them for the kernels.
 */
export function principalBasis(
  k: Pick<DedupKernels, 'gemmNT'>,
  f32: Float32Array,
  at: { x: number; basis: number; sample: number; sampleT: number; y: number; yT: number; z: number },
  s: BasisSizes,
): Float64Array {
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
  // Any random start works for the first product; orthonormalising it first only cost time (18 ms at 80 × 1024).
  const omega = new Float64Array(kOver * dp);
  for (let i = 0; i < omega.length; i++) omega[i] = rand();

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

  // Rayleigh–Ritz: eigenvectors of (SΩᵀ)ᵀ(SΩᵀ) order the directions by captured energy. The product is the
  // kernel's (Float32, into Z's area, free now): the eigenvectors only order and mix directions that are
  // orthonormalised again below, so their precision never touches the bounds' validity.
  basis.set(omega);
  k.gemmNT(at.sample, mPad, at.basis, kOver, dp, at.y);
  transpose(y, mPad, kOver, yT);
  k.gemmNT(at.yT, kOver, at.yT, kOver, mPad, at.z);
  const c = Float64Array.from(z.subarray(0, kOver * kOver));
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
  return w;
}

/**
 * Any orthonormal basis keeps the bounds valid, so when the principal directions run out of energy (isotropic data)
 * the basis is completed with seeded random directions orthogonal to it: cheap, and as good as any on such data.
 */
export function extendBasis(w: Float64Array, rows: number, total: number, dp: number): Float64Array {
  const out = new Float64Array(total * dp);
  out.set(w.subarray(0, rows * dp));
  // Seeded by where the new rows start: a basis widened twice must not draw the same directions again.
  let seed = (0x9e3779b9 ^ Math.imul(rows + 1, 0x85ebca6b)) | 1;
  for (let i = rows * dp; i < total * dp; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    out[i] = (seed >>> 0) / 4294967296 - 0.5;
  }
  // The first `rows` are orthonormal already; only the new ones are orthogonalised against everything before them.
  orthonormalizeRows(out, total, dp, 2, rows);
  return out;
}

/** Writes `rows` basis rows as Float32 at `at` (kOver·dp floats, the rest zeroed); returns η = ‖W Wᵀ − I‖_F of them. */
export function storeBasis(
  f32: Float32Array,
  at: number,
  w: Float64Array,
  rows: number,
  dp: number,
  capacityRows: number,
): number {
  const basis = f32.subarray(at / 4, at / 4 + capacityRows * dp);
  basis.fill(0);
  basis.set(w.subarray(0, rows * dp));
  const k2 = rows;
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

/**
 * Modified Gram–Schmidt, by default applied twice ("twice is enough"); a row that collapses becomes a unit axis.
 * Rows before `from` are taken as orthonormal already and left as they are.
 */
export function orthonormalizeRows(m: Float64Array, rows: number, len: number, passes = 2, from = 0): void {
  for (let pass = 0; pass < passes; pass++) {
    for (let r = from; r < rows; r++) {
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
    // Converged enough to order the directions (see principalBasis): tighter only costs sweeps.
    if (off <= 1e-12 * diag || off === 0) break;
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
