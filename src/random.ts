// A small seeded random generator, so a run with the same seed samples the same conversations.

/** Four well-mixed 32-bit words from one seed (splitmix32): the starting state of an sfc32 generator. */
export function splitmix32State(seed: number): [number, number, number, number] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  return [next(), next(), next(), next()];
}

/** The largest seed: every integer 0 … 2³²−1 starts its own stream. */
export const MAX_SEED = 0xffffffff;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 takes 32 bits: a seed outside them would wrap onto another seed's stream (2³² and 0 alike).
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED)
      throw new RangeError(`Expected a seed that is an integer from 0 to ${MAX_SEED}, got ${seed}`);
    // sfc32 seeded through splitmix32: fast, well distributed, and identical on every platform.
    [this.a, this.b, this.c, this.d] = splitmix32State(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  choice<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Picks a key of a weight table (weights need not sum to 1). */
  weighted<K extends string | number>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as Array<[string, number]>;
    const total = entries.reduce((n, [, w]) => n + w, 0);
    let r = this.next() * total;
    for (const [key, weight] of entries) {
      r -= weight;
      if (r < 0) return coerce(key, weights) as K;
    }
    return coerce(entries[entries.length - 1]![0], weights) as K;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** k distinct items, in sampled order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    for (let i = 0; i < Math.min(k, pool.length); i++) {
      const j = i + this.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      out.push(pool[i]!);
    }
    return out;
  }
}

// Object keys are strings; a numeric table (turns) gets its numbers back.
function coerce(key: string, weights: object): string | number {
  return Object.keys(weights).every((k) => /^\d+$/.test(k)) ? Number(key) : key;
}
