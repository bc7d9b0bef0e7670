import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateFixture, writeEmbeddedJsonl } from '../bench/fixtures.js';
import { JsonlLineError } from '../src/errors.js';
import { EmbeddedConversation } from '../src/schemas.js';
import { dedupGreedy, type DedupInput } from '../src/dedup/greedy.js';
import { readEmbedded } from '../src/dedup/read_embedded.js';
import { dedupExact, dedupOriginalPort, normalizeInto, similarity } from '../src/dedup/reference.js';

function input(rows: number[][], passing: number[]): DedupInput {
  const dim = rows[0].length;
  return { vectors: Float32Array.from(rows.flat()), dim, count: rows.length, passing: Uint8Array.from(passing) };
}

/** The canonical similarity of two raw rows, computed the way both implementations do. */
function canonical(a: number[], b: number[]): number {
  const x = new Float32Array(a.length * 2);
  normalizeInto(Float32Array.from([...a, ...b]), 2, a.length, x, a.length);
  return similarity(x, 0, a.length, a.length);
}

function nextUp(v: number): number {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, v);
  buf.setBigUint64(0, buf.getBigUint64(0) + (v >= 0 ? 1n : -1n));
  return buf.getFloat64(0);
}

describe('dedupGreedy is exact', () => {
  // With stage dims ≥ dim the bound is tight (only rounding slack), so an unsound margin would drop pairs here.
  const cases = [
    { count: 300, dim: 64, seed: 1 },
    { count: 400, dim: 100, seed: 2 },
    { count: 250, dim: 1024, seed: 3 },
    { count: 500, dim: 24, seed: 4 },
    { count: 500, dim: 32, seed: 5, stage1Dims: 32, stage2Dims: 32 },
    { count: 500, dim: 48, seed: 6, stage1Dims: 48, stage2Dims: 48 },
    { count: 500, dim: 64, seed: 7, stage1Dims: 8, stage2Dims: 64 },
  ];
  for (const { stage1Dims, stage2Dims, ...c } of cases) {
    it(`matches the brute-force reference (n=${c.count}, dim=${c.dim}, stages ${stage1Dims ?? 16}/${stage2Dims ?? 64}) with duplicates at the threshold`, () => {
      const fx = generateFixture({ ...c, dupFraction: 0.3, atBand: 0.0005 });
      const exact = dedupExact(fx, 0.95);
      const fast = dedupGreedy(fx, { threshold: 0.95, workers: 0, method: 'pruned', stage1Dims, stage2Dims });
      expect(exact.removed.length).toBeGreaterThan(c.count * 0.1);
      expect(fast.kept).toEqual(exact.kept);
      expect(fast.removed).toEqual(exact.removed);
    });
  }

  it('stays exact when the residual bound is tight (rows in a (k+1)-dim subspace, so residuals are parallel)', () => {
    // 9 live dims of 40, stage dims 8: the part beyond the top 8 principal directions is one shared direction.
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
    const rows: number[][] = [];
    for (let k = 0; k < 150; k++) {
      const b = unit(Array.from({ length: 9 }, rand));
      let w = Array.from({ length: 9 }, rand);
      const d = w.reduce((acc, x, j) => acc + x * b[j], 0);
      w = unit(w.map((x, j) => x - d * b[j]));
      const c = 0.95 + rand() * 0.0005;
      rows.push(
        b,
        b.map((x, j) => c * x + Math.sqrt(1 - c * c) * w[j]),
      );
    }
    const data = input(
      rows.map((r) => [...r, ...new Array(31).fill(0)]),
      rows.map(() => 1),
    );
    const exact = dedupExact(data, 0.95);
    expect(exact.removed.length).toBeGreaterThan(50);
    const fast = dedupGreedy(data, { threshold: 0.95, workers: 0, stage1Dims: 8, stage2Dims: 8, method: 'pruned' });
    expect(fast.removed).toEqual(exact.removed);
  });

  it('matches the reference on worker threads too', () => {
    const fx = generateFixture({ count: 600, dim: 128, seed: 9, dupFraction: 0.25 });
    const exact = dedupExact(fx, 0.95);
    const fast = dedupGreedy(fx, { threshold: 0.95, workers: 2, method: 'pruned' });
    expect(fast.stats.method).toContain('2 workers');
    expect(fast.removed).toEqual(exact.removed);
    expect(fast.kept).toEqual(exact.kept);
  });

  it('stays exact at a low threshold where the bounds prune little', () => {
    const fx = generateFixture({ count: 200, dim: 48, seed: 5 });
    for (const threshold of [0.3, 0.6, 0.85]) {
      const exact = dedupExact(fx, threshold);
      const fast = dedupGreedy(fx, { threshold, workers: 0, method: 'pruned' });
      expect(fast.removed).toEqual(exact.removed);
    }
  });

  it('finds every pair at a threshold set to a pair’s exact similarity, and none one ulp above', () => {
    const fx = generateFixture({ count: 200, dim: 96, seed: 6, dupFraction: 0 });
    // A planted pair whose similarity becomes the threshold, bit for bit.
    const v = fx.vectors;
    const row = (i: number) => Array.from(v.subarray(i * 96, (i + 1) * 96));
    const other = row(7).map((x, j) => x + 0.02 * Math.sin(j));
    v.set(other, 150 * 96);
    fx.passing[7] = 1;
    fx.passing[150] = 1;
    const s = canonical(row(7), other);
    expect(s).toBeGreaterThan(0.9);
    for (const run of [dedupGreedy(fx, { threshold: s, workers: 0, method: 'pruned' }), dedupExact(fx, s)]) {
      expect(run.removed).toContainEqual({ index: 150, duplicateOf: 7, similarity: s });
    }
    for (const run of [
      dedupGreedy(fx, { threshold: nextUp(s), workers: 0, method: 'pruned' }),
      dedupExact(fx, nextUp(s)),
    ]) {
      expect(run.kept).toContain(150);
    }
  });
});

