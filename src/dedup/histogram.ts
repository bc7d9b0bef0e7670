// A text histogram of the similarities of removed pairs, from the threshold up to 1.

export function similarityHistogram(
  values: number[],
  threshold: number,
  bins = 5,
): { bins: Array<{ from: number; to: number; count: number }>; text: string } {
  const width = (1 - threshold) / bins || 1;
  const out = Array.from({ length: bins }, (_, i) => ({
    from: threshold + i * width,
    to: threshold + (i + 1) * width,
    count: 0,
  }));
  for (const v of values) out[Math.min(bins - 1, Math.max(0, Math.floor((v - threshold) / width)))]!.count++;
  const max = Math.max(1, ...out.map((b) => b.count));
  const text = out
    .map(
      (b) =>
        `  ${b.from.toFixed(3)}–${b.to.toFixed(3)}  ${String(b.count).padStart(6)}  ${'█'.repeat(Math.round((30 * b.count) / max))}`,
    )
    .join('\n');
  return {
    bins: out.map((b) => ({ from: Number(b.from.toFixed(4)), to: Number(b.to.toFixed(4)), count: b.count })),
    text,
  };
}
