// The diversity measures themselves, on words and vectors already in memory: distinct-n, repeated openings and the
// mean similarity of each vector to its nearest neighbour. src/report/diversity.ts feeds them from the artifacts.

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

/** Lower-cased words, punctuation dropped: "Quick one, I need THIS now!" → quick one i need this now. */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

export interface Distinct {
  /** Words counted (the denominator of distinct-1). */
  words: number;
  /** Distinct words ÷ words; 0 when there are none. */
  distinct1: number;
  /** Distinct pairs of neighbouring words in one message ÷ such pairs; 0 when there are none. */
  distinct2: number;
}

// A word's id times this plus the next word's id names a bigram exactly, below 2^52 while the vocabulary is under
// 2^26 words (Map, which holds the vocabulary, stops at 2^24 anyway).
const BIGRAM_BASE = 2 ** 26;

/** Corpus-level distinct-1 and distinct-2 (Li et al. 2016): bigrams do not cross from one message to the next. */
export class DistinctCounter {
  private readonly vocabulary = new Map<string, number>();
  private readonly bigrams = new IntegerSet();
  private unigrams = 0;
  private pairs = 0;

  add(tokens: readonly string[]): void {
    let previous = -1;
    for (const token of tokens) {
      let id = this.vocabulary.get(token);
      if (id === undefined) {
        id = this.vocabulary.size;
        this.vocabulary.set(token, id);
      }
      this.unigrams++;
      if (previous >= 0) {
        this.pairs++;
        this.bigrams.add(previous * BIGRAM_BASE + id);
      }
      previous = id;
    }
  }

  result(): Distinct {
    return {
      words: this.unigrams,
      distinct1: this.unigrams ? this.vocabulary.size / this.unigrams : 0,
      distinct2: this.pairs ? this.bigrams.size / this.pairs : 0,
    };
  }
}

/** How many words make an opening phrase. */
export const OPENING_WORDS = 5;

/** Counts each message's first five words (the whole message when shorter). */
export class OpeningCounter {
  private readonly counts = new Map<string, number>();
  /** Messages with at least one word. */
  messages = 0;

  add(tokens: readonly string[]): void {
    if (!tokens.length) return;
    this.messages++;
    const phrase = tokens.slice(0, OPENING_WORDS).join(' ');
    this.counts.set(phrase, (this.counts.get(phrase) ?? 0) + 1);
  }

  /** The `n` phrases that open the most messages, most first (ties alphabetically); only phrases used twice or more. */
  top(n: number): Array<{ phrase: string; count: number }> {
    return [...this.counts]
      .filter(([, count]) => count > 1)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, n)
      .map(([phrase, count]) => ({ phrase, count }));
  }
}

/**
 * The mean, over the vectors, of the cosine similarity to the most similar other vector: near 1 when every
 * conversation has a near-copy, lower when they spread out. Exact, n²/2 dot products; undefined for fewer than two.
 */
export function meanNearestNeighbour(vectors: readonly Float32Array[]): number | undefined {
  const n = vectors.length;
  if (n < 2) return undefined;
  const norms = vectors.map((v) => Math.sqrt(dot(v, v)));
  const best = new Float64Array(n).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const scale = norms[i]! * norms[j]!;
      const similarity = scale > 0 ? dot(vectors[i]!, vectors[j]!) / scale : 0;
      if (similarity > best[i]!) best[i] = similarity;
      if (similarity > best[j]!) best[j] = similarity;
    }
  }
  return best.reduce((a, b) => a + b, 0) / n;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) s += a[k]! * b[k]!;
  return s;
}

/**
 * A set of integers in [0, 2^52) in one Float64Array, open addressing with linear probing: 16 bytes an entry at
 * most, where V8's Set boxes numbers above 2^31 and stops at 2^24 entries (a 100,000-conversation run has millions
 * of distinct bigrams).
 */
export class IntegerSet {
  private slots = new Float64Array(1 << 12).fill(-1);
  size = 0;

  add(key: number): void {
    if (2 * (this.size + 1) > this.slots.length) this.grow();
    if (place(this.slots, key)) this.size++;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Float64Array(old.length * 2).fill(-1);
    for (const key of old) if (key >= 0) place(this.slots, key);
  }
}

/** Puts `key` in its slot; false when it was there already. */
function place(slots: Float64Array, key: number): boolean {
  const mask = slots.length - 1;
  let h = Math.imul((key >>> 0) ^ Math.imul(Math.floor(key / 2 ** 32), 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  for (let i = h & mask; ; i = (i + 1) & mask) {
    const slot = slots[i]!;
    if (slot === key) return false;
    if (slot < 0) {
      slots[i] = key;
      return true;
    }
  }
}