describe('the pruned scan against the rows kept so far is exact', () => {
  // Small chunks, so every fixture is scanned in many: a chunk's rows meet only the rows kept before it, rows move
  // as the kept ones are packed, and passing and failing rows are mixed so the visit order is not the input order.
  const cases = [
    { count: 600, dim: 64, seed: 31, geometry: 'clustered' as const, passRate: 0.5, chunkRows: 37 },
    { count: 700, dim: 1024, seed: 32, geometry: 'isotropic' as const, passRate: 0.3, chunkRows: 128 },
    { count: 500, dim: 96, seed: 33, geometry: 'text' as const, passRate: 0.85, chunkRows: 1 },
    { count: 450, dim: 40, seed: 34, geometry: 'clustered' as const, passRate: 1, chunkRows: 450 },
  ];
  for (const { chunkRows, ...c } of cases) {
    it(`matches the reference on the ${c.geometry} fixture in chunks of ${chunkRows} (n=${c.count})`, () => {
      const fx = generateFixture({ ...c, dupFraction: 0.4, atBand: 0.0005 });
      const exact = dedupExact(fx, 0.95);
      expect(exact.removed.length).toBeGreaterThan(c.count * 0.1);
      for (const workers of [0, 2]) {
        const pruned = dedupGreedy(fx, { threshold: 0.95, workers, method: 'pruned', chunkRows });
        expect(pruned.kept).toEqual(exact.kept);
        expect(pruned.removed).toEqual(exact.removed);
      }
    });
  }

  it('keeps a row whose only earlier neighbour was removed, and removes the next one for it (a chain)', () => {
    // Rows on an arc (12 steps of 14°, less than half a turn): neighbours at cos 0.97, rows two apart at cos 0.88.
    // Greedy keeps every other row; a scan that dropped a row from the kept set merely for having a neighbour would
    // keep the row after it too.
    const n = 12;
    const dim = 32;
    const theta = Math.acos(0.97);
    const vectors = new Float32Array(n * dim);
    for (let k = 0; k < n; k++) {
      vectors[k * dim] = Math.cos(k * theta);
      vectors[k * dim + 1] = Math.sin(k * theta);
      vectors[k * dim + 2 + (k % (dim - 2))] = 0.01;
    }
    const input = { vectors, dim, count: n, passing: new Uint8Array(n).fill(1) };
    const exact = dedupExact(input, 0.95);
    expect(exact.kept).toEqual(Array.from({ length: n / 2 }, (_, k) => 2 * k));
    for (const chunkRows of [1, 2, 5, 12])
      for (const workers of [0, 2]) {
        const pruned = dedupGreedy(input, { threshold: 0.95, workers, method: 'pruned', chunkRows });
        expect(pruned.kept).toEqual(exact.kept);
        expect(pruned.removed).toEqual(exact.removed);
      }
  });

  it('refuses a chunk size that is not a positive integer', () => {
    const fx = generateFixture({ count: 50, dim: 16, seed: 35 });
    expect(() => dedupGreedy(fx, { threshold: 0.95, method: 'pruned', chunkRows: 0 })).toThrow(/chunkRows/);
  });
});

