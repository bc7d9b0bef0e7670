// The greedy walk over precomputed neighbour pairs, in visit order.
import type { Removal } from './reference.js';

/**
 * The greedy walk over precomputed neighbour pairs: in visit order, a row is removed when some already-kept row is
 * a neighbour; it names the neighbour with the highest similarity, ties going to the one visited first.
 */
export function resolveGreedy(
  n: number,
  order: Int32Array,
  pairs: number[],
  sims: number[],
): { isKept: Uint8Array; removed: Removal[] } {
  const rank = new Int32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]] = r;
  // Each pair is only ever needed from its later-visited end.
  const start = new Int32Array(n + 1);
  for (let k = 0; k < sims.length; k++) {
    const [a, b] = [pairs[2 * k], pairs[2 * k + 1]];
    start[(rank[a] > rank[b] ? a : b) + 1]++;
  }
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const fill = start.slice(0, n);
  const nb = new Int32Array(sims.length);
  const ns = new Float64Array(sims.length);
  for (let k = 0; k < sims.length; k++) {
    const [a, b] = [pairs[2 * k], pairs[2 * k + 1]];
    const [late, early] = rank[a] > rank[b] ? [a, b] : [b, a];
    nb[fill[late]] = early;
    ns[fill[late]++] = sims[k];
  }
  const isKept = new Uint8Array(n);
  const removed: Removal[] = [];
  for (let r = 0; r < n; r++) {
    const i = order[r];
    let best = -1;
    let bestSim = -Infinity;
    for (let e = start[i]; e < start[i + 1]; e++) {
      const j = nb[e];
      if (!isKept[j]) continue;
      const s = ns[e];
      if (s > bestSim || (s === bestSim && rank[j] < rank[best])) {
        best = j;
        bestSim = s;
      }
    }
    if (best < 0) isKept[i] = 1;
    else removed.push({ index: i, duplicateOf: best, similarity: bestSim });
  }
  return { isKept, removed };
}
