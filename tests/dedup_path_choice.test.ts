// Stage 6's automatic path choice: the prefix or brute force a sample favours, and the reference's set either way.
import { describe, expect, it } from 'vitest';
import { generateFixture } from '../bench/fixtures.js';
import { Rng } from '../bench/rng.js';
import { dedupGreedy } from '../src/dedup/greedy.js';
import { extendBasis } from '../src/dedup/basis.js';
import {
  choosePath,
  estimateRows,
  PREFIXES,
  randomCompletionRates,
  samplePassRates,
  scanTile,
} from '../src/dedup/path_choice.js';
import { dedupExact } from '../src/dedup/reference.js';

// A 256-row basis sample lets 2,200 rows pay for the basis, so the choice between prefixes is made at a size
// the Float64 reference checks in a few seconds.
const SIZE = { count: 2200, dim: 1024, dupFraction: 0.2 };

/** `run` keeps and removes exactly the rows the Float64 reference does at `threshold`. */
function expectReference(fx: Parameters<typeof dedupExact>[0], run: ReturnType<typeof dedupGreedy>, threshold: number) {
  const exact = dedupExact(fx, threshold);
  expect(run.kept).toEqual(exact.kept);
  expect(run.removed).toEqual(exact.removed);
}

describe('dedupGreedy picks its path from a sample', () => {
  it('keeps the narrow principal prefix on clustered (embedding-like) data', () => {
    const fx = generateFixture({ ...SIZE, seed: 31, geometry: 'clustered' });
    const run = dedupGreedy(fx, { threshold: 0.95, workers: 0, basisSample: 256 });
    expect(run.stats.method).toContain('pruned exact (PCA 16/64');
    expect(run.stats.detail?.pass1_16_64).toBeLessThan(0.05);
    expectReference(fx, run, 0.95);
  });

  it('scans in narrow column tiles when many pairs reach the full dot (rows from a few templates)', () => {
    // Like the end-to-end bench's text-derived embeddings: rows around 10 template directions at cosine ~0.9 to
    // each other, a fifth of them near copies. Pairs of one template pass the prefix bounds (~1 in 10), so the
    // full dots dominate and their rows must stay in cache.
    const rng = new Rng(36);
    const { count, dim } = SIZE;
    const unit = (v: Float64Array): Float64Array => v.map((x, _, a) => x / Math.hypot(...a));
    const means = Array.from({ length: 10 }, () => unit(Float64Array.from({ length: dim }, () => rng.normal())));
    const vectors = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const copy = i > 0 && rng.next() < 0.2 ? rng.int(i) : -1;
      const noise = copy >= 0 ? 0.1 / Math.sqrt(dim) : Math.sqrt(0.11 / dim);
      for (let d = 0; d < dim; d++) {
        const base = copy >= 0 ? vectors[copy * dim + d] : means[i % 10][d];
        vectors[i * dim + d] = base + noise * rng.normal();
      }
    }
    const fx = { vectors, dim, count, passing: Uint8Array.from({ length: count }, () => (rng.next() < 0.85 ? 1 : 0)) };
    const run = dedupGreedy(fx, { threshold: 0.95, workers: 0, basisSample: 256 });
    expect(run.stats.method).toContain('pruned exact');
    expect(run.stats.detail?.pass2_16_64).toBeGreaterThan(0.01);
    expect(run.stats.detail?.tileGroups).toBe(64);
    // Where almost nothing reaches the full dot (the bench's fixtures at 20k: pass2 0 to 1e-4), the wide tile.
    expect([scanTile(0), scanTile(1e-4), scanTile(undefined), scanTile(0.05)]).toEqual([1024, 1024, 1024, 64]);
    expect(run.removed.length).toBeGreaterThan(count * 0.1);
    expectReference(fx, run, 0.95);
  });

  it('widens the prefix on isotropic data, where 16 principal dimensions prune nothing', () => {
    const fx = generateFixture({ ...SIZE, seed: 32, geometry: 'isotropic' });
    const run = dedupGreedy(fx, { threshold: 0.95, workers: 0, basisSample: 256 });
    expect(run.stats.detail?.pass1_16_64).toBeGreaterThan(0.9);
    expect(run.stats.method).toContain('64/128');
    expect(run.removed.length).toBeGreaterThan(SIZE.count * 0.1);
    expectReference(fx, run, 0.95);
  });

  it('runs brute force on isotropic data when no prefix would prune (a threshold far below 1 − k/dim)', () => {
    const fx = generateFixture({ ...SIZE, seed: 33, geometry: 'isotropic' });
    const run = dedupGreedy(fx, { threshold: 0.5, workers: 0, basisSample: 256 });
    expect(run.stats.method).toContain('brute-force exact');
    expect(run.stats.method).toContain('the prefix bounds would prune too little');
    expect(run.stats.detail?.pass2_16_64).toBeGreaterThan(0.9);
    expectReference(fx, run, 0.5);
  });

  it('runs brute force when there are too few rows for the basis to pay, on either geometry', () => {
    for (const geometry of ['clustered', 'isotropic'] as const) {
      const fx = generateFixture({ count: 600, dim: 256, seed: 34, geometry, dupFraction: 0.2 });
      const run = dedupGreedy(fx, { threshold: 0.95, workers: 0 });
      expect(run.stats.method).toContain('too few rows for the basis to pay');
      expectReference(fx, run, 0.95);
    }
  });

  it("pinned prefix dimensions or method 'pruned' keep the bounds", () => {
    const fx = generateFixture({ count: 600, dim: 256, seed: 35, dupFraction: 0.2 });
    expect(dedupGreedy(fx, { threshold: 0.95, workers: 0, method: 'pruned' }).stats.method).toContain('16/64');
    const pinned = dedupGreedy(fx, { threshold: 0.95, workers: 0, method: 'pruned', stage1Dims: 32, stage2Dims: 96 });
    expect(pinned.stats.method).toContain('32/96');
    expect(pinned.kept).toEqual(dedupExact(fx, 0.95).kept);
  });

  it('estimates on rows outside the basis sample, where the basis does not flatter the bounds', () => {
    const n = 10_000;
    const sample = 2048;
    const inBasis = new Set(Array.from({ length: sample }, (_, r) => Math.floor((r * n) / sample)));
    const rows = estimateRows(n, sample);
    expect(rows.length).toBe(256);
    expect([...rows].filter((r) => inBasis.has(r))).toEqual([]);
    expect(new Set(rows).size).toBe(256);
    // With every row in the basis sample there is nothing else to take.
    expect(estimateRows(300, 2048).length).toBe(256);
  });
});

