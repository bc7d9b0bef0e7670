// Stage 7's choice of the K training conversations: most facts covered first, then the sampled mix nearest its
// targets, then the fewest near-duplicates; deterministic for a given input.
import { effectiveTargets, type MixDimension } from './mix.js';

export interface Candidate {
  /** Facts the conversation's source pairs come from. */
  facts: string[];
  /** Its value in each mix dimension, in the order of the dimensions passed (undefined: not recorded). */
  mix: Array<string | undefined>;
  /**
   * How crowded its neighbourhood is: near-copies stage 6 removed in its favour (their count, and the highest
   * similarity as a fraction). Lower is preferred when coverage and mix tie.
   */
  crowd: number;
}

/** Row numbers (into `candidates`) of the chosen K, in input order. */
export function selectConversations(candidates: Candidate[], k: number, dimensions: MixDimension[]): number[] {
  if (k >= candidates.length) return candidates.map((_, i) => i);
  const targets = effectiveTargets(
    dimensions,
    candidates.map((c) => c.mix),
  );
  const mix = new MixState(targets);
  const chosen = new Set<number>();
  coverFacts(candidates, k, mix, chosen);
  balanceMix(candidates, k, mix, chosen);
  return [...chosen].sort((a, b) => a - b);
}

/** The first K in input order: what `--select first` takes, and what a selection is compared with. */
export function firstK(candidates: Candidate[], k: number): number[] {
  return candidates.slice(0, k).map((_, i) => i);
}

/** Distinct facts the rows cover. */
export function factsCovered(candidates: Candidate[], rows: number[]): number {
  return new Set(rows.flatMap((i) => candidates[i]!.facts)).size;
}

class MixState {
  private readonly counts: Array<Map<string, number>>;
  size = 0;

  constructor(private readonly dims: MixDimension[]) {
    this.counts = dims.map(() => new Map());
  }

  /** How much taking a conversation with these values moves the mix towards its targets (higher is better). */
  gain(values: Array<string | undefined>): number {
    let g = 0;
    this.dims.forEach((d, k) => {
      const v = values[k];
      if (v === undefined) return;
      // Its value's shortfall against the target share at the next size: positive when under-represented.
      g += (d.target[v] ?? 0) * (this.size + 1) - (this.counts[k]!.get(v) ?? 0);
    });
    return g;
  }

  add(values: Array<string | undefined>): void {
    values.forEach((v, k) => {
      if (v !== undefined) this.counts[k]!.set(v, (this.counts[k]!.get(v) ?? 0) + 1);
    });
    this.size++;
  }
}

// Candidates with the same coverage gain that are weighed against each other by their mix gain: enough to balance
// the mix while it chooses, few enough that a step costs little.
const TIE_POOL = 32;

/**
 * Greedy maximum coverage, lazily evaluated (a candidate's gain only falls as facts are covered, so a popped
 * candidate whose recomputed gain still tops the heap is the best one): the classic 1 − 1/e approximation.
 */
function coverFacts(candidates: Candidate[], k: number, mix: MixState, chosen: Set<number>): void {
  const covered = new Set<string>();
  const gainOf = (i: number) => candidates[i]!.facts.reduce((n, f) => n + (covered.has(f) ? 0 : 1), 0);
  const heap = new Heap<{ i: number; gain: number }>(
    (a, b) => b.gain - a.gain || candidates[a.i]!.crowd - candidates[b.i]!.crowd || a.i - b.i,
  );
  for (let i = 0; i < candidates.length; i++) heap.push({ i, gain: new Set(candidates[i]!.facts).size });
  while (chosen.size < k && heap.size) {
    const pool: Array<{ i: number; gain: number }> = [];
    let best = 0;
    while (heap.size && pool.length < TIE_POOL) {
      const top = heap.peek()!;
      if (top.gain < best || top.gain === 0) break;
      heap.pop();
      const fresh = gainOf(top.i);
      if (fresh === top.gain && fresh >= best) {
        best = fresh;
        pool.push(top);
      } else if (fresh > 0) heap.push({ i: top.i, gain: fresh });
    }
    if (!pool.length) return;
    let pick = pool[0]!;
    for (const e of pool) {
      const d = mix.gain(candidates[e.i]!.mix) - mix.gain(candidates[pick.i]!.mix);
      if (
        d > 1e-9 ||
        (Math.abs(d) <= 1e-9 &&
          (candidates[e.i]!.crowd < candidates[pick.i]!.crowd ||
            (candidates[e.i]!.crowd === candidates[pick.i]!.crowd && e.i < pick.i)))
      )
        pick = e;
    }
    for (const e of pool) if (e !== pick) heap.push(e);
    chosen.add(pick.i);
    mix.add(candidates[pick.i]!.mix);
    for (const f of candidates[pick.i]!.facts) covered.add(f);
  }
}

/**
 * Every fact that can be covered is: the rest of the K go where the mix is furthest below its targets. Candidates
 * with the same values are interchangeable for the mix, so they form one queue (least crowded first) and a step
 * weighs one head per combination of values, not every candidate.
 */
function balanceMix(candidates: Candidate[], k: number, mix: MixState, chosen: Set<number>): void {
  const groups = new Map<string, { values: Array<string | undefined>; rows: number[]; next: number }>();
  candidates.forEach((c, i) => {
    if (chosen.has(i)) return;
    const key = JSON.stringify(c.mix);
    const group = groups.get(key) ?? { values: c.mix, rows: [], next: 0 };
    group.rows.push(i);
    groups.set(key, group);
  });
  const queues = [...groups.values()];
  for (const q of queues) q.rows.sort((a, b) => candidates[a]!.crowd - candidates[b]!.crowd || a - b);
  while (chosen.size < k) {
    let best: (typeof queues)[number] | undefined;
    let bestGain = -Infinity;
    for (const q of queues) {
      if (q.next >= q.rows.length) continue;
      const g = mix.gain(q.values);
      const head = q.rows[q.next]!;
      if (
        g > bestGain + 1e-9 ||
        (Math.abs(g - bestGain) <= 1e-9 && best && precedes(candidates, head, best.rows[best.next]!))
      ) {
        best = q;
        bestGain = g;
      }
    }
    if (!best) return;
    const row = best.rows[best.next++]!;
    chosen.add(row);
    mix.add(best.values);
  }
}

function precedes(candidates: Candidate[], a: number, b: number): boolean {
  return candidates[a]!.crowd < candidates[b]!.crowd || (candidates[a]!.crowd === candidates[b]!.crowd && a < b);
}

/** A binary heap: `before(a, b) < 0` puts a nearer the top. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.before(a[i]!, a[parent]!) >= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