for (const bruteFilter of ['int16', 'f32'] as const) {
  describe(`the brute-force path is exact (${bruteFilter} filter)`, () => {
    const brute = { method: 'brute-force', bruteFilter } as const;
    const cases = [
      { count: 700, dim: 1024, seed: 21, geometry: 'isotropic' as const },
      { count: 600, dim: 1024, seed: 22, geometry: 'clustered' as const },
      { count: 523, dim: 40, seed: 23, geometry: 'clustered' as const },
      { count: 301, dim: 97, seed: 24, geometry: 'isotropic' as const },
    ];
    for (const c of cases) {
      it(`matches the brute-force reference on the ${c.geometry} fixture (n=${c.count}, dim=${c.dim})`, () => {
        const fx = generateFixture({ ...c, dupFraction: 0.3, atBand: 0.0005 });
        const exact = dedupExact(fx, 0.95);
        expect(exact.removed.length).toBeGreaterThan(c.count * 0.1);
        for (const workers of [0, 2]) {
          const bf = dedupGreedy(fx, { threshold: 0.95, workers, ...brute });
          expect(bf.stats.method).toContain(`brute-force exact (blocked ${bruteFilter} filter`);
          expect(bf.kept).toEqual(exact.kept);
          expect(bf.removed).toEqual(exact.removed);
        }
      });
    }

    it('uses the workers once the kept set is large, with the same result', () => {
      const fx = generateFixture({ count: 5000, dim: 64, seed: 25, geometry: 'isotropic', dupFraction: 0.2 });
      const exact = dedupExact(fx, 0.95);
      const bf = dedupGreedy(fx, { threshold: 0.95, workers: 2, ...brute });
      expect(bf.removed).toEqual(exact.removed);
      expect(bf.kept).toEqual(exact.kept);
    });

    it('decides a pair exactly at the threshold like the reference, and not one ulp above', () => {
      // Each pair's threshold is its own similarity: a filter whose margin falls short of its rounding drops about
      // half of such pairs, so twelve of them catch it.
      for (const geometry of ['isotropic', 'clustered'] as const)
        for (const seed of [26, 27, 28, 29, 30, 31]) {
          const fx = generateFixture({ count: 300, dim: 96, seed, dupFraction: 0, geometry });
          const v = fx.vectors;
          const row = (i: number) => Array.from(v.subarray(i * 96, (i + 1) * 96));
          const other = row(7).map((x, j) => x + 0.02 * Math.sin(j + seed));
          v.set(other, 250 * 96);
          fx.passing[7] = 1;
          fx.passing[250] = 1;
          const s = canonical(row(7), other);
          const at = dedupGreedy(fx, { threshold: s, workers: 0, ...brute });
          expect(at.removed).toContainEqual({ index: 250, duplicateOf: 7, similarity: s });
          expect(at.removed).toEqual(dedupExact(fx, s).removed);
          expect(dedupGreedy(fx, { threshold: nextUp(s), workers: 0, ...brute }).kept).toContain(250);
        }
    });

    it('follows the greedy order within a block: a row removed earlier in the block cannot remove a later one', () => {
      // a, b at cos ≥ t, b, c at cos ≥ t, a, c below: b goes, so c stays (it only duplicates a removed row).
      const data = input(
        [
          [1, 0, 0, 0],
          [0.96, 0.28, 0, 0],
          [0.8432, 0.5376, 0, 0],
        ],
        [1, 1, 1],
      );
      const exact = dedupExact(data, 0.95);
      expect(exact.kept).toEqual([0, 2]);
      expect(dedupGreedy(data, { threshold: 0.95, workers: 0, ...brute }).removed).toEqual(exact.removed);
      expect(dedupGreedy(data, { threshold: 0.95, workers: 0, ...brute }).kept).toEqual([0, 2]);
    });

    it('finds the duplicates whose integer dots come nearest the i32 limit: flat rows and one-hot rows', () => {
      // Flat rows put every int16 coordinate at the norm limit (‖q‖ ≈ 46,336, a dot of ≈ 2.147·10⁹); one-hot rows
      // put one at 32,767. A dot that wrapped past 2³¹ would turn negative and the copy would be kept. Each kind
      // alone, since the step is shared by all rows.
      for (const dim of [1024, 97, 3072]) {
        const flat = Array.from({ length: dim }, () => 1);
        const hot = Array.from({ length: dim }, (_, j) => (j === 3 ? 5 : 0));
        for (const rows of [
          [flat, flat.slice(), flat.map((x, j) => (j === 0 ? -x : x))],
          [hot, hot.slice()],
        ]) {
          const data = input(
            rows,
            rows.map(() => 1),
          );
          const exact = dedupExact(data, 0.95);
          const bf = dedupGreedy(data, { threshold: 0.95, workers: 0, ...brute });
          expect(exact.removed.map((r) => r.index)).toContain(1);
          expect(bf.removed).toEqual(exact.removed);
        }
      }
    });
  });
}

