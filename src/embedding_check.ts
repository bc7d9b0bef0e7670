// What makes an embedding usable: numbers that are finite as float32, the asked-for length, a norm one can divide by.

/*
 * A model's vectors have a norm near 1 (OpenAI's are unit vectors; Gemini's below 3072 dimensions a fraction of 1).
 * A norm below this one is an all-zero or broken vector: normalising it would divide by (almost) nothing, and its
 * values sit in float32's denormals (below 1.2e-38), where precision is gone.
 */
const MIN_NORM = 1e-12;

/**
 * Why a vector cannot be used, or undefined. Values are judged as float32, the precision every stage keeps them in:
 * 1e308 is Infinity there, 1e-320 is 0. The squares of float32 values cannot overflow a double's sum.
 */
export function vectorProblem(vector: ArrayLike<unknown>, dimensions?: number): string | undefined {
  if (dimensions !== undefined && vector.length !== dimensions)
    return `expected ${dimensions} dimensions, got ${vector.length}`;
  let sum = 0;
  for (let i = 0; i < vector.length; i++) {
    const raw = vector[i];
    if (typeof raw !== 'number')
      return `expected a number at [${i}], got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`;
    const value = Math.fround(raw);
    if (!Number.isFinite(value)) return `${raw} at [${i}] is not a finite float32 (NaN, or beyond ±3.4e38)`;
    sum += value * value;
  }
  const norm = Math.sqrt(sum);
  return norm >= MIN_NORM
    ? undefined
    : norm === 0
      ? 'every value is 0: a zero vector has no direction'
      : `its norm ${norm.toExponential(2)} is too small to normalise (a real embedding's is near 1)`;
}

/** The same for one request's vectors: `count` of them, each `dimensions` long. */
export function embeddingsProblem(
  vectors: ArrayLike<unknown>[],
  count: number,
  dimensions: number,
): string | undefined {
  if (vectors.length !== count) return `asked for ${count} embeddings, got ${vectors.length}`;
  for (const [i, vector] of vectors.entries()) {
    const problem =
      Array.isArray(vector) || ArrayBuffer.isView(vector)
        ? vectorProblem(vector, dimensions)
        : `expected an array, got ${JSON.stringify(vector)}`;
    if (problem) return `embedding ${i}: ${problem}`;
  }
  return undefined;
}