describe('the cost of a full dot follows the tile', () => {
  it('takes 16/64 on the end-to-end distribution, where most of the scan is full dots in narrow tiles', () => {
    // The sample's pass rates of the 100k end-to-end file (2026-12-03). Priced at the wide tile's full-dot cost,
    // 128/256 looked cheapest (its stage 1 is 4× the work); measured, 16/64 took 22.9 s of dedup and 128/256 28.8 s.
    const rates: Record<string, { pass1: number; pass2: number }> = {
      '16/64': { pass1: 0.1096, pass2: 0.0853 },
      '64/128': { pass1: 0.0853, pass2: 0.0701 },
      '128/256': { pass1: 0.0701, pass2: 0.0447 },
    };
    const choice = choosePath(100_000, 1024, PREFIXES, (p) => rates[`${p.k1}/${p.k2}`]!, true);
    expect(choice.path).toBe('pruned');
    expect(choice.prefix).toEqual({ k1: 16, k2: 64 });
  });
});

describe('the choice stops estimating once brute force is cheaper', () => {
  it('does not project the sample for a prefix whose stage-1 pass alone costs more than brute force', () => {
    // Nothing prunes: at 4,500 rows 128/256's floor (projection + stage 1) is above brute force's cost, so only the
    // two narrower prefixes are estimated (each estimate widens the basis and projects the sample: ~0.1 s).
    const asked: string[] = [];
    const choice = choosePath(
      4500,
      1024,
      PREFIXES,
      (p) => (asked.push(`${p.k1}/${p.k2}`), { pass1: 1, pass2: 1 }),
      true,
    );
    expect(choice.path).toBe('brute-force');
    expect(asked).toEqual(['16/64', '64/128']);
  });

  it('prices brute force with the f32 filter higher than with the int16 one', () => {
    const rates = () => ({ pass1: 1, pass2: 1 });
    expect(choosePath(4500, 1024, PREFIXES, rates, true, 'f32').bruteCost).toBeGreaterThan(
      choosePath(4500, 1024, PREFIXES, rates, true, 'int16').bruteCost * 1.5,
    );
  });
});