/** The pruned greedy pass and the exact reference on `data` at `threshold`: the cases assert the same of both. */
const prunedAndExact = (data: Parameters<typeof dedupExact>[0], threshold: number) => [
  dedupGreedy(data, { threshold, workers: 0, method: 'pruned' }),
  dedupExact(data, threshold),
];

describe('greedy semantics', () => {
  it('removes a pair whose similarity equals the threshold exactly', () => {
    const data = input(
      [
        [1, 0, 0, 0],
        [0.6, 0.8, 0, 0],
      ],
      [1, 1],
    );
    const s = canonical([1, 0, 0, 0], [0.6, 0.8, 0, 0]);
    for (const run of prunedAndExact(data, s)) {
      expect(run.kept).toEqual([0]);
      expect(run.removed).toEqual([{ index: 1, duplicateOf: 0, similarity: s }]);
    }
  });

  it('visits passing rows first, so a failing copy loses to a later passing one', () => {
    const data = input(
      [
        [1, 2, 3, 4],
        [1, 2, 3, 4],
        [4, -3, 2, -1],
      ],
      [0, 1, 0],
    );
    for (const run of prunedAndExact(data, 0.95)) {
      expect(run.kept).toEqual([1, 2]);
      expect(run.removed).toEqual([{ index: 0, duplicateOf: 1, similarity: expect.closeTo(1, 6) }]);
    }
  });

  it('on equal similarity to two kept rows names the one kept first in visit order', () => {
    // Rows 0 and 2 are orthogonal; row 1 sits exactly between them. Row 2 passes, row 0 fails, so row 2 is kept first.
    const data = input(
      [
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [0, 1, 0, 0],
      ],
      [0, 0, 1],
    );
    const s = canonical([1, 1, 0, 0], [0, 1, 0, 0]);
    expect(canonical([1, 1, 0, 0], [1, 0, 0, 0])).toBe(s);
    for (const run of prunedAndExact(data, 0.7)) {
      expect(run.kept).toEqual([0, 2]);
      expect(run.removed).toEqual([{ index: 1, duplicateOf: 2, similarity: s }]);
    }
  });

  it('names the most similar kept row, not the first one that crosses the threshold', () => {
    const data = input(
      [
        [1, 0, 0],
        [0, 1, 0],
        [0.5, 1, 0],
      ],
      [1, 1, 1],
    );
    const run = dedupGreedy(data, { threshold: 0.4, workers: 0, method: 'pruned' });
    expect(run.removed).toEqual([{ index: 2, duplicateOf: 1, similarity: expect.closeTo(2 / Math.sqrt(5), 6) }]);
    expect(dedupExact(data, 0.4).removed).toEqual(run.removed);
  });

  it('keeps zero vectors and handles empty and single-row input', () => {
    const zeros = input(
      [
        [0, 0],
        [0, 0],
        [1, 1],
      ],
      [1, 1, 1],
    );
    expect(dedupGreedy(zeros, { threshold: 0.95, workers: 0, method: 'pruned' }).kept).toEqual([0, 1, 2]);
    expect(dedupExact(zeros, 0.95).kept).toEqual([0, 1, 2]);
    const empty = { vectors: new Float32Array(0), dim: 8, count: 0, passing: new Uint8Array(0) };
    expect(dedupGreedy(empty, { threshold: 0.95 })).toMatchObject({ kept: [], removed: [] });
    expect(dedupGreedy(input([[3, 4]], [0]), { threshold: 0.95 }).kept).toEqual([0]);
  });

  it('handles all-zero input and non-positive thresholds', () => {
    const zeros = input(
      [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
      [1, 1, 1],
    );
    expect(dedupGreedy(zeros, { threshold: 0.95, workers: 0, method: 'pruned' }).kept).toEqual([0, 1, 2]);
    // Similarity 0 ≥ threshold 0: zero rows duplicate the first one, in both implementations.
    expect(dedupGreedy(zeros, { threshold: 0, workers: 0, method: 'pruned' }).removed).toEqual(
      dedupExact(zeros, 0).removed,
    );
    expect(dedupExact(zeros, 0).kept).toEqual([0]);
    const fx = generateFixture({ count: 120, dim: 16, seed: 12 });
    expect(dedupGreedy(fx, { threshold: -0.2, workers: 0, method: 'pruned' }).removed).toEqual(
      dedupExact(fx, -0.2).removed,
    );
  });

  it('rejects inconsistent input with the field named', () => {
    const bad = { vectors: new Float32Array(10), dim: 4, count: 3, passing: new Uint8Array(3) };
    expect(() => dedupGreedy(bad, { threshold: 0.95 })).toThrow(/`vectors` to hold count × dim = 12 floats, got 10/);
    const nan = input([[1, Number.NaN]], [1]);
    expect(() => dedupGreedy(nan, { threshold: 0.95 })).toThrow(/Row 0 holds a non-finite value/);
    expect(() => dedupGreedy(input([[1, 2]], [1]), { threshold: Number.NaN })).toThrow(/`threshold`/);
  });

  it('the original port agrees with the reference away from rounding ties', () => {
    const fx = generateFixture({ count: 150, dim: 32, seed: 8, atBand: 0.01 });
    const rows = Array.from({ length: fx.count }, (_, i) => Array.from(fx.vectors.subarray(i * 32, (i + 1) * 32)));
    const port = dedupOriginalPort(rows, Array.from(fx.passing, Boolean), 0.95);
    expect(port.kept).toEqual(dedupExact(fx, 0.95).kept);
  });
});

describe('readEmbedded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-read-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const row = (embedding: unknown, pass: unknown = true, extra = ''): string =>
    `{"conversation":{"id":"c","messages":[{"role":"user","content":"a \\"quoted\\" [x] {y}"}]},"judgment":{"overall_pass":${JSON.stringify(pass)}}${extra},"embedding":${JSON.stringify(embedding)},"text_preview":"p"}`;

  it('reads vectors exactly as JSON.parse would, and keeps each row without its embedding', () => {
    const path = join(dir, 'fixture.jsonl');
    writeEmbeddedJsonl(path, { count: 40, dim: 16, seed: 2 });
    const scan = readEmbedded(path);
    const json = readEmbedded(path, { parser: 'json' });
    expect(scan.count).toBe(40);
    expect(scan.dim).toBe(16);
    expect(Array.from(scan.vectors)).toEqual(Array.from(json.vectors));
    expect(Array.from(scan.passing)).toEqual(Array.from(json.passing));
    expect(scan.rows.map((r) => JSON.parse(r))).toEqual(json.rows.map((r) => JSON.parse(r)));
    const first = JSON.parse(scan.rows[0]);
    expect(EmbeddedConversation.parse({ ...first, embedding: Array.from(scan.vectors.subarray(0, 16)) })).toBeTruthy();
    expect(first).not.toHaveProperty('embedding');
    expect(first).toHaveProperty('conversation.messages');
    expect(first).toHaveProperty('text_preview');
  });

  it('parses every JSON number form to the same Float32 value as JSON.parse', () => {
    const values = [
      // biome-ignore lint/correctness/noPrecisionLoss: literals past float64's precision are part of what is parsed
      0, -0, 1, -1, 0.1, 1e-7, -2.5e-3, 1.5e2, 0.12345678901234567, 12345678901234567890, 3.4e38, 5e-324, -0.000001,
    ];
    const literal =
      '[0,-0.0,1,-1,0.1,1e-7,-2.5E-3,1.5e+2,0.12345678901234567,12345678901234567890,3.4e38,5e-324,-0.000001]';
    const p = file('numbers.jsonl', `${row([]).replace('"embedding":[]', `"embedding":${literal}`)}\n`);
    const r = readEmbedded(p);
    expect(Array.from(r.vectors)).toEqual(Array.from(Float32Array.from(values)));
    expect(Object.is(r.vectors[1], -0)).toBe(true);
  });

  it('skips blank lines, accepts CRLF, spaces and a missing final newline, and counts lines', () => {
    const p = file('loose.jsonl', `\n${row([1, 2])}\r\n  \n{"judgment": {"overall_pass": false}, "embedding": [3, 4]}`);
    const r = readEmbedded(p);
    expect(r.count).toBe(2);
    expect(Array.from(r.vectors)).toEqual([1, 2, 3, 4]);
    expect(Array.from(r.passing)).toEqual([1, 0]);
    expect(Array.from(r.lineNumber)).toEqual([2, 4]);
    expect(JSON.parse(r.rows[1])).toEqual({ judgment: { overall_pass: false } });
  });

  it('takes only the top-level embedding, not a nested key of the same name', () => {
    const p = file('nested.jsonl', `${row([5, 6], true, ',"meta":{"embedding":[9,9,9]}')}\n`);
    const r = readEmbedded(p);
    expect(Array.from(r.vectors)).toEqual([5, 6]);
    expect(JSON.parse(r.rows[0]).meta).toEqual({ embedding: [9, 9, 9] });
  });

  it('keeps row text one byte per character: non-ASCII becomes \\u escapes that parse back to the same row', () => {
    const content = 'naïve — “quoted” 😀 ok';
    const p = file(
      'unicode.jsonl',
      `{"judgment":{"overall_pass":true},"note":${JSON.stringify(content)},"embedding":[1,2]}\n`,
    );
    for (const parser of ['scan', 'json'] as const) {
      const r = readEmbedded(p, { parser });
      expect(r.rows[0]).toMatch(/^[\x00-\x7f]*$/);
      expect(JSON.parse(r.rows[0])).toEqual({ judgment: { overall_pass: true }, note: content });
    }
  });

  it('is not fooled by an embedding key inside a nested value written with spaces', () => {
    const p = file(
      'spaced.jsonl',
      '{"judgment":{"overall_pass":true},"meta": {"k":"v","embedding":[7,7]},"embedding":[1,2]}\n',
    );
    const r = readEmbedded(p);
    expect(Array.from(r.vectors)).toEqual([1, 2]);
    expect(JSON.parse(r.rows[0])).toEqual({ judgment: { overall_pass: true }, meta: { k: 'v', embedding: [7, 7] } });
  });

  it('reads lines longer than its read buffer', () => {
    const big = Array.from({ length: 3000 }, (_, i) => i / 7);
    const p = file('long.jsonl', `${row(big)}\n${row(big)}\n`);
    const r = readEmbedded(p, { chunkBytes: 1024 });
    expect(r.count).toBe(2);
    expect(r.vectors[2999]).toBe(Math.fround(2999 / 7));
    expect(r.vectors[3000 + 5]).toBe(Math.fround(5 / 7));
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', `${row([1, 2])}\n{"embedding":[1,2],\n`, /bad\.jsonl:2: not valid JSON/],
    [
      'mixed dimensions',
      `${row([1, 2])}\n${row([1, 2])}\n${row([1, 2, 3])}\n`,
      /:3: expected 2 embedding dimensions \(as on line 1\), got 3/,
    ],
    [
      'a non-number in the embedding',
      `${row([1, 2])}\n${row([1, 'x'])}\n`,
      /:2: expected number at embedding\[1\], got "x"/,
    ],
    [
      'no embedding',
      `${row([1, 2])}\n{"judgment":{"overall_pass":true}}\n`,
      /:2: expected a number array at embedding/,
    ],
    ['a missing pass flag', `${row([1, 2], 'yes')}\n`, /:1: expected boolean at judgment\.overall_pass/],
    ['an empty embedding', `${row([])}\n`, /:1: expected a non-empty number array at embedding/],
    ['a JSON array row', `[1,2]\n`, /:1: expected a JSON object/],
  ];
  for (const [what, text, message] of bad) {
    for (const workers of [0, 2]) {
      it(`names the file and line of ${what} (${workers} scan threads)`, () => {
        // Rows ahead of the bad one put it in a later chunk, scanned by the threads before it is reached (an empty
        // embedding is only that error on the first row, which fixes the dimension).
        const ahead = what === 'an empty embedding' ? 0 : 30;
        const lead = Array.from({ length: ahead }, () => `${row([1, 2])}\n`).join('');
        const p = file('bad.jsonl', `${lead}${text}`);
        let caught: unknown;
        try {
          readEmbedded(p, { workers, chunkBytes: 1024 });
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(JsonlLineError);
        const shifted = new RegExp(message.source.replace(/:(\d+):/, (_, n: string) => `:${Number(n) + ahead}:`));
        expect((caught as Error).message).toMatch(shifted);
        expect((caught as JsonlLineError).file).toBe(p);
      });
    }
  }

  it('gives the same rows on scan threads, across many chunks, as on one thread and as JSON.parse', () => {
    const path = join(dir, 'threads.jsonl');
    writeEmbeddedJsonl(path, { count: 300, dim: 64, seed: 5 });
    // A long first row makes the size estimate short, so the shared vectors grow while the threads run.
    const first = row(
      Array.from({ length: 64 }, (_, i) => i / 3),
      true,
      `,"pad":"${'x'.repeat(20_000)}"`,
    );
    const text = `${first}\n\n${readFileSync(path, 'utf8')}`;
    writeFileSync(path, text);
    const one = readEmbedded(path, { workers: 0 });
    const json = readEmbedded(path, { parser: 'json' });
    for (const chunkBytes of [1024, 5000, 1 << 16]) {
      const threaded = readEmbedded(path, { workers: 2, chunkBytes });
      expect(threaded.count).toBe(301);
      expect(threaded.vectors.every((v, k) => Object.is(v, json.vectors[k]))).toBe(true);
      expect(threaded.vectors.length).toBe(json.vectors.length);
      expect(threaded.rows).toEqual(one.rows);
      expect(Array.from(threaded.passing)).toEqual(Array.from(json.passing));
      expect(Array.from(threaded.lineNumber)).toEqual(Array.from(one.lineNumber));
      expect(threaded.lineNumber[1]).toBe(3);
    }
  });

  it('passes each row to validateRow and reports its rejection at the line', () => {
    const p = file('hook.jsonl', `${row([1, 2])}\n${row([3, 4])}\n`);
    const seen: number[] = [];
    expect(() =>
      readEmbedded(p, {
        validateRow: (r, line) => {
          expect(r).not.toHaveProperty('embedding');
          seen.push(line);
          if (line === 2) throw new Error('conversation.messages: too short');
        },
      }),
    ).toThrow(/hook\.jsonl:2: conversation\.messages: too short/);
    expect(seen).toEqual([1, 2]);
  });

  it('names a missing file with the hint, and rejects an empty file unless allowed', () => {
    expect(() => readEmbedded(join(dir, 'nope.jsonl'), { missingHint: 'run stage 5 first' })).toThrow(
      /nope\.jsonl: not found — run stage 5 first/,
    );
    const empty = file('empty.jsonl', '\n\n');
    expect(() => readEmbedded(empty)).toThrow(/empty, expected at least one JSONL row/);
    expect(readEmbedded(empty, { allowEmpty: true }).count).toBe(0);
  });
});
