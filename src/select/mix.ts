// The sampled mix of a set of conversations (persona, style, emotion, turns, system prompt) against its targets.

/** One sampled dimension: its target share per value (summing to 1) and the value of each candidate. */
export interface MixDimension {
  key: string;
  target: Record<string, number>;
}

export type MixCounts = Record<string, Record<string, number>>;

/**
 * The targets a selection balances against. A dimension whose configured values none of the rows carry (a run made
 * with another domain file, or before system prompts were recorded) is compared with an equal share of the values seen.
 */
export function effectiveTargets(dimensions: MixDimension[], values: Array<Array<string | undefined>>): MixDimension[] {
  return dimensions.map((d, k) => {
    const seen = new Set(values.map((v) => v[k]).filter((v): v is string => v !== undefined));
    if (!seen.size || [...seen].some((v) => v in d.target)) return d;
    return { key: d.key, target: Object.fromEntries([...seen].map((v) => [v, 1 / seen.size])) };
  });
}

export function mixCounts(dimensions: MixDimension[], rows: Array<Array<string | undefined>>): MixCounts {
  const out: MixCounts = Object.fromEntries(dimensions.map((d) => [d.key, {} as Record<string, number>]));
  for (const row of rows)
    dimensions.forEach((d, k) => {
      const v = row[k];
      if (v !== undefined) out[d.key]![v] = (out[d.key]![v] ?? 0) + 1;
    });
  return out;
}

/** Total variation distance of each dimension's shares from its target: 0 is on target, 1 is as far as it gets. */
export function mixDistance(dimensions: MixDimension[], counts: MixCounts): Record<string, number> {
  return Object.fromEntries(
    dimensions.map((d) => {
      const c = counts[d.key] ?? {};
      const total = Object.values(c).reduce((a, b) => a + b, 0);
      if (!total) return [d.key, 0];
      const keys = new Set([...Object.keys(d.target), ...Object.keys(c)]);
      const tvd = [...keys].reduce((a, k) => a + Math.abs((c[k] ?? 0) / total - (d.target[k] ?? 0)), 0) / 2;
      return [d.key, Math.round(tvd * 1000) / 1000];
    }),
  );
}