describe('a prefix completed with random directions is predicted when the principal one prunes nothing', () => {
  it('predicts the pass rates a measured random completion has, on cone-like and isotropic rows', () => {
    // The principal prefix is the first kp coordinates; extendBasis completes it with seeded random directions, as
    // dedupGreedy does. The prediction only sees the rows' first kp coordinates and their norms.
    const [m, dp, kp] = [200, 512, 64];
    const rng = new Rng(41);
    for (const [shared, threshold] of [
      [0.9, 0.95],
      [0, 0.95],
      [0, 0.5],
    ] as const) {
      const mean = Float64Array.from({ length: dp }, () => rng.normal());
      const rows = Array.from({ length: m }, () => {
        const v = Float64Array.from(
          { length: dp },
          (_, j) => (Math.sqrt(shared) * mean[j]!) / Math.sqrt(dp) + Math.sqrt((1 - shared) / dp) * rng.normal(),
        );
        const len = Math.hypot(...v);
        return v.map((x) => x / len);
      });
      // The first coordinate carries the shared direction, so a principal prefix would find it.
      if (shared)
        for (const v of rows) {
          const along = v.reduce((a, x, j) => a + x * mean[j]!, 0) / Math.hypot(...mean);
          v[0] = along;
        }
      const norm = Float64Array.from(rows, (v) => v.reduce((a, x) => a + x * x, 0));
      const identity = new Float64Array(kp * dp);
      for (let c = 0; c < kp; c++) identity[c * dp + c] = 1;
      const basis = extendBasis(identity, kp, 256, dp);
      const project = (k: number) =>
        Float32Array.from({ length: m * k }, (_, i) => {
          const [s, c] = [Math.floor(i / k), i % k];
          let d = 0;
          for (let j = 0; j < dp; j++) d += rows[s]![j]! * basis[c * dp + j]!;
          return d;
        });
      const principal = project(kp);
      for (const p of [
        { k1: 64, k2: 128 },
        { k1: 128, k2: 256 },
      ]) {
        const guess = randomCompletionRates(principal, norm, kp, p, dp, threshold);
        const measured = samplePassRates(project(p.k2), norm, p, threshold);
        expect(Math.abs(guess.pass1 - measured.pass1)).toBeLessThan(0.1);
        expect(Math.abs(guess.pass2 - measured.pass2)).toBeLessThan(0.1);
      }
    }
  });

  it('runs brute force on a cone without widening the basis, with the reference set', () => {
    const fx = generateFixture({ ...SIZE, seed: 37, geometry: 'cone' });
    const run = dedupGreedy(fx, { threshold: 0.95, workers: 0, basisSample: 256 });
    expect(run.stats.method).toContain('the prefix bounds would prune too little');
    expect(run.stats.detail?.pass2_16_64).toBeGreaterThan(0.99);
    // Every wider prefix the choice looked at (128/256's floor is above brute force's cost at this size) was
    // predicted, none measured.
    const wider = Object.keys(run.stats.detail ?? {}).filter((k) => k.startsWith('pass1_') && k !== 'pass1_16_64');
    expect(wider).toEqual(['pass1_64_128']);
    for (const k of wider) expect(run.stats.detail?.[k.replace('pass1_', 'predicted_')]).toBe(1);
    expectReference(fx, run, 0.95);
    // Where the principal prefix prunes, the wider one is measured.
    const iso = dedupGreedy(generateFixture({ ...SIZE, seed: 32, geometry: 'isotropic' }), {
      threshold: 0.95,
      workers: 0,
      basisSample: 256,
    });
    expect(iso.stats.method).toContain('64/128');
    expect(iso.stats.detail?.predicted_64_128).toBeUndefined();
  });
});
