import { describe, expect, it } from 'vitest';
import { minhashDedup, optimalBands } from '../src/dedup/minhash.js';

/** An independent brute-force reference: string shingle sets, every visited text against every kept one. */
function bruteForce(texts: string[], passing: number[], threshold: number, k = 3) {
  const sets = texts.map((t) => {
    const words = t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const out = new Set<string>();
    if (words.length > 0 && words.length < k) out.add(words.join(' '));
    for (let i = 0; i + k <= words.length; i++) out.add(words.slice(i, i + k).join(' '));
    return out;
  });
  const jac = (a: Set<string>, b: Set<string>) => {
    if (!a.size || !b.size) return 0;
    let inter = 0;
    for (const x of a) if (b.has(x)) inter++;
    return inter / (a.size + b.size - inter);
  };
  const order = [...texts.keys()].sort((a, b) => passing[b] - passing[a] || a - b);
  const kept: number[] = [];
  const removed: { index: number; duplicateOf: number; similarity: number }[] = [];
  for (const i of order) {
    let best = -1;
    let bestSim = -1;
    for (const k2 of kept) {
      const s = jac(sets[i], sets[k2]);
      if (s >= threshold && s > bestSim) [best, bestSim] = [k2, s];
    }
    if (best < 0) kept.push(i);
    else removed.push({ index: i, duplicateOf: best, similarity: bestSim });
  }
  return { kept: kept.sort((a, b) => a - b), removed: removed.sort((a, b) => a.index - b.index) };
}

function corpus(seed: number) {
  let s = seed;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const vocab = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}`);
  const text = (len: number) => Array.from({ length: len }, () => vocab[Math.floor(rand() * vocab.length)]).join(' ');
  const texts: string[] = [];
  const planted: Array<[number, number]> = [];
  for (let i = 0; i < 120; i++) texts.push(text(150 + Math.floor(rand() * 100)));
  // Near copies: one or two words changed in ~200 (Jaccard ≥ 0.94), capitalisation and punctuation changed too.
  for (let c = 0; c < 40; c++) {
    const base = Math.floor(rand() * 120);
    const words = texts[base].split(' ');
    for (let e = 0; e < 1 + (c % 2); e++) words[Math.floor(rand() * words.length)] = 'edited';
    planted.push([texts.length, base]);
    texts.push(words.join(c % 3 === 0 ? ', ' : ' ').toUpperCase());
  }
  // Related but different: the second half of a text replaced (Jaccard ≈ 0.3).
  for (let c = 0; c < 20; c++) {
    const words = texts[c].split(' ');
    texts.push([...words.slice(0, words.length / 2), ...text(words.length / 2).split(' ')].join(' '));
  }
  const passing = texts.map((_, i) => (i % 5 === 0 ? 0 : 1));
  return { texts, planted, passing };
}

describe('minhashDedup', () => {
  it('catches planted near-copies and agrees with brute-force exact Jaccard', () => {
    const { texts, planted, passing } = corpus(7);
    const result = minhashDedup(texts, Uint8Array.from(passing), { threshold: 0.8 });
    const expected = bruteForce(texts, passing, 0.8);
    expect(expected.removed.length).toBeGreaterThanOrEqual(planted.length - 5);
    expect(result.kept).toEqual(expected.kept);
    expect(result.removed).toEqual(expected.removed);
    // Every planted pair ends with one side removed.
    const removed = new Set(result.removed.map((r) => r.index));
    for (const [copy, base] of planted) expect(removed.has(copy) || removed.has(base)).toBe(true);
    // Exact verification: candidates compared far fewer than all pairs.
    expect(result.stats.comparisons).toBeLessThan((texts.length * texts.length) / 20);
  });

  it('does not merge unrelated or half-overlapping texts', () => {
    const { texts, passing } = corpus(11);
    const unrelated = texts.slice(0, 120);
    const halves = texts.slice(160);
    const result = minhashDedup([...unrelated, ...halves], Uint8Array.from(passing.slice(0, 140)), { threshold: 0.8 });
    expect(result.removed).toEqual([]);
    // At a low threshold the half copies do merge, so the test above is not vacuous.
    const low = minhashDedup([...unrelated, ...halves], Uint8Array.from(passing.slice(0, 140)), { threshold: 0.2 });
    expect(low.removed.length).toBeGreaterThan(5);
  });

  it('visits passing texts first and names the most similar kept text', () => {
    const a = 'the parcel ships from the central warehouse every monday and arrives within five days';
    const b = a.replace('monday', 'tuesday');
    const c = a.replace('five', 'six').replace('monday', 'tuesday');
    const result = minhashDedup([a, b, c], Uint8Array.from([0, 1, 1]), { threshold: 0.5 });
    expect(result.kept).toEqual([1]);
    expect(result.removed.map((r) => [r.index, r.duplicateOf])).toEqual([
      [0, 1],
      [2, 1],
    ]);
    expect(result.removed[0].similarity).toBeCloseTo(bruteForce([a, b, c], [0, 1, 1], 0.5).removed[0].similarity, 12);
  });

  it('treats short texts as one shingle and never merges empty ones', () => {
    const result = minhashDedup(['Hello there', 'hello, THERE!', '', '   ', 'hello'], new Uint8Array(5).fill(1), {
      threshold: 0.8,
    });
    expect(result.removed).toEqual([{ index: 1, duplicateOf: 0, similarity: 1 }]);
    expect(result.kept).toEqual([0, 2, 3, 4]);
  });

  it('rejects bad options with the option named', () => {
    expect(() => minhashDedup(['a'], new Uint8Array(1), { threshold: 0 })).toThrow(/`threshold` to be in \(0, 1\]/);
    expect(() => minhashDedup(['a'], new Uint8Array(1), { threshold: 0.8, numPerm: 0 })).toThrow(/`numPerm`/);
    expect(() => minhashDedup(['a'], new Uint8Array(2), { threshold: 0.8 })).toThrow(
      /`passing` to hold 1 flags, got 2/,
    );
  });
});

describe('optimalBands', () => {
  it('finds pairs at the threshold with high probability and rarely proposes dissimilar ones', () => {
    expect(optimalBands(0.8, 128)).toEqual({ bands: 16, rows: 8 });
    for (const t of [0.7, 0.8, 0.9]) {
      const { bands, rows } = optimalBands(t, 128);
      expect(bands * rows).toBeLessThanOrEqual(128);
      const p = (s: number) => 1 - (1 - s ** rows) ** bands;
      expect(p(t)).toBeGreaterThan(0.85);
      expect(p(Math.min(1, t + 0.1))).toBeGreaterThan(0.99);
      expect(p(t - 0.4)).toBeLessThan(0.05);
    }
    // Equal weights (the datasketch default) put the threshold low on the curve.
    const even = optimalBands(0.8, 128, 0.5, 0.5);
    expect(1 - (1 - 0.8 ** even.rows) ** even.bands).toBeLessThan(0.5);
  });
});
